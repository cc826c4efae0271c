"""The doctor's reading of a captured timeline: one execution's steps, records, log lines and items."""

from __future__ import annotations

import string
from functools import cached_property
from typing import Any, Callable, Iterator, Mapping

from drs_parity.fixtures.vocabulary import REFERENCE, ChainVocabulary

STATES_SERVICE = "sfn"  # botocore's service id of Step Functions, as captured calls name it


class TimelineView:
    """The parts of a captured timeline (Timeline.to_dict()) the checks ask about, for one execution, read in the
    side's own words (its chain vocabulary)."""

    def __init__(self, timeline: Mapping[str, Any], words: ChainVocabulary = REFERENCE) -> None:
        """The view of `timeline` for its current execution."""
        self.timeline = timeline
        self.words = words
        self.steps: list[Mapping[str, Any]] = list(timeline.get("steps") or [])
        self.execution_id: str | None = timeline.get("currentExecution")
        self.start = self.steps[0].get("time", 0) if self.steps else 0

    def step_label(self, step: Mapping[str, Any]) -> str:
        """`step N (name, t+Ss)` for evidence."""
        return f"step {step.get('index')} ({step.get('name')}, t+{int(step.get('time', 0) - self.start)}s)"

    def records(self, kind: str) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, record) for every record of `kind` (calls, logs, invocations) of every step."""
        for step in self.steps:
            for record in step.get(kind) or ():
                yield step, record

    @cached_property
    def log_messages(self) -> list[str]:
        """Every log message of every step, in order: read once, the checks ask for some of them a dozen times."""
        return [str(record.get("message", "")) for _, record in self.records("logs")]

    def messages(self, predicate: Callable[[str], bool]) -> list[str]:
        """Every log message `predicate` accepts, in order."""
        return list(filter(predicate, self.log_messages))

    def said(self, sentence: str) -> list[str]:
        """Every log line that is the chain's `sentence` (a key of its logs) about this execution (or about none)."""
        words = self.words.log(sentence)
        opening = leading_text(words.template)  # a message not opening with it cannot be the sentence: not matched
        return self.messages(lambda message: message.startswith(opening) and words.about(message, self.execution_id))

    def field(self, level: str, name: str) -> str:
        """The side's name of a contract field of an `execution`, `wave`, `server` or `plan` record."""
        return self.words.fields(level, name) or f"<no {name}>"  # a field the side has none of reads as absent

    def value(self, record: Mapping[str, Any], level: str, name: str) -> Any:
        """A record's value of a contract field, read under the side's name for it."""
        return record.get(self.field(level, name))

    def waves_of(self, item: Mapping[str, Any]) -> list[Any]:
        """An execution item's waves."""
        return list(self.value(item, "execution", "waves") or ())

    def items(self) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, execution item) for every execution item of every step, as the contract reads it: each wave's
        serverStatuses gathered from the execution's server items."""
        return iter(self.read_items)

    @cached_property
    def read_items(self) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
        """items(), gathered once: most checks walk them, and a big plan has a server item per server each step."""
        return [(step, item) for step in self.steps
                for item in executions_as_read((step.get("tables") or {}).get("execution-history") or (), self.words)]

    def item_history(self) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, item) of the current execution's item at every step."""
        return [(step, item) for step, item in self.items()
                if self.value(item, "execution", "executionId") == self.execution_id]

    # -- state machines (steps carry `stateMachines` only on sides whose template has one) ----------------------------
    @property
    def has_state_machine(self) -> bool:
        """Whether the side has a state machine: its steps capture one, or a function called StartExecution."""
        return any(step.get("stateMachines") is not None for step in self.steps) or any(
            call.get("service") == STATES_SERVICE and call.get("operation") == "StartExecution"
            for _, call in self.records("calls"))

    def machine_execution(self) -> tuple[str, dict[str, Any]] | None:
        """(state machine, execution record) of this execution at the last step that captured one: the machine
        execution named after it, else the newest one."""
        for step in reversed(self.steps):
            captured = [(machine, record) for machine, records in (step.get("stateMachines") or {}).items()
                        for record in records]
            if captured:
                named = [entry for entry in captured if entry[1].get("name") == self.execution_id]
                return (named or captured)[-1]
        return None

    def states_calls(self, *operations: str) -> list[dict[str, Any]]:
        """Every Step Functions call of these operations the functions made, in order."""
        return [call for _, call in self.records("calls")
                if call.get("service") == STATES_SERVICE and call.get("operation") in operations]

    def plan_wave_count(self, plan_id: Any) -> int | None:
        """How many waves the plan has (its latest item), None when no step holds it."""
        for step in reversed(self.steps):
            for plan in (step.get("tables") or {}).get("recovery-plans") or ():
                if self.value(plan, "plan", "planId") == plan_id:
                    return len(self.value(plan, "plan", "waves") or ())
        return None


def leading_text(template: str) -> str:
    """The literal text a log sentence's template opens with, before its first placeholder."""
    return next((literal for literal, _, _, _ in string.Formatter().parse(template)), "")


WRITE_COUNTER = "version"  # an execution item's optimistic lock: not a field users see
SERVER_ITEM_KEYS = ("executionId", "planId", "waveNumber")  # where a server item sits, not part of its status


def executions_as_read(items: Any, words: ChainVocabulary = REFERENCE) -> list[dict[str, Any]]:
    """Execution items with their server items (CONTRACT.md "Items": an item of a wave's server, no waves of its
    own) put back into each wave's serverStatuses (kept in the wave, where a system stores them there), sorted by
    sourceServerId; under the side's own names for the waves and their server statuses."""
    servers: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    executions = []
    for item in items:
        if "waves" not in item and "waveNumber" in item and "sourceServerId" in item:
            status = {name: value for name, value in item.items() if name not in SERVER_ITEM_KEYS}
            servers.setdefault((item.get("executionId"), item["waveNumber"]), []).append(status)
        else:  # as GET /executions/{id} shows it: without the write counter (CONTRACT.md "Items": version)
            executions.append({name: value for name, value in item.items() if name != WRITE_COUNTER})
    return [_with_servers(item, servers, words) for item in executions]


def _with_servers(item: dict[str, Any], servers: Mapping[tuple[Any, Any], list[dict[str, Any]]],
                  words: ChainVocabulary) -> dict[str, Any]:
    waves_field, statuses_field = words.fields("execution", "waves"), words.fields("wave", "serverStatuses")
    waves = item.get(waves_field) if waves_field else None
    if not isinstance(waves, list) or statuses_field is None:  # a system whose waves keep no server statuses
        return item
    gathered = [{**wave, statuses_field: sorted(
        list(wave.get(statuses_field) or ()) + servers.get((item.get("executionId"), wave.get("waveNumber")), []),
        key=lambda server: str(server.get("sourceServerId")))} if isinstance(wave, Mapping) else wave
        for wave in waves]
    return {**item, waves_field: gathered}


def times(count: int) -> str:
    """` (×N)` when something happened more than once."""
    return f" (×{count})" if count > 1 else ""


def first_with_count(lines: list[str]) -> str:
    """The first line, with how many there were."""
    return f"{lines[0]}{times(len(lines))}"


def dedupe(values: list[Any]) -> list[Any]:
    """The values without consecutive repeats."""
    return [value for index, value in enumerate(values) if index == 0 or values[index - 1] != value]

