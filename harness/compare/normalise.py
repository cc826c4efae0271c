"""Normalisation of one side's timeline: the reference preset and transformers applied, keyed records, per step."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from drs_parity.compare.masking import Masks, canonical_json
from drs_parity.compare.paths import VolatileMatcher, volatile_applied
from drs_parity.compare.sharing import ObjectMemo, canonical_number, shared_steps  # canonical_number: re-exported
from drs_parity.compare.substitution import (
    Registration, Substitution, TableKey, TimeWindow, fields_of, key_records, record_key,
)
from drs_parity.compare.transformers import (  # UUID: re-exported
    UUID, FieldAlias, Identifiers, IdPattern, RecordKey, References, Transformers,
)
from drs_parity.run.capture import collector_paused

KINDS = ("api", "tables", "calls", "logs", "stateMachines")
# Kinds compared only when both sides have them: a side without state machines has no stateMachines section.
PAIRED_KINDS = ("stateMachines",)
MACHINE_CALLS = "sfn"  # Step Functions calls are compared with the executions, when both sides have machines
STEP_PARTS = ("index", "name", "time", "api", "tables", "logs", "stateMachines")  # and the calls compared

# Record keys of the contract's tables: a field, or fields joined by "/" (those an item lacks left out). An
# execution's server items share its hash key: they are told apart by wave and server (`<executionId:1>/0/s-1`),
# while its execution item keeps the plain `<executionId:1>`.
CONTRACT_TABLE_KEYS: dict[str, TableKey] = {
    "protection-groups": "groupId",
    "recovery-plans": "planId",
    "execution-history": ("executionId", "waveNumber", "sourceServerId"),
    "target-accounts": "accountId",
}
# Lists of records compared by key rather than position (field name -> key field).
CONTRACT_LIST_KEYS: dict[str, str] = {"waves": "waveNumber", "serverStatuses": "sourceServerId"}
# A UUID found in these fields names the same thing as the aliased field (so relations keep one reference).
FIELD_ALIASES: dict[str, str] = {"protectionGroupId": "groupId", "nextToken": "executionId"}

# Emulator/backend generated ids, each with its fixed reference kind. DNS before IP: the name embeds the address.
PATTERN_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Step Functions task tokens: base64url of "arn:aws:states:..." (the world's interpreter makes them so)
    ("taskToken", re.compile(r"\bYXJuOmF3czpzdGF0ZXM6[A-Za-z0-9_-]+")),
    ("jobId", re.compile(r"\bdrsjob-[0-9a-zA-Z]+\b")),
    ("instanceId", re.compile(r"\bi-[0-9a-f]{8,17}\b")),
    ("dns", re.compile(r"\bip-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}(?:\.[a-z0-9-]+)*\.(?:internal|compute\.internal)\b")),
    ("ip", re.compile(r"\b(?:10\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\b")),
)
# Physical names CloudFormation generates (<stack>-<LogicalId>-<12-13 random>, e.g. role names in an AccessDenied
# message) differ on every deploy and between sides: they become <LogicalId>.
GENERATED_NAME = re.compile(r"\b[a-z0-9][a-z0-9-]*-([A-Z][A-Za-z0-9]*)-[A-Z0-9]{12,13}\b")
# Fields AWS APIs carry opaque pagination tokens in (moto's EC2 NextToken is a random reservation id).
TOKEN_FIELDS = ("NextToken", "nextToken", "Marker", "NextMarker", "ContinuationToken", "NextContinuationToken",
                "StartingToken", "PaginationToken", "ExclusiveStartKey", "LastEvaluatedKey")


# The reference pair's normalisation, as transformers; a team's declarations go on top (Transformers.with_declared).
REFERENCE = Transformers(
    id_patterns=tuple(IdPattern(kind, pattern) for kind, pattern in PATTERN_KINDS),
    aliases=tuple(FieldAlias(name, same_as) for name, same_as in FIELD_ALIASES.items()),
    generated_names=(GENERATED_NAME,),
    tokens=TOKEN_FIELDS,
    table_keys=tuple(RecordKey(name, fields_of(key)) for name, key in CONTRACT_TABLE_KEYS.items()),
    list_keys=tuple(RecordKey(name, fields_of(key)) for name, key in CONTRACT_LIST_KEYS.items()),
)


@dataclass(frozen=True)
class NormaliseOptions:
    """What is compared per step and how it is normalised; defaults follow the contract (the REFERENCE preset)."""

    kinds: tuple[str, ...] = KINDS
    call_services: tuple[str, ...] = ("drs", "ec2", "sts")  # any service's failed calls are compared too
    call_fields: tuple[str, ...] = ("region", "params", "error")  # a call to the wrong region is a divergence
    log_fields: tuple[str, ...] = ("level", "executionId")  # the message is the log group key
    transformers: Transformers = field(default=REFERENCE)

    def with_declared(self, declared: Transformers) -> NormaliseOptions:
        """These options with a team's transformers on top of their own."""
        return replace(self, transformers=self.transformers.with_declared(declared))

    @property
    def table_keys(self) -> dict[str, tuple[str, ...]]:
        return {key.name: key.fields for key in self.transformers.table_keys}

    @property
    def list_keys(self) -> dict[str, tuple[str, ...]]:
        return {key.name: key.fields for key in self.transformers.list_keys}


