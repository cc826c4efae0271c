"""What is recorded at each step of a side's run: API responses, table scans, outbound calls, logs, invocations."""

from __future__ import annotations

import copy
import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

from boto3.dynamodb.types import TypeDeserializer

from drs_parity.world.functions import Invocation

_DESERIALIZER = TypeDeserializer()
RoleOf = Callable[[str], str]  # physical function name -> role name from the system description


@dataclass
class ApiRecord:
    method: str
    path: str  # as requested: real ids, query string appended
    status: int
    body: Any
    console: bool = False  # a console read the harness issues after every step, not part of the scenario

    def to_dict(self) -> dict[str, Any]:
        return copied(self)


@dataclass
class StepCapture:
    index: int
    name: str
    kind: str
    time: int
    api: list[dict[str, Any]] = field(default_factory=list)
    # a step after which nothing wrote holds the previous step's very lists (run.table_scans): captures are read-only
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[dict[str, Any]] = field(default_factory=list)
    until: dict[str, Any] | None = None  # until steps only: outcome met|unmet, at, waited, status
    # sides with state machines only: machine logical id -> [{name, status, statesPassed, error}], oldest first
    state_machines: dict[str, list[dict[str, Any]]] | None = None
    # invocation records Lambda sent to on-success/on-failure destinations during the step (only when there are)
    destinations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.keyed(copied(self))

    def shared_dict(self) -> dict[str, Any]:
        """to_dict()'s dict, holding the step's own lists and records rather than copies of them."""
        return self.keyed({spec.name: getattr(self, spec.name) for spec in fields(self)})

    def keyed(self, result: dict[str, Any]) -> dict[str, Any]:
        """The step's fields (a dict of them by field name) as a timeline keys them: `until` and `destinations` only
        when set, `stateMachines` last when the side has state machines."""
        if self.until is None:
            del result["until"]
        if not self.destinations:
            del result["destinations"]
        machines = result.pop("state_machines")
        if machines is not None:
            result["stateMachines"] = machines
        return result


@dataclass(frozen=True)
class Stop:
    """Where and why a side stopped early: the system under test refused a request the scenario needs (a non-2xx
    answer, or a 2xx without the id it had to return). A result of the system, compared like any other."""

    step: int  # the step that could not be completed (a setup refused is step 0, captured up to the refusal)
    name: str  # that step's label
    reason: str  # one line: what was needed, the request, its status and body
    response_step: int  # the step whose captured `api` list holds the refusing response
    response_index: int  # its position in that list

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "name": self.name, "reason": self.reason,
                "response": {"step": self.response_step, "api": self.response_index}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Stop | None:
        """The stop a timeline's `stopped` holds (None: the side ran every step)."""
        if not data:
            return None
        response = data.get("response") or {}
        return cls(int(data["step"]), str(data.get("name", "")), str(data.get("reason", "")),
                   int(response.get("step", data["step"])), int(response.get("api", 0)))


@dataclass
class Timeline:
    side: str
    scenario: str
    backend: str
    clock_start: int | None = None  # virtual time when the run began (the normaliser's time origin)
    steps: list[StepCapture] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # "group:KEY" / "plan:KEY" / "execution:N" -> generated id
    current_execution: str | None = None
    stopped: Stop | None = None  # set when the system refused what the scenario needs; the steps are those so far

    def to_dict(self) -> dict[str, Any]:
        with collector_paused():  # a long run's copy is a million new containers, none of them garbage
            return self.with_steps([step.to_dict() for step in self.steps])

    def shared_dict(self) -> dict[str, Any]:
        """to_dict()'s value without its copy: the steps' dicts hold the captured lists and records themselves, for a
        reader that changes nothing (the gate's normalising, doctor and diff): a 500-server side's copy is MBs."""
        return self.with_steps([step.shared_dict() for step in self.steps])

    def with_steps(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """The timeline's fields around its `steps` (dicts), as the capture schema keys them."""
        result = {
            "side": self.side, "scenario": self.scenario, "backend": self.backend,
            "clockStart": self.clock_start, "ids": dict(self.ids),
            "currentExecution": self.current_execution, "steps": steps,
        }
        if self.stopped is not None:  # only on a side that stopped, so a complete run's capture is unchanged
            result["stopped"] = self.stopped.to_dict()
        return result

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=plain_value)


# -- copies ---------------------------------------------------------------------------------------------------------
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes})


def copied(value: Any) -> Any:
    """What dataclasses.asdict builds (dataclasses as dicts, new containers all the way down), sharing the leaves
    that cannot change instead of deep-copying each one: asdict was a fifth of a capture on a long run."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {copied(key): copied(item) for key, item in value.items()}
    if kind is list:
        return [copied(item) for item in value]
    if kind is tuple:
        return tuple(copied(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return {spec.name: copied(getattr(value, spec.name)) for spec in fields(value)}
    return copy.deepcopy(value)  # anything else (a subclass of a container, a Decimal) as asdict copies it


@contextmanager
def collector_paused() -> Iterator[None]:
    """CPython's cycle collector paused while many containers, none in a cycle, are built (a timeline's copy, its
    normalising and diffing): each full collection would walk the whole heap (the world's moto models, the memos)
    again and again as it grows, three quarters of a 12-hour timeline's copy. Resumed as it was, even on error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- plain values ---------------------------------------------------------------------------------------------------
_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None)})  # exact types plain_value returns as they are


