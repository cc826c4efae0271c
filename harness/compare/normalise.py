"""Normalisation of one side's timeline: stable references for ids and times, canonical numbers, keyed records."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

KINDS = ("api", "tables", "calls", "logs", "stateMachines")
# Kinds compared only when both sides have them: a side without state machines has no stateMachines section.
PAIRED_KINDS = ("stateMachines",)
MACHINE_CALLS = "sfn"  # Step Functions calls are compared with the executions, when both sides have machines

# Primary keys of the contract's tables (HASH keys; the range key of execution-history is planId, implied).
CONTRACT_TABLE_KEYS: dict[str, str] = {
    "protection-groups": "groupId",
    "recovery-plans": "planId",
    "execution-history": "executionId",
    "target-accounts": "accountId",
}
# Lists of records compared by key rather than position (field name -> key field).
CONTRACT_LIST_KEYS: dict[str, str] = {"waves": "waveNumber", "serverStatuses": "sourceServerId"}
# A UUID found in these fields names the same thing as the aliased field (so relations keep one reference).
FIELD_ALIASES: dict[str, str] = {"protectionGroupId": "groupId", "nextToken": "executionId"}

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
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
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
WINDOW_BEFORE = 3600  # seconds before the clock start still counted as "this run"
WINDOW_AFTER = 86400  # seconds after the last step


@dataclass(frozen=True)
class NormaliseOptions:
    """What is compared per step and how records are keyed; defaults follow the contract."""

    kinds: tuple[str, ...] = KINDS
    call_services: tuple[str, ...] = ("drs", "ec2", "sts")
    call_fields: tuple[str, ...] = ("region", "params", "error")  # a call to the wrong region is a divergence
    log_fields: tuple[str, ...] = ("level", "executionId")  # the message is the log group key
    table_keys: Mapping[str, str] = field(default_factory=lambda: dict(CONTRACT_TABLE_KEYS))
    list_keys: Mapping[str, str] = field(default_factory=lambda: dict(CONTRACT_LIST_KEYS))


# -- canonical values ------------------------------------------------------------------------------------------------
def canonical_number(value: Any) -> Any:
    """DynamoDB numbers as JSON would show them: integral -> int, others float without trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, float)):
        return value
    if not math.isfinite(value):  # NaN/Infinity have no JSON number form
        return str(value)
    return int(value) if value == int(value) else float(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def walk_values(value: Any, transform: Callable[[Any], Any]) -> Any:
    """Apply `transform` to every leaf of a JSON-like structure (dict keys untouched)."""
    if isinstance(value, dict):
        return {key: walk_values(item, transform) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [walk_values(item, transform) for item in value]
    return transform(value)


# -- stable references -----------------------------------------------------------------------------------------------
class References:
    """Generated id -> `<kind:N>`, numbered per kind in order of first registration."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def get(self, raw: str) -> str | None:
        return self._refs.get(raw)

    def assign(self, raw: str, kind: str) -> str:
        if raw not in self._refs:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._refs[raw] = f"<{kind}:{self._counts[kind]}>"
        return self._refs[raw]

    def mapping(self) -> dict[str, str]:
        return dict(self._refs)


def reference_kind_for_field(field_name: str | None) -> str:
    """The reference kind a UUID gets from the field holding it (`groupIds` list -> `groupId`)."""
    if not field_name:
        return "uuid"
    name = re.sub(r"^.*[^A-Za-z]", "", field_name)  # tag keys: `drs-orchestration:executionId` -> executionId
    name = FIELD_ALIASES.get(name, name)
    if name.endswith("Ids"):
        name = name[:-1]
    return FIELD_ALIASES.get(name, name) if name.endswith("Id") else "uuid"


def register_structured(value: Any, refs: References, field_name: str | None = None) -> None:
    """Pass 1: assign references in traversal order; UUIDs only where a field names them, patterns everywhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            register_structured(item, refs, key)
    elif isinstance(value, (list, tuple)):
        for item in value:
            register_structured(item, refs, field_name)
    elif isinstance(value, str):
        if UUID.fullmatch(value) and reference_kind_for_field(field_name) != "uuid":
            refs.assign(value.lower(), reference_kind_for_field(field_name))
        register_patterns(value, refs)


def register_patterns(text: str, refs: References) -> None:
    for kind, pattern in PATTERN_KINDS:
        for match in pattern.finditer(text):
            refs.assign(match.group(0), kind)


def register_free_text(value: Any, refs: References) -> None:
    """Pass 2: UUIDs no field named get `<uuid:N>`, in traversal order."""
    for text in iter_strings(value):
        for match in UUID.finditer(text):
            refs.assign(match.group(0).lower(), "uuid")


def iter_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from iter_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from iter_strings(item)
    elif isinstance(value, str):
        yield value


def replace_ids(text: str, refs: References) -> str:
    text = GENERATED_NAME.sub(r"<\1>", text)
    text = UUID.sub(lambda m: refs.get(m.group(0).lower()) or m.group(0), text)
    for _, pattern in PATTERN_KINDS:
        text = pattern.sub(lambda m: refs.get(m.group(0)) or m.group(0), text)
    return text


REFERENCE = re.compile(r"^<([A-Za-z]+):(\d+)>$")


def reference_order(text: str) -> tuple[str, int]:
    kind, number = REFERENCE.match(text).groups()  # type: ignore[union-attr]
    return kind, int(number)


def sort_reference_lists(value: Any) -> Any:
    """Lists made only of references are sorted by reference: generated ids sorted by their raw value (as the
    contract asks) come out in a random order once replaced, and that order carries no information."""
    if isinstance(value, dict):
        return {key: sort_reference_lists(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [sort_reference_lists(item) for item in value]
        if items and all(isinstance(item, str) and REFERENCE.match(item) for item in items):
            return sorted(items, key=reference_order)
        return items
    return value


# -- times -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeWindow:
    """Epoch seconds that belong to this run become `<t+S>` relative to the shared clock start."""

    start: int
    end: int

    def contains(self, epoch: float) -> bool:
        return self.start - WINDOW_BEFORE <= epoch <= self.end + WINDOW_AFTER

    def relative(self, epoch: float) -> str:
        offset = int(epoch) - self.start
        return f"<t{'+' if offset >= 0 else '-'}{abs(offset)}>"


def parse_iso(text: str) -> float | None:
    if not ISO_TIME.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # naive times in captures are UTC (the virtual clock is UTC)
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def time_leaf(value: Any, window: TimeWindow) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and window.contains(value):
        return window.relative(value)
    if isinstance(value, str):
        epoch = parse_iso(value)
        if epoch is not None and window.contains(epoch):
            return window.relative(epoch)
    return value


# -- keyed records ---------------------------------------------------------------------------------------------------
def key_records(records: list[Any], key_field: str) -> dict[str, Any] | list[Any]:
    """A list of dicts keyed by `key_field` (stringified); left as a list if any record lacks the key or repeats it."""
    if not all(isinstance(record, dict) and record.get(key_field) is not None for record in records):
        return records
    keyed = {str(record[key_field]): record for record in records}
    if len(keyed) != len(records):
        return records
    return {key: keyed[key] for key in sorted(keyed, key=natural_order)}


def natural_order(key: str) -> tuple[int, int | str]:
    """Wave numbers sort 0, 1, ..., 10; other keys alphabetically."""
    return (0, int(key)) if key.isdigit() else (1, key)


def key_nested_lists(value: Any, list_keys: Mapping[str, str]) -> Any:
    """Every list under a field named in `list_keys` becomes a dict keyed by that record key (recursively)."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for name, item in value.items():
            item = key_nested_lists(item, list_keys)
            if name in list_keys and isinstance(item, list):
                item = key_records(item, list_keys[name])
            result[name] = item
        return result
    if isinstance(value, list):
        return [key_nested_lists(item, list_keys) for item in value]
    return value


def keyed_table(items: list[dict[str, Any]], key_field: str | None) -> dict[str, Any]:
    """Table scan -> {primary key: item}; scan order is irrelevant. Items without the key get `#<n>` by content."""
    keyed: dict[str, Any] = {}
    for item in sorted(items, key=canonical_json):
        key = item.get(key_field) if key_field else None
        name = str(key) if key is not None else f"#{len(keyed)}"
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
    return {name: sorted(group, key=canonical_json) for name, group in sorted(groups.items())}


# -- one step --------------------------------------------------------------------------------------------------------
def masked_sort_key(value: Any) -> str:
    """Sort key independent of generated ids, so references get the same numbers on both sides."""
    text = canonical_json(value)
    text = UUID.sub("<id>", text)
    for kind, pattern in PATTERN_KINDS:
        text = pattern.sub(f"<{kind}>", text)
    return text


def compared_calls(step: Mapping[str, Any], options: NormaliseOptions) -> list[dict[str, Any]]:
    return [call for call in step.get("calls") or [] if call.get("service") in options.call_services]


def machine_calls(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [call for call in step.get("calls") or [] if call.get("service") == MACHINE_CALLS]


def step_sections(step: Mapping[str, Any], options: NormaliseOptions) -> list[Any]:
    """A step's raw parts in canonical traversal order: api, tables (by name, items by content), calls, logs, and
    last (so the others number alike whether a side has them or not) state machine executions and their calls."""
    tables = step.get("tables") or {}
    sections = [
        list(step.get("api") or []),
        [sorted(tables[name], key=masked_sort_key) for name in sorted(tables)],
        sorted(compared_calls(step, options), key=masked_sort_key),
        sorted(step.get("logs") or [], key=masked_sort_key),
    ]
    machines = step.get("stateMachines")
    if machines is not None:
        sections.append([[machines[name] for name in sorted(machines)],
                         sorted(machine_calls(step), key=masked_sort_key)])
    return sections


def register_execution_names(step: Mapping[str, Any], refs: References) -> None:
    """Execution names that are UUIDs (StartExecution without a name) get `<stateMachineExecution:N>`."""
    machines = step.get("stateMachines") or {}
    for name in sorted(machines):
        for record in machines[name]:
            if UUID.fullmatch(str(record.get("name"))):
                refs.assign(str(record["name"]).lower(), "stateMachineExecution")


def machine_section(step: Mapping[str, Any], options: NormaliseOptions) -> dict[str, Any]:
    """Each machine's executions keyed by name, and the Step Functions calls grouped as calls are."""
    machines = step.get("stateMachines") or {}
    section: dict[str, Any] = {name: key_records(list(machines[name]), "name") for name in sorted(machines)}
    section.update(grouped_multiset(machine_calls(step), lambda c: f"{c.get('service')}.{c.get('operation')}",
                                    options.call_fields))
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


def normalise_step(step: Mapping[str, Any], options: NormaliseOptions) -> dict[str, Any]:
    """One step, already id/time-substituted, into the compared shape (plus the function attribution for display)."""
    calls = compared_calls(step, options)
    logs = list(step.get("logs") or [])
    compared: dict[str, Any] = {
        "api": key_nested_lists(api_entries(list(step.get("api") or [])), options.list_keys),
        "tables": {
            name: key_nested_lists(keyed_table(items, options.table_keys.get(name)), options.list_keys)
            for name, items in sorted((step.get("tables") or {}).items())
        },
        "calls": grouped_multiset(calls, lambda c: f"{c.get('service')}.{c.get('operation')}", options.call_fields),
        "logs": grouped_multiset(logs, lambda line: str(line.get("message")), options.log_fields),
    }
    if step.get("stateMachines") is not None:
        compared["stateMachines"] = machine_section(step, options)
    result: dict[str, Any] = {"index": step.get("index"), "name": step.get("name"), "time": step.get("time")}
    result.update({kind: compared[kind] for kind in options.kinds if kind in compared})
    # Display only, never compared: which role made each call / wrote each line.
    result["functions"] = {
        "calls": grouped_multiset(calls, lambda c: f"{c.get('service')}.{c.get('operation')}", ("function",)),
        "logs": grouped_multiset(logs, lambda line: str(line.get("message")), ("function",)),
    }
    return result


# -- the whole timeline ----------------------------------------------------------------------------------------------
def run_window(timeline: Mapping[str, Any], clock_start: int | None) -> TimeWindow:
    times = [int(step["time"]) for step in timeline.get("steps", []) if isinstance(step.get("time"), (int, float))]
    start = clock_start if clock_start is not None else timeline.get("clockStart", min(times, default=0))
    return TimeWindow(start=int(start), end=max(times, default=int(start)))


def normalise_timeline(timeline: Mapping[str, Any], clock_start: int | None = None,
                       options: NormaliseOptions | None = None) -> dict[str, Any]:
    """One side's capture (docs/internals.md schema) -> the normalised timeline the diff compares."""
    options = options or NormaliseOptions()
    window = run_window(timeline, clock_start)
    steps = [walk_values(step, canonical_number) for step in timeline.get("steps", [])]
    refs = References()
    for step in steps:  # numbering follows the canonical traversal, so alike sides get alike numbers
        register_structured(step_sections(step, options), refs)
        register_execution_names(step, refs)
    for step in steps:
        register_free_text(step_sections(step, options), refs)

    def leaf(value: Any) -> Any:
        value = time_leaf(value, window)
        return replace_ids(value, refs) if isinstance(value, str) else value

    normalised = []
    for step in steps:
        substituted = {name: walk_values(part, leaf) for name, part in step.items() if name not in ("index", "name")}
        substituted.update(index=step.get("index"), name=step.get("name"))
        normalised.append(normalise_step(sort_reference_lists(substituted), options))
    return {
        "side": timeline.get("side"),
        "scenario": timeline.get("scenario"),
        "backend": timeline.get("backend"),
        "clockStart": window.start,
        "steps": normalised,
    }
