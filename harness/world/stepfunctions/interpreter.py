"""Runs state machine executions on the virtual clock: every step is a clock callback, so nothing waits in wall time."""

from __future__ import annotations

import base64
import itertools
import json
import random
import uuid
from collections import deque
from typing import Any, Callable, Mapping

from drs_parity.world.clock import TimerHandle, VirtualClock
from drs_parity.world.stepfunctions.branches import run_map, run_parallel
from drs_parity.world.stepfunctions.definition import Branch, Definition, parse_definition
from drs_parity.world.stepfunctions.errors import RUNTIME, TIMEOUT, StatesError
from drs_parity.world.stepfunctions.execution import (
    ABORTED, FAILED, SUCCEEDED, TIMED_OUT, Execution, Run, TaskRunner, TokenWait, data_details, iso_millis, utc,
)
from drs_parity.world.stepfunctions.jsonpath import to_json
from drs_parity.world.stepfunctions.paths import path_field, write_result
from drs_parity.world.stepfunctions.retry import TERMINAL, error_output, find_handler, max_attempts, retry_delay
from drs_parity.world.stepfunctions.states import HANDLERS, Handler
from drs_parity.world.stepfunctions.tasks import error_details, run_task

# A run (the machine, a branch, a Map iteration) that enters more states than this at one virtual instant (no Wait,
# retry or task token between them) is a runaway loop: the execution fails with States.Runtime. AWS has no such
# rule; it fails an execution past 25,000 history events, which a zero-time loop reaches in an instant. Counting per
# run keeps a Map over many items clear of it. The 25,000-event limit itself is not enforced.
MAX_TRANSITIONS_AT_ONE_INSTANT = 10_000
_END_EVENTS = {SUCCEEDED: "ExecutionSucceeded", FAILED: "ExecutionFailed", TIMED_OUT: "ExecutionTimedOut",
               ABORTED: "ExecutionAborted"}
_HANDLERS: dict[str, Handler] = {**HANDLERS, "Task": run_task, "Parallel": run_parallel, "Map": run_map}


class ApiError(StatesError):
    """An error the Step Functions API answers a call with: `error` is its code (InvalidToken, TaskTimedOut, ...)."""


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:aws:states:r:a:stateMachine:M -> arn:aws:states:r:a:execution:M:name."""
    parts = state_machine_arn.split(":")
    if len(parts) >= 7 and parts[5] == "stateMachine":
        return ":".join(parts[:5] + ["execution", parts[6], name])
    return f"{state_machine_arn}:{name}"


def counting_ids() -> Callable[[], str]:
    """Deterministic UUID-shaped ids (00000000-0000-4000-8000-000000000001, ...) for executions started unnamed."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter), version=4))