def plain_value(value: Any) -> Any:
    """DynamoDB-deserialised values as plain JSON-able python: Decimal -> int/float, sets -> sorted lists."""
    kind = type(value)  # the common cases first, by exact type: a step's records are thousands of leaves
    if kind in _PLAIN_LEAVES:
        return value
    if kind is dict:
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain_value(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return plain_value(value.value)
    return value


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """One DynamoDB-JSON item ({"a": {"S": "x"}}) as plain python."""
    return {key: plain_value(_DESERIALIZER.deserialize(attribute)) for key, attribute in item.items()}


# -- tables ---------------------------------------------------------------------------------------------------------
def scan_table(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table (all pages), plain python, in scan order."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        items.extend(plain_item(item) for item in page.get("Items", ()))
    return items


def scan_tables(dynamodb: Any, tables: Mapping[str, str], in_process: tuple[str, str] | None = None
                ) -> dict[str, list[dict[str, Any]]]:
    """logical table name -> items, for every table of the side (`tables`: logical name -> physical name).

    `in_process` = (account id, region) of an in-process moto world: the items are then read from moto's
    model directly, in the order moto's Scan returns them, skipping moto's costly response serialisation.
    """
    read = (lambda name: moto_table_items(*in_process, name)) if in_process else (
        lambda name: scan_table(dynamodb, name))
    return {name: read(physical) for name, physical in sorted(tables.items())}


def moto_table_items(account_id: str, region: str, table_name: str) -> list[dict[str, Any]]:
    """Every item of an in-process moto table, plain python, in moto's scan order."""
    # optional heavy import (~0.7 s): only an in-process moto world needs it; moto-server, LocalStack and reading
    # timelines never do (the world module imports moto lazily too)
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account_id][region].get_table(table_name)
    return [plain_item(item.to_json()["Attributes"]) for item in table.all_items()]


def moto_first_item(account_id: str, region: str, table_name: str, key: tuple[str, str]) -> dict[str, Any] | None:
    """The first item (in key order) of one partition of an in-process moto table, as `Query(KeyConditionExpression=
    "<name> = :v", Limit=1, ConsistentRead=True)` answers it (`key`: the hash key's name and string value), read
    through moto's own query without the request and its answer on the wire (two thirds of a 6 ms read)."""
    from moto.dynamodb.models import dynamodb_backends  # as above

    name, value = key
    items, _, _ = dynamodb_backends[account_id][region].query(
        table_name, {"S": value}, None, [], 1, None, True, None, consistent_read=True,
        hash_key_conditions=[(name, {"S": value})])
    return plain_item(items[0].to_json()["Attributes"]) if items else None


# -- invocations ----------------------------------------------------------------------------------------------------
@dataclass
class InvocationCapture:
    calls: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[dict[str, Any]] = field(default_factory=list)

    def add(self, invocations: Iterable[Invocation], role_of: RoleOf, console: bool) -> None:
        for invocation in invocations:
            role = role_of(invocation.function)
            self.invocations.append(invocation_record(invocation, role, console))
            self.calls.extend(call_record(call, role, console) for call in invocation.calls)
            self.logs.extend(log_record(line, role, console) for line in invocation.logs)


def invocation_record(invocation: Invocation, role: str, console: bool) -> dict[str, Any]:
    # error: the Lambda runtime's {"type", "message"} when the handler raised, else None; a failure keeps its traceback
    record = {"function": role, "trigger": invocation.trigger, "error": plain_value(invocation.error),
              "console": console}
    if invocation.error is not None:
        record["stackTrace"] = list(invocation.stack_trace or [])
    attempt, duplicate = getattr(invocation, "attempt", 1), getattr(invocation, "duplicate", False)
    if attempt > 1 or duplicate:  # Lambda's retry of an async event, or a second delivery of one
        record.update(attempt=attempt, duplicate=duplicate)
    return record


def destination_record(delivery: Mapping[str, Any], role_of: RoleOf) -> dict[str, Any]:
    """An invocation record Lambda sent to a destination: the function by its role, the record as sent."""
    return {**plain_value(dict(delivery)), "function": role_of(delivery["function"])}


def call_record(call: Mapping[str, Any], role: str, console: bool) -> dict[str, Any]:
    record = {key: plain_value(value) for key, value in call.items()}
    record["function"] = role
    record["console"] = console
    return record


def log_record(line: Mapping[str, Any] | str, role: str, console: bool) -> dict[str, Any]:
    """A log line as a dict: a JSON line keeps its fields; a plain line becomes {"message": line}."""
    fields = dict(line) if isinstance(line, Mapping) else {"message": str(line)}
    return {"function": role, **plain_value(fields), "console": console}
