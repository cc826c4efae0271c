"""An execution as DescribeExecution and GetExecutionHistory show it, the runs inside it, and the task protocol."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from drs_parity.world.clock import TimerHandle, VirtualClock
from drs_parity.world.stepfunctions.definition import Branch, Definition, State
from drs_parity.world.stepfunctions.errors import StatesError
from drs_parity.world.stepfunctions.jsonpath import to_json

RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"

# The key of each event type's details in GetExecutionHistory (types not listed carry no details).
_DETAILS = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "LambdaFunctionScheduled": "lambdaFunctionScheduledEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
}


def data_details(key: str, value: Any) -> dict[str, Any]:
    """`{key: json, keyDetails: {truncated: false}}`, the way events carry inputs and outputs."""
    return {key: to_json(value), f"{key}Details": {"truncated": False}}


def details_key(event_type: str) -> str | None:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return _DETAILS.get(event_type)


@dataclass
class LambdaOutcome:
    """What invoking a function gave: its payload, or `error` = (Error, Cause) exactly as Step Functions reports them.

    An unhandled function error is (errorType, the error payload as JSON text), e.g. ("ValueError", '{"errorMessage":
    ...}'); an invoke that fails is ("Lambda.AWSLambdaException" / "Lambda.ServiceException" / "Lambda.Unknown", text).
    """

    payload: Any = None
    error: tuple[str, str] | None = None
    executed_version: str = "$LATEST"
    request_id: str = ""


class TaskRunner(Protocol):
    """What runs a Lambda task for the interpreter: the service layer implements it over the function host."""

    def invoke_lambda(self, function: str, payload: Any, execution: "Execution") -> LambdaOutcome: ...


@dataclass(eq=False)
class Execution:
    """One execution of a state machine: what DescribeExecution and GetExecutionHistory report about it."""

    arn: str
    name: str
    state_machine_arn: str
    role_arn: str
    definition: Definition
    input: str
    start_date: datetime
    status: str = RUNNING
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    states_passed: list[str] = field(default_factory=list)
    input_value: Any = None
    root: "Run | None" = field(default=None, repr=False)
    timeout: TimerHandle | None = field(default=None, repr=False)
    tokens_issued: int = 0
    # Each execution draws States.UUID/MathRandom from its own generator, so interleaving never changes its values.
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @functools.cached_property
    def start_time(self) -> str:
        """StartTime as the context object gives it."""
        return iso_millis(self.start_date.timestamp())

    @property
    def region(self) -> str:
        parts = self.arn.split(":")
        return parts[3] if len(parts) > 3 else ""

    def record(self, when: datetime, event_type: str, previous: int, details: dict[str, Any] | None) -> int:
        """Append one history event; returns its id."""
        event: dict[str, Any] = {"timestamp": when, "type": event_type, "id": len(self.history) + 1,
                                 "previousEventId": previous}
        key = details_key(event_type)
        if key is not None and details is not None:
            event[key] = details
        self.history.append(event)
        return event["id"]

    def close(self, status: str, when: datetime, output: str | None, error: str | None, cause: str | None) -> None:
        self.status, self.stop_date, self.output, self.error, self.cause = status, when, output, error, cause


@dataclass(eq=False)
class Run:
    """A branch being run inside an execution: the machine itself, a Parallel branch or a Map iteration."""

    execution: Execution
    branch: Branch
    on_finish: Callable[[Any, StatesError | None], None]
    parent: "Run | None" = None
    last_event: int = 0
    state: State | None = None
    state_input: Any = None
    entered_at: float = 0.0
    entered_time: str = ""  # entered_at as the context object gives it
    retries: list[int] = field(default_factory=list)
    handles: list[TimerHandle] = field(default_factory=list)
    children: list["Run"] = field(default_factory=list)
    token: str | None = None
    closed: bool = False
    transitions: tuple[float, int] = (0.0, 0)  # (instant, states this run entered at that instant)

    @property
    def live(self) -> bool:
        return not self.closed and self.execution.running

    def cancel_timers(self) -> None:
        for handle in self.handles:
            handle.cancel()
        self.handles.clear()


@dataclass(eq=False)
class TokenWait:
    """A task waiting for SendTaskSuccess/Failure on its token, with what to do for each and for a heartbeat."""

    token: str
    run: Run
    succeed: Callable[[Any], None]
    fail: Callable[[str, str], None]
    beat: Callable[[], None]


class Engine(Protocol):
    """What the state handlers ask of the interpreter (it implements this)."""

    clock: VirtualClock
    tasks: TaskRunner

    def record(self, run: Run, event_type: str, details: dict[str, Any] | None = None) -> int: ...

    def context(self, run: Run, token: str | None = None, item: tuple[int, Any] | None = None) -> dict[str, Any]: ...

    def finish_state(self, run: Run, output: Any, next_state: str | None = None) -> None: ...

    def state_failed(self, run: Run, error: StatesError) -> None: ...

    def later(self, run: Run, delay: float, action: Callable[[], None], name: str) -> TimerHandle: ...

    def start_child(self, parent: Run, branch: Branch, data: Any,
                    on_finish: Callable[[Any, StatesError | None], None]) -> Run: ...

    def close_run(self, run: Run) -> None: ...

    def new_token(self, run: Run) -> str: ...

    def await_token(self, wait: TokenWait) -> None: ...

    def drop_token(self, run: Run) -> None: ...


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, tz=timezone.utc)


def iso_millis(moment: float) -> str:
    """The context object's time format: 2026-01-15T10:00:00.000Z."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(round(moment * 1000)) % 1000:03d}Z"
