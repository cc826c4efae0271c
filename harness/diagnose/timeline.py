"""The doctor's reading of a captured timeline: one execution's steps, records, log lines and items."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

STATES_SERVICE = "sfn"  # botocore's service id of Step Functions, as captured calls name it


class TimelineView:
    """The parts of a captured timeline (Timeline.to_dict()) the checks ask about, for one execution."""

    def __init__(self, timeline: Mapping[str, Any]) -> None:
        """The view of `timeline` for its current execution."""
        self.timeline = timeline
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

    def messages(self, predicate: Callable[[str], bool]) -> list[str]:
        """Every log message `predicate` accepts, in order."""
        return [str(record.get("message", "")) for _, record in self.records("logs")
                if predicate(str(record.get("message", "")))]

    def messages_about(self, template: str) -> list[str]:
        """Log lines equal to `template` with {id} replaced by this execution's id."""
        wanted = template.format(id=self.execution_id)
        return self.messages(lambda message: message == wanted)

    def messages_starting(self, prefix: str) -> list[str]:
        """Every log message starting with `prefix`."""
        return self.messages(lambda message: message.startswith(prefix))

    def items(self) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, execution item) for every execution item of every step."""
        for step in self.steps:
            for item in (step.get("tables") or {}).get("execution-history") or ():
                yield step, item

    def item_history(self) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, item) of the current execution's item at every step."""
        return [(step, item) for step, item in self.items() if item.get("executionId") == self.execution_id]

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
                if plan.get("planId") == plan_id:
                    return len(plan.get("waves") or ())
        return None


def times(count: int) -> str:
    """` (×N)` when something happened more than once."""
    return f" (×{count})" if count > 1 else ""


def first_with_count(lines: list[str]) -> str:
    """The first line, with how many there were."""
    return f"{lines[0]}{times(len(lines))}"


def dedupe(values: list[Any]) -> list[Any]:
    """The values without consecutive repeats."""
    return [value for index, value in enumerate(values) if index == 0 or values[index - 1] != value]

