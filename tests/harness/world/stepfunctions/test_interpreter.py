"""The ASL interpreter on the virtual clock: every state type, data flow, retries, catches, timeouts and task tokens."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable

import pytest

from drs_parity.world.clock import DEFAULT_START, VirtualClock
from drs_parity.world.stepfunctions import interpreter as interpreter_module
from drs_parity.world.stepfunctions.execution import Execution, LambdaOutcome
from drs_parity.world.stepfunctions.interpreter import MAX_TRANSITIONS_AT_ONE_INSTANT, ApiError, Interpreter

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Waves"
ROLE = "arn:aws:iam::123456789012:role/WavesRole"
INVOKE = "arn:aws:states:::lambda:invoke"
INVOKE_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:Work"
T0 = float(DEFAULT_START)


class FunctionError(Exception):
    """Raised by a fake function to fail its invocation with a given Error name."""

    def __init__(self, error: str, message: str = "") -> None:
        super().__init__(message)
        self.error = error


class FakeLambdas:
    """A TaskRunner whose functions are Python callables; it remembers each call with its virtual time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.functions: dict[str, Callable[[Any], Any]] = {}
        self.calls: list[tuple[float, str, Any]] = []

    def invoke_lambda(self, function: str, payload: Any, execution: Execution) -> LambdaOutcome:
        name = function.rsplit(":", 1)[-1]
        self.calls.append((self.clock.now(), name, payload))
        try:
            return LambdaOutcome(payload=self.functions[name](payload), request_id=f"req-{len(self.calls)}")
        except FunctionError as failure:
            cause = json.dumps({"errorMessage": str(failure), "errorType": failure.error})
            return LambdaOutcome(error=(failure.error, cause))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def lambdas(clock: VirtualClock) -> FakeLambdas:
    return FakeLambdas(clock)


@pytest.fixture
def interpreter(clock: VirtualClock, lambdas: FakeLambdas) -> Interpreter:
    return Interpreter(clock, lambdas)


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def invoke(payload: Any, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "Work", "Payload": payload}, **fields}


def run(interpreter: Interpreter, definition: dict[str, Any], data: Any = None, seconds: float = 0,
        name: str = "run") -> Execution:
    execution = interpreter.start(MACHINE, definition, json.dumps({} if data is None else data), name, ROLE)
    interpreter.clock.advance(seconds)
    return execution


def output(execution: Execution) -> Any:
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.output is not None
    return json.loads(execution.output)


def types(execution: Execution) -> list[str]:
    return [event["type"] for event in execution.history]


def event(execution: Execution, event_type: str, nth: int = 0) -> dict[str, Any]:
    return [item for item in execution.history if item["type"] == event_type][nth]


def seconds_of(execution: Execution, event_type: str) -> list[float]:
    return [item["timestamp"].timestamp() - T0 for item in execution.history if item["type"] == event_type]


# -- the simple states and data flow -------------------------------------------------------------------------------
def test_pass_states_shape_data_and_the_history_says_what_happened(interpreter: Interpreter) -> None:
    execution = run(interpreter, machine(
        Shape={"Type": "Pass", "Parameters": {"id.$": "$.wave", "name.$": "$$.Execution.Name"}, "ResultPath": "$.p",
               "Next": "Fixed"},
        Fixed={"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.fixed", "OutputPath": "$.p", "End": True},
    ), {"wave": 7})

    assert output(execution) == {"id": 7, "name": "run"}
    assert execution.states_passed == ["Shape", "Fixed"]
    assert types(execution) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered",
                                "PassStateExited", "ExecutionSucceeded"]
    first, entered = execution.history[0], execution.history[1]
    assert first["executionStartedEventDetails"] == {"input": '{"wave": 7}', "inputDetails": {"truncated": False},
                                                     "roleArn": ROLE}
    assert entered["stateEnteredEventDetails"] == {"name": "Shape", "input": '{"wave":7}',
                                                   "inputDetails": {"truncated": False}}
    assert [(item["id"], item["previousEventId"]) for item in execution.history] == [(n, n - 1) for n in range(1, 7)]
    assert isinstance(first["timestamp"], datetime) and first["timestamp"].timestamp() == T0
    assert execution.arn == "arn:aws:states:us-east-1:123456789012:execution:Waves:run"


