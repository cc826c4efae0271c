"""Parses and validates an Amazon States Language definition: states, fields, transitions, retriers and catchers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from drs_parity.errors import InputError
from drs_parity.world.stepfunctions.choice import OPERATORS, parse_timestamp

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_INVOKE_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ALL_ERRORS = "States.ALL"

_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_IO = frozenset({"InputPath", "OutputPath"})
_RESULTS = frozenset({"ResultPath", "ResultSelector", "Retry", "Catch", "Assign"})
# The fields AWS accepts per state type in JSONPath definitions.
FIELDS: Mapping[str, frozenset[str]] = {
    "Pass": _COMMON | _FLOW | _IO | {"Parameters", "ResultPath", "Result", "Assign"},
    "Task": _COMMON | _FLOW | _IO | _RESULTS
    | {"Resource", "Parameters", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
       "Credentials"},
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _FLOW | _IO | _RESULTS | {"Branches", "Parameters"},
    "Map": _COMMON | _FLOW | _IO | _RESULTS
    | {"ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "Parameters", "ItemReader", "ItemBatcher",
       "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
       "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"},
}
_TOP_FIELDS = frozenset({"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"})
_BRANCH_FIELDS = frozenset({"Comment", "StartAt", "States", "QueryLanguage"})
_RETRY_FIELDS = frozenset(
    {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"}
)
_CATCH_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment", "Assign"})
_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
_PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath", "ItemsPath")
_COMBINATORS = frozenset({"And", "Or", "Not"})
_RULE_FIELDS = frozenset({"Variable", "Next", "Comment", "Assign"})
MAX_NAME = 80


class DefinitionError(InputError):
    """A state machine definition AWS would refuse: one line naming the state and the field."""


@dataclass(frozen=True)
class State:
    """One state of a branch: its name, type and fields as written, with Parallel branches and Map processor parsed."""

    name: str
    type: str
    fields: Mapping[str, Any]
    branches: tuple["Branch", ...] = ()
    processor: "Branch | None" = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.fields

    @property
    def next(self) -> str | None:
        return self.fields.get("Next")

    @property
    def end(self) -> bool:
        return self.type in ("Succeed", "Fail") or bool(self.fields.get("End"))

    @property
    def retry(self) -> list[Mapping[str, Any]]:
        return list(self.fields.get("Retry") or [])

    @property
    def catch(self) -> list[Mapping[str, Any]]:
        return list(self.fields.get("Catch") or [])


@dataclass(frozen=True)
class Branch:
    """A set of states with a start: the machine itself, a Parallel branch or a Map item processor."""

    start_at: str
    states: Mapping[str, State]

    def walk(self) -> Iterator[State]:
        """Every state of this branch and of the branches nested in it."""
        for state in self.states.values():
            yield state
            for branch in state.branches + ((state.processor,) if state.processor else ()):
                yield from branch.walk()


@dataclass(frozen=True)
class Definition(Branch):
    """A parsed state machine: the top branch plus the machine's Comment and TimeoutSeconds."""

    comment: str = ""
    timeout_seconds: int | None = None
    source: Mapping[str, Any] = field(default_factory=dict)

    def unsupported(self) -> list[str]:
        """What this definition uses that AWS runs but the harness' interpreter does not (one line each)."""
        return [problem for state in self.walk() for problem in _unsupported(state)]


def parse_definition(source: str | Mapping[str, Any]) -> Definition:
    """The definition parsed from JSON text or a mapping, or DefinitionError with the first problem found."""
    document = _load(source)
    _allowed(document, _TOP_FIELDS, "the definition")
    timeout = document.get("TimeoutSeconds")
    if timeout is not None:
        _positive_int(timeout, "the definition: field 'TimeoutSeconds'")
    comment = document.get("Comment", "")
    branch = _branch(document, "the definition")
    return Definition(branch.start_at, branch.states, comment=comment, timeout_seconds=timeout, source=document)