# -- keyed records ---------------------------------------------------------------------------------------------------
def keyed_table(items: list[dict[str, Any]], key_fields: TableKey | None,
                record_keys: ObjectMemo[str | None] | None = None) -> dict[str, Any]:
    """Table scan -> {record key: item}; scan order is irrelevant. Items without the key get `#<n>` by content.
    `record_keys`: the keys of items seen before (a step repeats most of the table as the same objects)."""
    keys = (record_keys or ObjectMemo()).each(items, lambda item: record_key(item, key_fields))
    if None not in keys and len(set(keys)) == len(keys):  # every item keyed once: content order cannot matter
        return dict(sorted(zip(keys, items)))  # type: ignore[arg-type]
    keyed: dict[str, Any] = {}
    for item in sorted(items, key=canonical_json):
        key = record_key(item, key_fields)
        name = key if key is not None else f"#{len(keyed)}"
        if name in keyed:  # a composite key sharing its hash key: keep both, distinguished by content order
            name = f"{name}#{sum(1 for existing in keyed if existing.startswith(name))}"
        keyed[name] = item
    return dict(sorted(keyed.items()))


def grouped_multiset(records: Iterable[dict[str, Any]], group_of: Callable[[dict[str, Any]], str],
                     fields: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Order-insensitive records grouped by a readable key, each group sorted by canonical JSON."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(group_of(record), []).append({name: record.get(name) for name in fields})
    return {name: sorted(group, key=canonical_json) if len(group) > 1 else group
            for name, group in sorted(groups.items())}


def operation(call: Mapping[str, Any]) -> str:
    return f"{call.get('service')}.{call.get('operation')}"


# -- one step --------------------------------------------------------------------------------------------------------
def compared_calls(step: Mapping[str, Any], options: NormaliseOptions) -> list[dict[str, Any]]:
    """The calls of the compared services, and every failed call of any other service: a failure is never
    plumbing (a Step Functions one included, which the other side, without machines, would never see)."""
    return [call for call in step.get("calls") or []
            if call.get("service") in options.call_services or call.get("error") is not None]


def compared_parts(step: Mapping[str, Any], options: NormaliseOptions) -> dict[str, Any]:
    """What of a raw step normalisation reads: the rest (the calls of no compared service that succeeded, the
    invocations, an until's outcome) never reaches the normalised step, so it is not worked on."""
    parts = {name: step[name] for name in STEP_PARTS if name in step}
    parts["calls"] = [call for call in step.get("calls") or []
                      if call.get("service") in options.call_services or call.get("service") == MACHINE_CALLS
                      or call.get("error") is not None]
    return parts


def machine_calls(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Step Functions calls that succeeded: compared with the machines' executions, when both sides have them."""
    return [call for call in step.get("calls") or []
            if call.get("service") == MACHINE_CALLS and call.get("error") is None]


class Sections:
    """A step's raw parts in canonical traversal order: api, tables (by name, items by content), calls, logs, and
    last (so the others number alike whether a side has them or not) state machine executions and their calls.
    Items are ordered by their text with every generated id masked, so references number alike on both sides."""

    def __init__(self, ids: Identifiers, options: NormaliseOptions) -> None:
        self.masks, self.options = Masks(ids), options

    def ordered(self, records: list[Any]) -> list[Any]:
        if len(records) <= 1:
            return list(records)
        keys = self.masks.keys_of(records)
        return [records[index] for index in sorted(range(len(records)), key=keys.__getitem__)]

    def of(self, step: Mapping[str, Any]) -> list[Any]:
        tables = step.get("tables") or {}
        sections = [
            list(step.get("api") or []),
            [self.ordered(tables[name]) for name in sorted(tables)],
            self.ordered(compared_calls(step, self.options)),
            self.ordered(step.get("logs") or []),
        ]
        machines = step.get("stateMachines")
        if machines is not None:
            sections.append([[machines[name] for name in sorted(machines)], self.ordered(machine_calls(step))])
        return sections


def machine_section(step: Mapping[str, Any], options: NormaliseOptions) -> dict[str, Any]:
    """Each machine's executions keyed by name, and the Step Functions calls grouped as calls are."""
    machines = step.get("stateMachines") or {}
    section: dict[str, Any] = {name: key_records(list(machines[name]), "name") for name in sorted(machines)}
    section.update(grouped_multiset(machine_calls(step), operation, options.call_fields))
    return section


def api_entries(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """API responses keyed by `METHOD path` (a repeated request gets `#2`, `#3`...)."""
    entries: dict[str, Any] = {}
    for call in calls:
        request = f"{call.get('method', '?')} {call.get('path', '?')}"
        name, repeat = request, 1
        while name in entries:
            repeat += 1
            name = f"{request} #{repeat}"
        entries[name] = {"status": call.get("status"), "body": call.get("body")}
    return entries


def normalise_step(step: Mapping[str, Any], options: NormaliseOptions,
                   record_keys: dict[str, ObjectMemo[str | None]] | None = None) -> dict[str, Any]:
    """One step, already id/time-substituted, into the compared shape (plus the function attribution for display).
    `record_keys`: per table, the record keys of items seen in earlier steps."""
    calls = compared_calls(step, options)
    logs = list(step.get("logs") or [])
    table_keys, record_keys = options.table_keys, record_keys if record_keys is not None else {}
    compared: dict[str, Any] = {
        "api": api_entries(list(step.get("api") or [])),
        "tables": {name: keyed_table(items, table_keys.get(name), record_keys.setdefault(name, ObjectMemo()))
                   for name, items in sorted((step.get("tables") or {}).items())},
        "calls": grouped_multiset(calls, operation, options.call_fields),
        "logs": grouped_multiset(logs, lambda line: str(line.get("message")), options.log_fields),
    }
    if step.get("stateMachines") is not None:
        compared["stateMachines"] = machine_section(step, options)
    result: dict[str, Any] = {"index": step.get("index"), "name": step.get("name"), "time": step.get("time")}
    result.update({kind: compared[kind] for kind in options.kinds if kind in compared})
    # Display only, never compared: which role made each call / wrote each line.
    result["functions"] = {
        "calls": grouped_multiset(calls, operation, ("function",)),
        "logs": grouped_multiset(logs, lambda line: str(line.get("message")), ("function",)),
    }
    return result


# -- the whole timeline ----------------------------------------------------------------------------------------------
def run_window(timeline: Mapping[str, Any], clock_start: int | None) -> TimeWindow:
    times = [int(step["time"]) for step in timeline.get("steps", []) if isinstance(step.get("time"), (int, float))]
    start = clock_start if clock_start is not None else timeline.get("clockStart", min(times, default=0))
    return TimeWindow(start=int(start), end=max(times, default=int(start)))


def registered_references(steps: list[Any], options: NormaliseOptions, ids: Identifiers) -> References:
    """Every generated id's reference, numbered in canonical traversal order, so alike sides get alike numbers."""
    refs = References()
    registration, sections = Registration(ids, refs), Sections(ids, options)
    step_sections = [sections.of(step) for step in steps]
    for step, parts in zip(steps, step_sections):
        registration.structured(parts)
        registration.execution_names(step)
    registration.assign_tokens()
    registration.free_text()
    return refs


def substituted(step: Mapping[str, Any], plain: Substitution, keyed: Substitution) -> dict[str, Any]:
    """The step with times and ids replaced; API records and table items also keyed by list keys."""
    result: dict[str, Any] = {}
    for name, part in step.items():
        if name == "api" and isinstance(part, list):
            result[name] = keyed.values(part)
        elif name == "tables" and isinstance(part, dict):
            result[name] = {table: keyed.values(items) for table, items in part.items()}
        elif name not in ("index", "name"):
            result[name] = plain.value(part)
    result.update(index=step.get("index"), name=step.get("name"))
    return result


def normalise_timeline(timeline: Mapping[str, Any], clock_start: int | None = None,
                       options: NormaliseOptions | None = None) -> dict[str, Any]:
    """One side's capture (docs/internals.md schema) -> the normalised timeline the diff compares."""
    options = options or NormaliseOptions()
    window = run_window(timeline, clock_start)
    with collector_paused():
        # canonical numbers; what a step repeats is one object
        steps = shared_steps(compared_parts(step, options) for step in timeline.get("steps", []))
        ids = Identifiers(options.transformers)
        plain = Substitution(window, ids, registered_references(steps, options, ids))
        keyed = plain.keyed(options.list_keys)
        record_keys: dict[str, ObjectMemo[str | None]] = {}
        normalised = [normalise_step(substituted(step, plain, keyed), options, record_keys) for step in steps]
    if options.transformers.volatile_paths:
        matcher = VolatileMatcher(options.transformers.volatile_paths)
        normalised = [volatile_applied(step, matcher, KINDS, options.list_keys) for step in normalised]
    return {
        "side": timeline.get("side"),
        "scenario": timeline.get("scenario"),
        "backend": timeline.get("backend"),
        "clockStart": window.start,
        "steps": normalised,
    }