def test_a_task_processes_input_and_output_in_aws_order(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: {"doubled": payload["n"] * 2, "noise": True}
    execution = run(interpreter, machine(Work=invoke(
        {"n.$": "$.n"}, InputPath="$.job", ResultSelector={"value.$": "$.Payload.doubled", "code.$": "$.StatusCode"},
        ResultPath="$.result", OutputPath="$.result", End=True,
    )), {"job": {"n": 21}, "other": 1})

    assert lambdas.calls == [(T0, "Work", {"n": 21})]
    assert output(execution) == {"value": 42, "code": 200}
    assert types(execution)[1:6] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
                                     "TaskStateExited"]
    assert event(execution, "TaskScheduled")["taskScheduledEventDetails"] == {
        "resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
        "parameters": '{"FunctionName":"Work","Payload":{"n":21}}'}
    result = json.loads(event(execution, "TaskSucceeded")["taskSucceededEventDetails"]["output"])
    assert result["Payload"] == {"doubled": 42, "noise": True} and result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST" and result["SdkResponseMetadata"] == {"RequestId": "req-1"}


def test_a_function_arn_as_resource_gives_the_functions_payload(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: {"seen": payload}
    execution = run(interpreter, machine(Work={"Type": "Task", "Resource": FUNCTION, "ResultPath": "$.r", "End": True}),
                    {"a": 1})

    assert output(execution) == {"a": 1, "r": {"seen": {"a": 1}}}
    assert types(execution)[2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]
    assert event(execution, "LambdaFunctionScheduled")["lambdaFunctionScheduledEventDetails"] == {
        "resource": FUNCTION, "input": '{"a":1}', "inputDetails": {"truncated": False}}


def test_null_paths_discard_as_aws_does(interpreter: Interpreter) -> None:
    execution = run(interpreter, machine(
        Keep={"Type": "Pass", "Result": "ignored", "ResultPath": None, "Next": "Empty"},
        Empty={"Type": "Pass", "InputPath": None, "ResultPath": "$.got", "End": True},
    ), {"a": 1})

    assert output(execution) == {"a": 1, "got": {}}


@pytest.mark.parametrize(
    ("wait", "data", "waited"),
    [
        ({"Seconds": 86400}, {}, 86400),
        ({"SecondsPath": "$.delay"}, {"delay": 90}, 90),
        ({"Timestamp": "2026-01-15T11:00:00Z"}, {}, 3600),
        ({"TimestampPath": "$.at"}, {"at": "2026-01-15T10:00:30Z"}, 30),
        ({"Timestamp": "2020-01-01T00:00:00Z"}, {}, 0),
    ],
)
def test_a_wait_takes_virtual_time_only(interpreter: Interpreter, wait: dict[str, Any], data: Any,
                                        waited: float) -> None:
    execution = run(interpreter, machine(Pause={"Type": "Wait", "Next": "Done", **wait}, Done={"Type": "Succeed"}),
                    data)
    if waited:
        interpreter.clock.advance(waited - 1)
        assert execution.status == "RUNNING"
    interpreter.clock.advance(1)

    assert output(execution) == data
    assert seconds_of(execution, "WaitStateExited") == [waited]
    assert execution.stop_date is not None and execution.stop_date.timestamp() == T0 + waited


def test_choice_follows_the_first_matching_rule_else_default_else_fails(interpreter: Interpreter) -> None:
    definition = machine(
        Route={"Type": "Choice", "Default": "Other", "Choices": [
            {"Variable": "$.status", "StringEquals": "POLLING", "Next": "Poll"},
            {"And": [{"Variable": "$.n", "IsPresent": True}, {"Variable": "$.n", "NumericGreaterThan": 2}],
             "Next": "Big"}]},
        Poll={"Type": "Pass", "Result": "poll", "End": True},
        Big={"Type": "Pass", "Result": "big", "End": True},
        Other={"Type": "Pass", "Result": "other", "End": True},
    )

    assert output(run(interpreter, definition, {"status": "POLLING"}, name="a")) == "poll"
    assert output(run(interpreter, definition, {"status": "", "n": 3}, name="b")) == "big"
    assert output(run(interpreter, definition, {"status": "", "n": 1}, name="c")) == "other"
    assert types(run(interpreter, definition, {"status": ""}, name="d"))[1:3] == ["ChoiceStateEntered",
                                                                                  "ChoiceStateExited"]
    no_default = machine(Route={"Type": "Choice", "Choices": [{"Variable": "$.n", "IsNull": True, "Next": "Null"}]},
                         Null={"Type": "Succeed"})
    failed = run(interpreter, no_default, {"n": 1}, name="e")
    assert failed.status == "FAILED" and failed.error == "States.NoChoiceMatched"


def test_succeed_and_fail_end_the_execution(interpreter: Interpreter) -> None:
    done = run(interpreter, machine(Done={"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}),
               {"a": {"b": 5}}, name="ok")
    failed = run(interpreter, machine(Stop={"Type": "Fail", "ErrorPath": "$.code",
                                            "CausePath": "States.Format('wave {} broke', $.wave)"}),
                 {"code": "WaveFailed", "wave": 2}, name="ko")

    assert output(done) == 5 and types(done)[-3:] == ["SucceedStateEntered", "SucceedStateExited",
                                                       "ExecutionSucceeded"]
    assert failed.status == "FAILED" and (failed.error, failed.cause) == ("WaveFailed", "wave 2 broke")
    assert types(failed)[-2:] == ["FailStateEntered", "ExecutionFailed"]
    assert failed.history[-1]["executionFailedEventDetails"] == {"error": "WaveFailed", "cause": "wave 2 broke"}


# -- Parallel and Map -----------------------------------------------------------------------------------------------
def test_parallel_outputs_the_branch_outputs_in_order(interpreter: Interpreter) -> None:
    execution = run(interpreter, machine(Both={
        "Type": "Parallel", "ResultPath": "$.both", "End": True, "Branches": [
            {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 10, "Next": "One"},
                                           "One": {"Type": "Pass", "Result": 1, "End": True}}},
            {"StartAt": "Two", "States": {"Two": {"Type": "Pass", "InputPath": "$.x", "End": True}}},
        ]}), {"x": 2}, seconds=10)

    assert output(execution) == {"x": 2, "both": [1, 2]}
    assert types(execution)[1:3] == ["ParallelStateEntered", "ParallelStateStarted"]
    assert types(execution)[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    assert seconds_of(execution, "ParallelStateSucceeded") == [10]


def test_map_runs_each_item_with_its_selector_and_outputs_the_list(interpreter: Interpreter,
                                                                  lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: payload["server"].upper()
    execution = run(interpreter, machine(Each={
        "Type": "Map", "ItemsPath": "$.servers", "ResultPath": "$.launched", "End": True,
        "ItemSelector": {"server.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "wave.$": "$.wave"},
        "ItemProcessor": {"StartAt": "Launch", "States": {"Launch": {
            "Type": "Task", "Resource": FUNCTION, "End": True}}},
    }), {"wave": 1, "servers": ["a", "b", "c"]})

    assert output(execution) == {"wave": 1, "servers": ["a", "b", "c"], "launched": ["A", "B", "C"]}
    assert [payload for _, _, payload in lambdas.calls] == [
        {"server": "a", "index": 0, "wave": 1}, {"server": "b", "index": 1, "wave": 1},
        {"server": "c", "index": 2, "wave": 1}]
    assert event(execution, "MapStateStarted")["mapStateStartedEventDetails"] == {"length": 3}
    assert event(execution, "MapIterationSucceeded", 2)["mapIterationSucceededEventDetails"] == {"name": "Each",
                                                                                                   "index": 2}
    assert execution.states_passed == ["Each", "Launch", "Launch", "Launch"]


def test_a_legacy_iterator_map_and_an_empty_map(interpreter: Interpreter) -> None:
    definition = machine(Each={"Type": "Map", "Parameters": {"v.$": "$$.Map.Item.Value"}, "End": True,
                               "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})

    assert output(run(interpreter, definition, [1, 2], name="two")) == [{"v": 1}, {"v": 2}]
    assert output(run(interpreter, definition, [], name="none")) == []


def test_a_failed_iteration_fails_the_map_and_its_catch_takes_the_error(interpreter: Interpreter,
                                                                       lambdas: FakeLambdas) -> None:
    def work(payload: Any) -> Any:
        if payload == 2:
            raise FunctionError("WaveError", "no")
        return payload

    lambdas.functions["Work"] = work
    execution = run(interpreter, machine(
        Each={"Type": "Map", "Next": "Done", "Catch": [{"ErrorEquals": ["WaveError"], "Next": "Caught"}],
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}}}},
        Done={"Type": "Succeed"},
        Caught={"Type": "Pass", "End": True},
    ), [1, 2, 3])

    assert output(execution) == {"Error": "WaveError", "Cause": '{"errorMessage": "no", "errorType": "WaveError"}'}
    assert "MapIterationFailed" in types(execution) and "MapStateFailed" in types(execution)
    assert execution.states_passed[-1] == "Caught"


# -- Retry and Catch ------------------------------------------------------------------------------------------------
def failing(times: int, error: str = "Lambda.ServiceException") -> Callable[[Any], Any]:
    attempts = {"n": 0}

    def work(payload: Any) -> Any:
        attempts["n"] += 1
        if attempts["n"] <= times:
            raise FunctionError(error, f"attempt {attempts['n']}")
        return "ok"

    return work


def test_a_retry_backs_off_on_the_virtual_clock(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = failing(3)
    execution = run(interpreter, machine(Work=invoke({}, End=True, ResultSelector={"p.$": "$.Payload"}, Retry=[
        {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}])),
        seconds=100)

    assert [when - T0 for when, _, _ in lambdas.calls] == [0, 2, 8, 26]
    assert output(execution) == {"p": "ok"}
    assert seconds_of(execution, "TaskScheduled") == [0, 2, 8, 26]
    assert types(execution).count("TaskStateEntered") == 1 and types(execution).count("TaskFailed") == 3


def test_retry_defaults_cap_and_max_attempts_zero(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = failing(10, "Boom")
    capped = run(interpreter, machine(Work=invoke({}, End=True, Retry=[
        {"ErrorEquals": ["Timeout"], "MaxAttempts": 0}, {"ErrorEquals": ["States.TaskFailed"], "MaxDelaySeconds": 3}])),
        seconds=100, name="capped")
    assert [when - T0 for when, _, _ in lambdas.calls] == [0, 1, 3, 6]
    assert capped.status == "FAILED" and capped.error == "Boom"

    lambdas.calls.clear()
    never = run(interpreter, machine(Work=invoke({}, End=True, Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 0}])),
                seconds=100, name="never")
    assert len(lambdas.calls) == 1 and never.status == "FAILED"


def test_a_catch_puts_the_error_at_its_result_path_and_goes_on(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = failing(1, "ValueError")
    execution = run(interpreter, machine(
        Work=invoke({}, Next="Done", Catch=[
            {"ErrorEquals": ["Other"], "Next": "Done"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"}]),
        Handle={"Type": "Pass", "End": True},
        Done={"Type": "Succeed"},
    ), {"wave": 1})

    assert output(execution) == {"wave": 1, "error": {
        "Error": "ValueError", "Cause": '{"errorMessage": "attempt 1", "errorType": "ValueError"}'}}
    assert types(execution)[1:6] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
                                     "TaskStateExited"]
    assert event(execution, "TaskFailed")["taskFailedEventDetails"]["error"] == "ValueError"
    assert execution.states_passed == ["Work", "Handle"]


def test_a_branch_failure_fails_the_parallel_and_stops_its_other_branches(interpreter: Interpreter) -> None:
    execution = run(interpreter, machine(
        Both={"Type": "Parallel", "End": True, "Catch": [{"ErrorEquals": ["Broken"], "Next": "Caught"}], "Branches": [
            {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 5, "Next": "Late"},
                                           "Late": {"Type": "Pass", "End": True}}},
            {"StartAt": "Break", "States": {"Break": {"Type": "Fail", "Error": "Broken"}}}]},
        Caught={"Type": "Pass", "End": True},
    ), seconds=60)

    assert output(execution) == {"Error": "Broken", "Cause": ""}
    assert "Late" not in execution.states_passed and "ParallelStateFailed" in types(execution)


# -- task tokens and timeouts ---------------------------------------------------------------------------------------
def token_task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": INVOKE_WAIT, "End": True,
            "Parameters": {"FunctionName": "Work", "Payload": {"token.$": "$$.Task.Token", "wave.$": "$.wave"}},
            **fields}


def tokens(lambdas: FakeLambdas) -> list[str]:
    return [payload["token"] for _, _, payload in lambdas.calls]


def assert_token_spent(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    """A token whose task no longer waits answers TaskTimedOut to every call, as AWS does."""
    for call in (lambda token: interpreter.send_task_success(token, "{}"), interpreter.send_task_heartbeat):
        with pytest.raises(ApiError) as spent:
            call(tokens(lambdas)[0])
        assert spent.value.error == "TaskTimedOut"


def test_a_token_task_waits_until_send_task_success(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: "started"
    execution = run(interpreter, machine(Wave=token_task(ResultPath="$.result")), {"wave": 3}, seconds=3600)
    assert execution.status == "RUNNING" and types(execution)[-1] == "TaskSubmitted"
    assert json.loads(event(execution, "TaskSubmitted")["taskSubmittedEventDetails"]["output"])["Payload"] == "started"

    interpreter.send_task_success(tokens(lambdas)[0], '{"status": "COMPLETED"}')
    assert execution.status == "RUNNING"  # it goes on when the clock next runs, at this same instant
    interpreter.clock.advance(0)

    assert output(execution) == {"wave": 3, "result": {"status": "COMPLETED"}}
    assert seconds_of(execution, "TaskSucceeded") == [3600]
    assert event(execution, "TaskScheduled")["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"
    assert_token_spent(interpreter, lambdas)


def test_send_task_failure_fails_the_task_with_its_error(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    execution = run(interpreter, machine(Wave=token_task()), {"wave": 1})

    interpreter.send_task_failure(tokens(lambdas)[0], "WaveFailed", "launch failed")
    interpreter.clock.advance(0)

    assert execution.status == "FAILED" and (execution.error, execution.cause) == ("WaveFailed", "launch failed")
    assert event(execution, "TaskFailed")["taskFailedEventDetails"] == {
        "resourceType": "lambda", "resource": "invoke.waitForTaskToken", "error": "WaveFailed",
        "cause": "launch failed"}


def test_a_function_may_return_its_token_while_it_runs(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: interpreter.send_task_success(payload["token"], '"at once"')
    execution = run(interpreter, machine(Wave=token_task()), {"wave": 1})

    assert output(execution) == "at once"
    assert types(execution)[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_unknown_used_and_bad_calls_on_tokens(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    run(interpreter, machine(Wave=token_task()), {"wave": 1})

    for call in (lambda token: interpreter.send_task_success(token, "{}"), interpreter.send_task_failure,
                 interpreter.send_task_heartbeat):
        with pytest.raises(ApiError) as unknown:
            call("nonsense")
        assert unknown.value.error == "InvalidToken"
    with pytest.raises(ApiError) as bad:
        interpreter.send_task_success(tokens(lambdas)[0], "{not json")
    assert bad.value.error == "InvalidOutput"


def test_a_task_timeout_is_states_timeout_at_its_virtual_time(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    execution = run(interpreter, machine(Wave=token_task(TimeoutSeconds=300)), {"wave": 1}, seconds=299)
    assert execution.status == "RUNNING"

    interpreter.clock.advance(1)

    assert execution.status == "FAILED" and execution.error == "States.Timeout"
    assert seconds_of(execution, "TaskTimedOut") == [300]
    assert event(execution, "TaskTimedOut")["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert_token_spent(interpreter, lambdas)


def test_heartbeats_keep_a_token_task_alive_until_they_stop(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    execution = run(interpreter, machine(Wave=token_task(HeartbeatSeconds=10)), {"wave": 1})
    for _ in range(3):
        interpreter.clock.advance(8)
        interpreter.send_task_heartbeat(tokens(lambdas)[0])
    interpreter.clock.advance(9)
    assert execution.status == "RUNNING"

    interpreter.clock.advance(1)  # 10 s after the last heartbeat (at 24)

    assert execution.status == "FAILED" and execution.error == "States.HeartbeatTimeout"
    assert seconds_of(execution, "TaskTimedOut") == [34] and len(lambdas.calls) == 1


def test_a_timeout_is_not_a_task_failure_for_retry_but_states_all_retries_it(interpreter: Interpreter,
                                                                            lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    execution = run(interpreter, machine(Wave=token_task(TimeoutSeconds=10, Retry=[
        {"ErrorEquals": ["States.TaskFailed"]}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}])), {"wave": 1},
        seconds=100)

    assert [when - T0 for when, _, _ in lambdas.calls] == [0, 11]
    assert execution.status == "FAILED" and seconds_of(execution, "TaskTimedOut") == [10, 21]
    assert len(set(tokens(lambdas))) == 2  # each attempt has its own token


def test_the_machine_timeout_times_the_execution_out(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    definition = dict(machine(Wave=token_task()), TimeoutSeconds=600)
    execution = run(interpreter, definition, {"wave": 1}, seconds=600)

    assert execution.status == "TIMED_OUT" and execution.error == "States.Timeout"
    assert types(execution)[-1] == "ExecutionTimedOut" and seconds_of(execution, "ExecutionTimedOut") == [600]
    assert_token_spent(interpreter, lambdas)


def test_stop_aborts_at_once_and_nothing_runs_after(interpreter: Interpreter, lambdas: FakeLambdas) -> None:
    lambdas.functions["Work"] = lambda payload: None
    execution = run(interpreter, machine(Pause={"Type": "Wait", "Seconds": 60, "Next": "Work"},
                                         Work=invoke({}, End=True)), seconds=30)

    interpreter.stop(execution, "Cancelled", "by the user")
    interpreter.clock.advance(600)

    assert execution.status == "ABORTED" and (execution.error, execution.cause) == ("Cancelled", "by the user")
    assert types(execution)[-1] == "ExecutionAborted" and lambdas.calls == []
    assert execution.stop_date is not None and execution.stop_date.timestamp() == T0 + 30


# -- determinism and bounds -----------------------------------------------------------------------------------------
def interleaved_histories() -> tuple[list[Any], list[tuple[float, str, Any]]]:
    clock = VirtualClock()
    lambdas = FakeLambdas(clock)
    lambdas.functions["Work"] = lambda payload: payload
    interpreter = Interpreter(clock, lambdas)
    loop = machine(
        Work=invoke({"wave.$": "$.wave", "n.$": "$.n"}, ResultSelector={"n.$": "States.MathAdd($.Payload.n, 1)"},
                    ResultPath="$.r", Next="Count"),
        Count={"Type": "Pass", "Parameters": {"wave.$": "$.wave", "n.$": "$.r.n", "id.$": "States.UUID()"},
               "Next": "Again"},
        Again={"Type": "Choice", "Default": "Done", "Choices": [
            {"Variable": "$.n", "NumericLessThan": 3, "Next": "Pause"}]},
        Pause={"Type": "Wait", "SecondsPath": "$.wave", "Next": "Work"},
        Done={"Type": "Succeed"},
    )
    executions = [interpreter.start(MACHINE, loop, json.dumps({"wave": wave, "n": 0}), f"wave-{wave}", ROLE)
                  for wave in (2, 3)]
    clock.advance(60)
    assert all(execution.status == "SUCCEEDED" for execution in executions)
    return [execution.history for execution in executions], lambdas.calls


def test_two_executions_interleave_the_same_way_every_time() -> None:
    first, calls = interleaved_histories()
    second, calls_again = interleaved_histories()

    assert first == second and calls == calls_again
    assert [(when - T0, payload["wave"]) for when, _, payload in calls] == [
        (0, 2), (0, 3), (2, 2), (3, 3), (4, 2), (6, 3)]


def test_a_loop_without_a_wait_is_stopped(interpreter: Interpreter, monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_TRANSITIONS_AT_ONE_INSTANT == 10_000
    monkeypatch.setattr(interpreter_module, "MAX_TRANSITIONS_AT_ONE_INSTANT", 50)  # the same rule, faster
    spin = run(interpreter, machine(Spin={"Type": "Pass", "Next": "Spin"}), name="spin")
    waits = run(interpreter, machine(Nap={"Type": "Wait", "Seconds": 1, "Next": "Nap"}), seconds=100, name="waits")

    assert spin.status == "FAILED" and spin.error == "States.Runtime" and len(spin.states_passed) == 50
    assert waits.status == "RUNNING" and len(waits.states_passed) == 101


def test_bad_input_and_a_taken_name_are_api_errors(interpreter: Interpreter) -> None:
    definition = machine(Done={"Type": "Succeed"})
    with pytest.raises(ApiError) as bad:
        interpreter.start(MACHINE, definition, "{oops", "x", ROLE)
    interpreter.start(MACHINE, definition, "{}", "taken", ROLE)
    with pytest.raises(ApiError) as taken:
        interpreter.start(MACHINE, definition, "{}", "taken", ROLE)

    assert bad.value.error == "InvalidExecutionInput" and taken.value.error == "ExecutionAlreadyExists"
    assert interpreter.start(MACHINE, definition).name == "00000000-0000-4000-8000-000000000001"
