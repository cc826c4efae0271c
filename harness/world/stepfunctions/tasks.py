"""Task states on Lambda: lambda:invoke, lambda:invoke.waitForTaskToken and a function ARN, with their timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from drs_parity.world.clock import TimerHandle
from drs_parity.world.stepfunctions.definition import LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, State, is_function_arn
from drs_parity.world.stepfunctions.errors import HEARTBEAT_TIMEOUT, RUNTIME, TIMEOUT, StatesError
from drs_parity.world.stepfunctions.execution import Engine, LambdaOutcome, Run, TokenWait, data_details
from drs_parity.world.stepfunctions.jsonpath import to_json
from drs_parity.world.stepfunctions.paths import read_path
from drs_parity.world.stepfunctions.states import effective_input, state_output


def error_details(error: str | None, cause: str | None) -> dict[str, str]:
    """An event's error and cause, each only when there is one (as GetExecutionHistory leaves them out)."""
    return {key: value for key, value in (("error", error), ("cause", cause)) if value}


def run_task(engine: Engine, run: Run, state: State) -> None:
    resource = state.get("Resource")
    token = engine.new_token(run) if resource == LAMBDA_INVOKE_WAIT else None
    context = engine.context(run, token=token)
    payload = effective_input(engine, run, state, context)
    timeout = _seconds(state, "TimeoutSeconds", run.state_input, context)
    heartbeat = _seconds(state, "HeartbeatSeconds", run.state_input, context)
    if isinstance(resource, str) and is_function_arn(resource):
        _call_function(engine, run, state, payload, timeout)
    elif resource in (LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT):
        _Invocation(engine, run, state, payload, token, timeout, heartbeat).start()
    else:
        raise StatesError(RUNTIME, f"Task state '{state.name}': the harness runs Lambda tasks only, not {resource}")


def _seconds(state: State, key: str, data: Any, context: Mapping[str, Any]) -> int | None:
    """TimeoutSeconds/HeartbeatSeconds as written, or read by their *Path from the state's input."""
    if key in state:
        return int(state.get(key))
    if f"{key}Path" not in state:
        return None
    value = read_path(state.get(f"{key}Path"), data, context)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StatesError(RUNTIME, f"Task state '{state.name}': {key}Path gives {value!r}, not a positive integer")
    return value


def _call_function(engine: Engine, run: Run, state: State, payload: Any, timeout: int | None) -> None:
    """A function ARN as Resource: the function gets the effective input and its payload is the task's result."""
    function = state.get("Resource")
    scheduled = {"resource": function, **data_details("input", payload)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    engine.record(run, "LambdaFunctionScheduled", scheduled)
    engine.record(run, "LambdaFunctionStarted")
    outcome = engine.tasks.invoke_lambda(function, payload, run.execution)
    if not run.live:  # the function stopped this execution, or it timed out, while the function ran
        return
    if outcome.error is not None:
        engine.record(run, "LambdaFunctionFailed", error_details(*outcome.error))
        raise StatesError(*outcome.error)
    engine.record(run, "LambdaFunctionSucceeded", data_details("output", outcome.payload))
    engine.finish_state(run, state_output(engine, run, state, outcome.payload))


def invoke_result(outcome: LambdaOutcome) -> dict[str, Any]:
    """The lambda:invoke integration's result: the Invoke response with the payload parsed."""
    headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": outcome.executed_version,
               "x-amzn-RequestId": outcome.request_id}
    return {
        "ExecutedVersion": outcome.executed_version,
        "Payload": outcome.payload,
        "SdkHttpMetadata": {"HttpHeaders": headers, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": outcome.request_id},
        "StatusCode": 200,
    }


@dataclass(eq=False)
class _Invocation:
    """One attempt of a lambda:invoke task; with a token it then waits for SendTaskSuccess/Failure or a timeout."""

    engine: Engine
    run: Run
    state: State
    parameters: Any
    token: str | None
    timeout: int | None
    heartbeat: int | None
    heartbeat_timer: TimerHandle | None = None

    @property
    def base(self) -> dict[str, Any]:
        resource = LAMBDA_INVOKE_WAIT if self.token is not None else LAMBDA_INVOKE
        return {"resourceType": "lambda", "resource": resource.rsplit(":", 1)[1]}

    def start(self) -> None:
        if not isinstance(self.parameters, dict) or "FunctionName" not in self.parameters:
            raise StatesError(RUNTIME, f"Task state '{self.state.name}': lambda:invoke needs Parameters.FunctionName")
        scheduled = {**self.base, "region": self.run.execution.region, "parameters": to_json(self.parameters)}
        for key, value in (("timeoutInSeconds", self.timeout), ("heartbeatInSeconds", self.heartbeat)):
            if value is not None:
                scheduled[key] = value
        self.engine.record(self.run, "TaskScheduled", scheduled)
        self.engine.record(self.run, "TaskStarted", self.base)
        if self.token is not None:
            self.wait_for_token()  # before invoking: the function may send its token back before it returns
        outcome = self.engine.tasks.invoke_lambda(
            self.parameters["FunctionName"], self.parameters.get("Payload", {}), self.run.execution
        )
        if not self.run.live:
            return
        if outcome.error is not None:
            self.fail(*outcome.error)
            return
        result = invoke_result(outcome)
        if self.token is None:
            self.succeed(result)
        else:
            self.engine.record(self.run, "TaskSubmitted", {**self.base, **data_details("output", result)})

    def wait_for_token(self) -> None:
        assert self.token is not None
        self.engine.await_token(TokenWait(self.token, self.run, self.succeed, self.fail, self.beat))
        if self.timeout is not None:
            self.engine.later(self.run, self.timeout, lambda: self.time_out(TIMEOUT), f"Task {self.state.name} timeout")
        self.beat()

    def beat(self) -> None:
        """Start (again) the heartbeat timer: SendTaskHeartbeat pushes States.HeartbeatTimeout further away."""
        if self.heartbeat is None:
            return
        if self.heartbeat_timer is not None:
            self.heartbeat_timer.cancel()
        self.heartbeat_timer = self.engine.later(
            self.run, self.heartbeat, lambda: self.time_out(HEARTBEAT_TIMEOUT), f"Task {self.state.name} heartbeat"
        )

    def time_out(self, error: str) -> None:
        self.engine.drop_token(self.run)
        self.engine.record(self.run, "TaskTimedOut", {**self.base, "error": error})
        self.engine.state_failed(self.run, StatesError(error))

    def succeed(self, output: Any) -> None:
        self.engine.record(self.run, "TaskSucceeded", {**self.base, **data_details("output", output)})
        self.engine.finish_state(self.run, state_output(self.engine, self.run, self.state, output))

    def fail(self, error: str, cause: str) -> None:
        self.engine.record(self.run, "TaskFailed", {**self.base, **error_details(error, cause)})
        self.engine.state_failed(self.run, StatesError(error, cause))