def _load(source: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as error:
            raise DefinitionError(f"the definition is not JSON: {error}") from None
    if not isinstance(source, Mapping):
        raise DefinitionError("the definition is not a JSON object")
    return source


def _branch(document: Mapping[str, Any], where: str) -> Branch:
    states = document.get("States")
    start_at = document.get("StartAt")
    if not isinstance(states, Mapping) or not states:
        raise DefinitionError(f"{where}: field 'States' must be a non-empty object")
    if not isinstance(start_at, str):
        raise DefinitionError(f"{where}: field 'StartAt' is required and must be a string")
    if start_at not in states:
        raise DefinitionError(f"{where}: field 'StartAt' names '{start_at}', which is not one of its States")
    parsed = {name: _state(name, body) for name, body in states.items()}
    for state in parsed.values():
        for target_field, target in _targets(state):
            if target not in parsed:
                raise DefinitionError(f"state '{state.name}': {target_field} names '{target}', not a state here")
    _reachable(start_at, parsed)
    return Branch(start_at, parsed)


def _state(name: str, body: Any) -> State:
    where = f"state '{name}'"
    if len(name) > MAX_NAME:
        raise DefinitionError(f"{where}: the name is longer than {MAX_NAME} characters")
    if not isinstance(body, Mapping):
        raise DefinitionError(f"{where}: must be a JSON object")
    kind = body.get("Type")
    if kind not in FIELDS:
        raise DefinitionError(f"{where}: field 'Type' must be one of {', '.join(FIELDS)} (got {kind!r})")
    _allowed(body, FIELDS[kind], f"{where} ({kind})")
    _paths(body, where)
    if _FLOW <= FIELDS[kind]:
        _flow(body, where)
    _CHECKS[kind](body, where)
    for key in ("Retry", "Catch"):
        if key in body:
            _handlers(body[key], key, where)
    branches = tuple(_branch(branch, f"{where}: field 'Branches'") for branch in body.get("Branches") or ())
    processor = _processor(body, where) if kind == "Map" else None
    return State(name, kind, body, branches, processor)


def _allowed(body: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in body:
        if key not in allowed:
            raise DefinitionError(f"{where}: field '{key}' is not allowed here")


def _paths(body: Mapping[str, Any], where: str) -> None:
    for key in _PATH_FIELDS:
        value = body.get(key)
        if key in body and value is not None and not (isinstance(value, str) and value.startswith("$")):
            raise DefinitionError(f"{where}: field '{key}' must be a path starting with '$' or null")
    for key in ("Parameters", "ResultSelector", "ItemSelector"):
        if key in body and not isinstance(body[key], Mapping):
            raise DefinitionError(f"{where}: field '{key}' must be a JSON object")


def _flow(body: Mapping[str, Any], where: str) -> None:
    has_next, ends = "Next" in body, body.get("End") is True
    if "End" in body and body["End"] is not True:
        raise DefinitionError(f"{where}: field 'End' must be true when present")
    if has_next == ends:
        raise DefinitionError(f"{where}: needs exactly one of 'Next' or 'End': true")
    if has_next and not isinstance(body["Next"], str):
        raise DefinitionError(f"{where}: field 'Next' must be a state name")


def _check_task(body: Mapping[str, Any], where: str) -> None:
    if not isinstance(body.get("Resource"), str) or not body["Resource"].startswith("arn:"):
        raise DefinitionError(f"{where}: field 'Resource' is required and must be an ARN")
    for key in ("TimeoutSeconds", "HeartbeatSeconds"):
        if key in body and f"{key}Path" in body:
            raise DefinitionError(f"{where}: fields '{key}' and '{key}Path' cannot both be set")
        if key in body:
            _positive_int(body[key], f"{where}: field '{key}'")
    timeout, heartbeat = body.get("TimeoutSeconds"), body.get("HeartbeatSeconds")
    if timeout is not None and heartbeat is not None and heartbeat >= timeout:
        raise DefinitionError(f"{where}: field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'")


def _check_wait(body: Mapping[str, Any], where: str) -> None:
    given = [key for key in _WAIT_FIELDS if key in body]
    if len(given) != 1:
        raise DefinitionError(f"{where}: needs exactly one of {', '.join(_WAIT_FIELDS)}")
    value = body[given[0]]
    if given[0] == "Seconds" and (not _is_int(value) or value < 0):
        raise DefinitionError(f"{where}: field 'Seconds' must be a non-negative integer")
    if given[0] == "Timestamp" and parse_timestamp(value) is None:
        raise DefinitionError(f"{where}: field 'Timestamp' must be an ISO 8601 timestamp")
    if given[0].endswith("Path") and not (isinstance(value, str) and value.startswith("$")):
        raise DefinitionError(f"{where}: field '{given[0]}' must be a path starting with '$'")


def _check_fail(body: Mapping[str, Any], where: str) -> None:
    for key in ("Error", "Cause"):
        if key in body and f"{key}Path" in body:
            raise DefinitionError(f"{where}: fields '{key}' and '{key}Path' cannot both be set")
        for name in (key, f"{key}Path"):
            if name in body and not isinstance(body[name], str):
                raise DefinitionError(f"{where}: field '{name}' must be a string")


def _check_choice(body: Mapping[str, Any], where: str) -> None:
    choices = body.get("Choices")
    if not isinstance(choices, list) or not choices:
        raise DefinitionError(f"{where}: field 'Choices' must be a non-empty list of rules")
    for index, rule in enumerate(choices):
        _rule(rule, f"{where}: Choices[{index}]", top=True)
    if "Default" in body and not isinstance(body["Default"], str):
        raise DefinitionError(f"{where}: field 'Default' must be a state name")


def _rule(rule: Any, where: str, top: bool) -> None:
    if not isinstance(rule, Mapping):
        raise DefinitionError(f"{where}: a choice rule must be a JSON object")
    operators = [key for key in rule if key in OPERATORS or key in _COMBINATORS]
    unknown = [key for key in rule if key not in OPERATORS and key not in _COMBINATORS and key not in _RULE_FIELDS]
    if unknown:
        raise DefinitionError(f"{where}: field '{unknown[0]}' is not a choice rule field")
    if len(operators) != 1:
        raise DefinitionError(f"{where}: needs exactly one comparison or And/Or/Not (got {len(operators)})")
    if top != ("Next" in rule):
        raise DefinitionError(f"{where}: field 'Next' is required on a top-level rule and only there")
    operator = operators[0]
    if operator in _COMBINATORS:
        _combinator(rule, operator, where)
    elif not (isinstance(rule.get("Variable"), str) and rule["Variable"].startswith("$")):
        raise DefinitionError(f"{where}: field 'Variable' is required with '{operator}' and must be a path")


def _combinator(rule: Mapping[str, Any], operator: str, where: str) -> None:
    if "Variable" in rule:
        raise DefinitionError(f"{where}: field 'Variable' is not allowed with '{operator}'")
    inner = rule[operator]
    if operator == "Not":
        _rule(inner, f"{where}.Not", top=False)
        return
    if not isinstance(inner, list) or not inner:
        raise DefinitionError(f"{where}: field '{operator}' must be a non-empty list of rules")
    for index, nested in enumerate(inner):
        _rule(nested, f"{where}.{operator}[{index}]", top=False)


def _check_parallel(body: Mapping[str, Any], where: str) -> None:
    branches = body.get("Branches")
    if not isinstance(branches, list) or not branches:
        raise DefinitionError(f"{where}: field 'Branches' must be a non-empty list")
    for branch in branches:
        if not isinstance(branch, Mapping):
            raise DefinitionError(f"{where}: field 'Branches' must hold JSON objects")
        _allowed(branch, _BRANCH_FIELDS, f"{where}: a branch")


def _check_map(body: Mapping[str, Any], where: str) -> None:
    if ("ItemProcessor" in body) == ("Iterator" in body):
        raise DefinitionError(f"{where}: needs exactly one of 'ItemProcessor' or 'Iterator'")
    if "ItemSelector" in body and "Parameters" in body:
        raise DefinitionError(f"{where}: fields 'ItemSelector' and 'Parameters' cannot both be set")
    if "Items" in body and "ItemsPath" in body:
        raise DefinitionError(f"{where}: fields 'Items' and 'ItemsPath' cannot both be set")
    if "MaxConcurrency" in body and (not _is_int(body["MaxConcurrency"]) or body["MaxConcurrency"] < 0):
        raise DefinitionError(f"{where}: field 'MaxConcurrency' must be a non-negative integer")


def _check_nothing(body: Mapping[str, Any], where: str) -> None:
    """Pass and Succeed have no fields of their own beyond the allowed set."""


_CHECKS = {
    "Pass": _check_nothing,
    "Succeed": _check_nothing,
    "Task": _check_task,
    "Wait": _check_wait,
    "Fail": _check_fail,
    "Choice": _check_choice,
    "Parallel": _check_parallel,
    "Map": _check_map,
}


def _processor(body: Mapping[str, Any], where: str) -> Branch:
    key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
    processor = body[key]
    if not isinstance(processor, Mapping):
        raise DefinitionError(f"{where}: field '{key}' must be a JSON object")
    allowed = _BRANCH_FIELDS | ({"ProcessorConfig"} if key == "ItemProcessor" else set())
    _allowed(processor, frozenset(allowed), f"{where}: field '{key}'")
    return _branch(processor, f"{where}: field '{key}'")


def _handlers(handlers: Any, key: str, where: str) -> None:
    if not isinstance(handlers, list):
        raise DefinitionError(f"{where}: field '{key}' must be a list")
    for index, handler in enumerate(handlers):
        at = f"{where}: {key}[{index}]"
        if not isinstance(handler, Mapping):
            raise DefinitionError(f"{at} must be a JSON object")
        _allowed(handler, _RETRY_FIELDS if key == "Retry" else _CATCH_FIELDS, at)
        _error_equals(handler.get("ErrorEquals"), at, last=index == len(handlers) - 1)
        if key == "Retry":
            _retrier(handler, at)
        elif not isinstance(handler.get("Next"), str):
            raise DefinitionError(f"{at}: field 'Next' is required and must be a state name")


def _error_equals(names: Any, where: str, last: bool) -> None:
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise DefinitionError(f"{where}: field 'ErrorEquals' must be a non-empty list of error names")
    if ALL_ERRORS in names and (len(names) > 1 or not last):
        raise DefinitionError(f"{where}: '{ALL_ERRORS}' must appear alone and in the last handler")


def _retrier(retrier: Mapping[str, Any], where: str) -> None:
    for key in ("IntervalSeconds", "MaxDelaySeconds"):
        if key in retrier:
            _positive_int(retrier[key], f"{where}: field '{key}'")
    attempts = retrier.get("MaxAttempts", 3)
    if not _is_int(attempts) or attempts < 0:
        raise DefinitionError(f"{where}: field 'MaxAttempts' must be a non-negative integer")
    rate = retrier.get("BackoffRate", 2.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 1.0:
        raise DefinitionError(f"{where}: field 'BackoffRate' must be a number of at least 1.0")
    if retrier.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
        raise DefinitionError(f"{where}: field 'JitterStrategy' must be FULL or NONE")


def _targets(state: State) -> Iterator[tuple[str, str]]:
    if state.next is not None:
        yield "field 'Next'", state.next
    if "Default" in state:
        yield "field 'Default'", state.get("Default")
    for index, rule in enumerate(state.get("Choices") or []):
        yield f"Choices[{index}].Next", rule["Next"]
    for index, catcher in enumerate(state.catch):
        yield f"Catch[{index}].Next", catcher["Next"]


def _reachable(start_at: str, states: Mapping[str, State]) -> None:
    seen, todo = {start_at}, [start_at]
    while todo:
        for _, target in _targets(states[todo.pop()]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for name in states:
        if name not in seen:
            raise DefinitionError(f"state '{name}': is not reachable from StartAt '{start_at}'")


def _unsupported(state: State) -> Iterator[str]:
    where = f"state '{state.name}'"
    resource = state.get("Resource")
    if state.type == "Task" and not is_lambda_resource(resource):
        yield f"{where}: Task resource {resource} (the harness runs Lambda tasks only)"
    for key in ("Assign", "Credentials", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath"):
        if key in state:
            yield f"{where}: field '{key}'"
    if state.get("QueryLanguage", "JSONPath") != "JSONPath":
        yield f"{where}: QueryLanguage {state.get('QueryLanguage')}"
    mode = ((state.get("ItemProcessor") or {}).get("ProcessorConfig") or {}).get("Mode", "INLINE")
    if mode != "INLINE":
        yield f"{where}: Map mode {mode}"


def is_lambda_resource(resource: Any) -> bool:
    """Whether the interpreter runs a Task resource: lambda:invoke (optionally with a token) or a function ARN."""
    if not isinstance(resource, str):
        return False
    return resource in (LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT) or is_function_arn(resource)


def is_function_arn(resource: str) -> bool:
    parts = resource.split(":")
    return len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function"


def _positive_int(value: Any, where: str) -> None:
    if not _is_int(value) or value <= 0:
        raise DefinitionError(f"{where} must be a positive integer")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