class Interpreter:
    """Starts executions and advances them by clock callbacks, in (time, registration) order, one thread only.

    A state that needs no wait leads to the next in the same callback (through a queue, so no recursion); Wait,
    retry backoff, task tokens and timeouts are clock timers. Entry points (start, task tokens) only schedule work
    at the current instant, so an execution moves when the clock is advanced (advance(0) runs what is due now).
    """

    def __init__(self, clock: VirtualClock, tasks: TaskRunner, ids: Callable[[], str] | None = None) -> None:
        self.clock = clock
        self.tasks = tasks
        self._ids = ids or counting_ids()
        self.executions: dict[str, Execution] = {}
        self._ready: deque[tuple[Run, Callable[[], None]]] = deque()
        self._draining = False
        self._tokens: dict[str, TokenWait] = {}
        self._spent: set[str] = set()

    # -- the API -------------------------------------------------------------------------------------------------
    def start(
        self,
        state_machine_arn: str,
        definition: Definition | Mapping[str, Any] | str,
        input: str | None = None,
        name: str | None = None,
        role_arn: str = "",
    ) -> Execution:
        """Record ExecutionStarted and schedule the first state at the current instant."""
        parsed = definition if isinstance(definition, Definition) else parse_definition(definition)
        text = "{}" if input is None else input
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ApiError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{error}'") from None
        arn = execution_arn(state_machine_arn, name or self._ids())
        if arn in self.executions:
            raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        now = self.clock.now()
        execution = Execution(arn, arn.rsplit(":", 1)[1], state_machine_arn, role_arn, parsed, text, utc(now),
                              input_value=value, rng=random.Random(arn))
        self.executions[arn] = execution
        root = Run(execution, parsed, lambda output, error: self._execution_finished(execution, output, error))
        execution.root = root
        details = {"input": text, "inputDetails": {"truncated": False}, "roleArn": role_arn}
        root.last_event = execution.record(utc(now), "ExecutionStarted", 0, details)
        if parsed.timeout_seconds is not None:
            execution.timeout = self.clock.call_at(
                now + parsed.timeout_seconds, lambda: self._timed_out(execution), name=f"states {arn} timeout"
            )
        self.later(root, 0, lambda: self._enter(root, parsed.start_at, value), "start")
        return execution

    def stop(self, execution: Execution, error: str | None = None, cause: str | None = None) -> None:
        """StopExecution: ABORTED at once (a closed execution is left as it is)."""
        self._end_execution(execution, ABORTED, error=error, cause=cause)

    def send_task_success(self, token: str, output: str) -> None:
        """SendTaskSuccess: `output` is JSON text; the task succeeds with it at the current instant."""
        wait = self._waiting(token)
        try:
            value = json.loads(output)
        except (TypeError, ValueError):
            raise ApiError("InvalidOutput", "Invalid Task Output: the output is not JSON") from None
        self._resume(wait, lambda: wait.succeed(value))

    def send_task_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        """SendTaskFailure: the task fails with `error` (matched by Retry/Catch) at the current instant."""
        wait = self._waiting(token)
        self._resume(wait, lambda: wait.fail(error or "", cause or ""))

    def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: the task's HeartbeatSeconds start again from now."""
        self._waiting(token).beat()

    def _waiting(self, token: str) -> TokenWait:
        wait = self._tokens.get(token)
        if wait is not None and wait.run.live:
            return wait
        if wait is not None or token in self._spent:
            raise ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
        raise ApiError("InvalidToken", "Invalid token")

    def _resume(self, wait: TokenWait, action: Callable[[], None]) -> None:
        # The token is used up now (a second call answers TaskTimedOut); the task goes on in a clock callback, so a
        # function that returns its own token while it is being invoked never re-enters the interpreter.
        run = wait.run
        self.drop_token(run)
        run.cancel_timers()
        self.later(run, 0, action, "task token")

    # -- what state handlers use (the Engine protocol) ------------------------------------------------------------
    def record(self, run: Run, event_type: str, details: dict[str, Any] | None = None) -> int:
        if run.live:
            run.last_event = run.execution.record(utc(self.clock.now()), event_type, run.last_event, details)
        return run.last_event

    def context(self, run: Run, token: str | None = None, item: tuple[int, Any] | None = None) -> dict[str, Any]:
        """The context object ($$) of the run's current state."""
        execution = run.execution
        context: dict[str, Any] = {
            "Execution": {"Id": execution.arn, "Input": execution.input_value, "Name": execution.name,
                          "RoleArn": execution.role_arn, "StartTime": execution.start_time,
                          "RedriveCount": 0},
            "State": {"EnteredTime": run.entered_time, "Name": run.state.name if run.state else "",
                      "RetryCount": sum(run.retries)},
            "StateMachine": {"Id": execution.state_machine_arn,
                             "Name": execution.state_machine_arn.rsplit(":", 1)[-1]},
        }
        if token is not None:
            context["Task"] = {"Token": token}
        if item is not None:
            context["Map"] = {"Item": {"Index": item[0], "Value": item[1]}}
        return context

    def finish_state(self, run: Run, output: Any, next_state: str | None = None) -> None:
        """The current state is done with `output`: StateExited, then the next state or the end of the run."""
        if not run.live or run.state is None:
            return
        state = run.state
        self._leave_state(run)
        self.record(run, f"{state.type}StateExited", {"name": state.name, **data_details("output", output)})
        target = next_state or state.next
        if target is None:
            self._end_run(run, output, None)
        else:
            self._soon(run, lambda: self._enter(run, target, output))

    def state_failed(self, run: Run, error: StatesError) -> None:
        """The current state failed: retry it, catch the error, or fail the run (and so the branch or execution)."""
        if not run.live or run.state is None:
            return
        state = run.state
        self._leave_state(run)
        if error.error in TERMINAL:
            self._end_execution(run.execution, FAILED, error=error.error, cause=error.cause)
            return
        index = find_handler(state.retry, error.error)
        if index is not None and run.retries[index] < max_attempts(state.retry[index]):
            delay = retry_delay(state.retry[index], run.retries[index])
            run.retries[index] += 1
            self.later(run, delay, lambda: self._attempt(run), f"{state.name} retry")
            return
        index = find_handler(state.catch, error.error)
        if index is None:
            self._end_run(run, None, error)
            return
        catcher = state.catch[index]
        try:
            output = write_result(run.state_input, error_output(error.error, error.cause),
                                  path_field(catcher, "ResultPath"))
        except StatesError as failure:
            self._end_run(run, None, failure)
            return
        self.record(run, f"{state.type}StateExited", {"name": state.name, **data_details("output", output)})
        self._soon(run, lambda: self._enter(run, catcher["Next"], output))

    def later(self, run: Run, delay: float, action: Callable[[], None], name: str) -> TimerHandle:
        """Run `action` for this run `delay` virtual seconds from now, unless the run has ended by then."""

        def fire() -> None:
            if run.live:
                self._soon(run, action)
                self._drain()

        handle = self.clock.call_at(self.clock.now() + delay, fire, name=f"states {run.execution.name}: {name}")
        run.handles.append(handle)
        return handle

    def start_child(self, parent: Run, branch: Branch, data: Any,
                    on_finish: Callable[[Any, StatesError | None], None]) -> Run:
        child = Run(parent.execution, branch, on_finish, parent=parent, last_event=parent.last_event)
        parent.children.append(child)
        self._soon(child, lambda: self._enter(child, branch.start_at, data))
        return child

    def close_run(self, run: Run) -> None:
        """End a run and everything under it: its timers, its task token, its children."""
        if run.closed:
            return
        run.closed = True
        self._leave_state(run)

    def new_token(self, run: Run) -> str:
        # Derived from the execution and a per-execution count: unique, and the same whatever else runs alongside.
        run.execution.tokens_issued += 1
        raw = f"{run.execution.arn}#{run.execution.tokens_issued}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def await_token(self, wait: TokenWait) -> None:
        self._tokens[wait.token] = wait
        wait.run.token = wait.token

    def drop_token(self, run: Run) -> None:
        if run.token is not None:
            self._tokens.pop(run.token, None)
            self._spent.add(run.token)
            run.token = None

    # -- the engine ----------------------------------------------------------------------------------------------
    def _soon(self, run: Run, action: Callable[[], None]) -> None:
        self._ready.append((run, action))

    def _drain(self) -> None:
        """Run queued work until every run waits on the clock; a StatesError fails the state that raised it."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._ready:
                run, action = self._ready.popleft()
                if not run.live:
                    continue
                try:
                    action()
                except StatesError as error:
                    self.state_failed(run, error)
        finally:
            self._draining = False

    def _enter(self, run: Run, name: str, data: Any) -> None:
        execution, now = run.execution, self.clock.now()
        instant, count = run.transitions
        run.transitions = (now, count + 1 if instant == now else 1)
        if run.transitions[1] > MAX_TRANSITIONS_AT_ONE_INSTANT:
            cause = f"more than {MAX_TRANSITIONS_AT_ONE_INSTANT} state transitions at one instant (a loop with no wait)"
            self._end_execution(execution, FAILED, error=RUNTIME, cause=cause)
            return
        state = run.branch.states[name]
        run.state, run.state_input, run.retries = state, data, [0] * len(state.retry)
        run.entered_at, run.entered_time = now, iso_millis(now)
        self.record(run, f"{state.type}StateEntered", {"name": name, **data_details("input", data)})
        execution.states_passed.append(name)
        self._attempt(run)

    def _attempt(self, run: Run) -> None:
        assert run.state is not None
        _HANDLERS[run.state.type](self, run, run.state)

    def _leave_state(self, run: Run) -> None:
        run.cancel_timers()
        self.drop_token(run)
        for child in run.children:
            self.close_run(child)
        run.children.clear()

    def _end_run(self, run: Run, output: Any, error: StatesError | None) -> None:
        self.close_run(run)
        run.on_finish(output, error)

    def _execution_finished(self, execution: Execution, output: Any, error: StatesError | None) -> None:
        if error is None:
            self._end_execution(execution, SUCCEEDED, output=output)
        else:
            self._end_execution(execution, FAILED, error=error.error, cause=error.cause)

    def _timed_out(self, execution: Execution) -> None:
        cause = f"The execution ran longer than its TimeoutSeconds ({execution.definition.timeout_seconds})"
        self._end_execution(execution, TIMED_OUT, error=TIMEOUT, cause=cause)

    def _end_execution(self, execution: Execution, status: str, output: Any = None, error: str | None = None,
                       cause: str | None = None) -> None:
        if not execution.running:
            return
        when = utc(self.clock.now())
        root = execution.root
        assert root is not None
        details = data_details("output", output) if status == SUCCEEDED else error_details(error, cause)
        execution.record(when, _END_EVENTS[status], root.last_event, details)
        execution.close(status, when, to_json(output) if status == SUCCEEDED else None, error or None, cause or None)
        if execution.timeout is not None:
            execution.timeout.cancel()
        self.close_run(root)
