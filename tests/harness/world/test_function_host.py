"""The function host: Invoke, async queue, errors, environments, outbound calls, call guard, schedules, API events."""

import json
import os
from typing import Iterator

import pytest

from drs_parity.world.functions import DeployedFunction, RuleTarget, ScheduleRule
from drs_parity.world.host import FunctionHost, HostError
from drs_parity.world.schedules import Schedule
from drs_parity.world.world import World

REGION, ACCOUNT = "us-east-1", "123456789012"


@pytest.fixture
def world() -> Iterator[World]:
    with World("moto") as started:
        yield started


@pytest.fixture
def host(world: World) -> FunctionHost:
    return world.host


def add(host: FunctionHost, name: str, handler: str, env: dict[str, str] | None = None) -> DeployedFunction:
    function = DeployedFunction(name=name, arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                                handler=handler, environment=env or {}, timeout=30)
    host.add_function(function)
    return function


def test_invoke_by_name_runs_the_handler_and_returns_its_result(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler", {"GREETING": "hi"})

    invocation = host.invoke("echo", {"x": 1})

    assert invocation.error is None
    assert invocation.result["event"] == {"x": 1}
    assert invocation.result["greeting"] == "hi"
    assert invocation.result["function"] == invocation.result["envFunction"] == "echo"
    assert invocation.result["remainingMs"] == 30_000
    assert invocation.trigger == "direct" and host.invocations == [invocation]


def test_code_under_test_invokes_request_response_through_boto3(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")
    add(host, "caller", "tests.lambdas.caller.handler")

    answer = host.invoke("caller", {"target": "echo", "payload": {"n": 7}}).result["answers"][0]

    assert answer["status"] == 200 and answer["functionError"] is None
    assert answer["payload"]["event"] == {"n": 7}
    assert [i.trigger for i in host.invocations] == ["direct", "invoke"]


def test_invoke_of_a_raising_function_answers_unhandled_with_lambdas_error_payload(host: FunctionHost) -> None:
    add(host, "api", "tests.lambdas.api.handler")
    add(host, "caller", "tests.lambdas.caller.handler")

    answer = host.invoke("caller", {"target": "api", "payload": {"path": "/boom"}}).result["answers"][0]

    assert answer["functionError"] == "Unhandled"
    assert answer["payload"]["errorType"] == "RuntimeError"
    assert answer["payload"]["errorMessage"] == "kaboom"
    assert host.invocations[-1].error == {"type": "RuntimeError", "message": "kaboom"}


def test_async_events_are_queued_and_drained_in_order_after_the_action(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")
    add(host, "caller", "tests.lambdas.caller.handler")

    caller = host.invoke("caller", {"target": "echo", "type": "Event", "payloads": [{"n": 1}, {"n": 2}, {"n": 3}]})

    assert [answer["status"] for answer in caller.result["answers"]] == [202, 202, 202]
    echoes = [i for i in host.invocations if i.function == "echo"]
    assert [i.event for i in echoes] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert all(i.trigger == "event" and i.started >= caller.ended for i in echoes)


def test_unknown_function_name_raises_resource_not_found_in_the_calling_code(host: FunctionHost) -> None:
    add(host, "caller", "tests.lambdas.caller.handler")

    caught = host.invoke("caller", {"target": "missing-fn"}).result
    raised = host.invoke("caller", {"target": "missing-fn", "raise": True})

    assert caught == {"caught": "ResourceNotFoundException",
                      "message": f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:missing-fn"}
    assert raised.error["type"] == "ResourceNotFoundException"
    assert raised.calls[-1]["error"] == "ResourceNotFoundException"


def test_runaway_async_loop_is_stopped_with_a_clear_error(host: FunctionHost, monkeypatch) -> None:
    monkeypatch.setattr("drs_parity.world.host.MAX_DRAIN", 20)
    add(host, "looper", "tests.lambdas.looper.handler")

    with pytest.raises(HostError, match="keeps invoking itself"):
        host.invoke("looper", {})


def test_each_function_sees_only_its_own_environment(host: FunctionHost) -> None:
    add(host, "first", "tests.lambdas.echo.handler", {"GREETING": "one", "TABLE_NAME": "t1"})
    add(host, "second", "tests.lambdas.echo.handler", {"GREETING": "two"})

    first, second = host.invoke("first").result, host.invoke("second").result

    assert (first["greeting"], first["table"]) == ("one", "t1")
    assert (second["greeting"], second["table"]) == ("two", None)
    assert "GREETING" not in os.environ and "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_logs_are_captured_per_invocation_and_json_lines_parsed(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")

    logs = host.invoke("echo").logs

    assert logs == [{"level": "INFO", "message": "echo", "function": "echo"},
                    {"level": "RAW", "message": "a plain line"},
                    {"level": "INFO", "message": "logged for echo"}]


def test_outbound_calls_are_recorded_for_the_function_but_harness_calls_are_not(host: FunctionHost,
                                                                                world: World) -> None:
    add(host, "user", "tests.lambdas.aws_user.handler")
    world.client("dynamodb").list_tables()

    invocation = host.invoke("user")

    assert invocation.result["account"] == ACCOUNT
    assert [(c["service"], c["operation"], c["error"]) for c in invocation.calls] == [
        ("dynamodb", "ListTables", None), ("dynamodb", "DescribeTable", "ResourceNotFoundException"),
        ("sts", "GetCallerIdentity", None)]
    assert invocation.calls[1]["params"] == {"TableName": "no-such-table"}
    assert {c["function"] for c in invocation.calls} == {"user"} and invocation.calls[0]["region"] == REGION


def test_call_guard_denies_a_call_in_the_calling_code(host: FunctionHost) -> None:
    add(host, "user", "tests.lambdas.aws_user.handler")
    seen = []

    def guard(function, service, operation, params):
        seen.append((function.name, service, operation))
        if operation == "ListTables":
            return "AccessDeniedException", f"{function.name} may not {service}:{operation}"
        return None

    host.set_call_guard(guard)
    invocation = host.invoke("user")

    assert invocation.result["denied"] == {"code": "AccessDeniedException", "message": "user may not dynamodb:ListTables",
                                           "status": 403}
    assert invocation.result["missing"] is True  # other calls still pass
    assert invocation.calls[0]["error"] == "AccessDeniedException"
    assert ("user", "sts", "GetCallerIdentity") in seen


def test_rate_schedule_fires_once_a_minute_from_one_period_after_start(host: FunctionHost, world: World) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")
    host.add_rule(ScheduleRule("tick", "arn:aws:events:us-east-1:123456789012:rule/tick", "rate(1 minute)",
                               targets=[RuleTarget("t", host.functions["echo"].arn, '{"kind": "tick"}')]))
    start = world.clock.now()

    host.start_schedules()
    world.clock.advance(300)

    assert [i.started - start for i in host.invocations] == [60, 120, 180, 240, 300]
    assert all(i.trigger == "schedule" and i.event == {"kind": "tick"} for i in host.invocations)


def test_cron_schedule_without_input_sends_a_scheduled_event(host: FunctionHost, world: World) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")
    rule_arn = "arn:aws:events:us-east-1:123456789012:rule/five"
    host.add_rule(ScheduleRule("five", rule_arn, "cron(0/5 * * * ? *)",
                               targets=[RuleTarget("t", host.functions["echo"].arn)]))
    world.clock.advance(90)  # 10:01:30: the next firings are 10:05, 10:10, 10:15

    host.start_schedules()
    world.clock.advance(16 * 60)

    assert [world.clock.isoformat(i.started) for i in host.invocations] == [
        "2026-01-15T10:05:00Z", "2026-01-15T10:10:00Z", "2026-01-15T10:15:00Z"]
    event = host.invocations[0].event
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-01-15T10:05:00Z" and event["resources"] == [rule_arn]
    assert event["account"] == ACCOUNT and event["region"] == REGION and event["detail"] == {}


@pytest.mark.parametrize("expression, after, expected", [
    ("cron(* * * * ? *)", 0, 60),
    ("cron(30 10 * * ? *)", 0, 1800),
    ("cron(0 9 ? * MON *)", 0, 3 * 86400 + 23 * 3600),  # Thursday 10:00 -> Monday 09:00
    ("rate(5 minutes)", 0, 300),
    ("rate(2 hours)", 0, 7200),
])
def test_schedule_expressions_give_the_next_firing(expression: str, after: int, expected: int) -> None:
    start = 1768471200  # 2026-01-15T10:00:00Z
    assert Schedule(expression).next_after(start + after) - start == expected


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(* * * * *)",
                                        "cron(61 * * * ? *)", "cron(* * * * * *)", "every minute"])
def test_invalid_schedule_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ValueError, match="schedule expression"):
        Schedule(expression)


def test_api_request_builds_a_rest_proxy_event_with_cognito_claims(host: FunctionHost) -> None:
    add(host, "api", "tests.lambdas.api.handler")

    response = host.api_request("api", "post", "/items/42", body={"a": 1}, query={"limit": "5", "tag": ["x", "y"]},
                                resource="/items/{id}", path_parameters={"id": "42"},
                                claims={"sub": "u-1", "cognito:groups": "ops"})

    assert response.status == 200 and response.headers["X-Echo"] == "yes"
    event = response.body["event"]
    assert (event["httpMethod"], event["path"], event["resource"]) == ("POST", "/items/42", "/items/{id}")
    assert event["pathParameters"] == {"id": "42"} and json.loads(event["body"]) == {"a": 1}
    assert event["queryStringParameters"] == {"limit": "5", "tag": "y"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["x", "y"]}
    assert event["headers"]["Content-Type"] == "application/json" and event["isBase64Encoded"] is False
    assert event["requestContext"]["stage"] == "test" and event["requestContext"]["requestId"]
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "u-1", "cognito:groups": "ops"}
    assert host.invocations[-1].trigger == "api"


def test_api_request_defaults_and_verbatim_string_body(host: FunctionHost) -> None:
    add(host, "api", "tests.lambdas.api.handler")

    response = host.api_request("api", "GET", "/items", body="{not json")

    event = response.body["event"]
    assert response.status == 400 and event["body"] == "{not json"
    assert event["queryStringParameters"] is None and event["pathParameters"] is None
    assert event["requestContext"]["authorizer"]["claims"]["cognito:username"] == "test.user"
    assert json.loads(response.raw) == response.body


@pytest.mark.parametrize("path", ["/boom", "/not-a-proxy-answer"])
def test_api_request_to_a_failing_handler_answers_502_like_api_gateway(host: FunctionHost, path: str) -> None:
    add(host, "api", "tests.lambdas.api.handler")

    response = host.api_request("api", "GET", path)

    assert (response.status, response.body) == (502, {"message": "Internal server error"})


def test_import_failure_is_a_runtime_error_of_the_invocation(host: FunctionHost) -> None:
    add(host, "broken", "tests.lambdas.does_not_exist.handler")

    invocation = host.invoke("broken")

    assert invocation.error["type"] == "Runtime.ImportModuleError"
    assert "tests.lambdas.does_not_exist" in invocation.error["message"]


def test_listeners_see_every_finished_invocation(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")
    seen = []
    host.add_listener(lambda invocation: seen.append((invocation.function, invocation.ended is not None)))

    host.invoke("echo", invocation_type="Event")

    assert seen == [("echo", True)]


def test_a_result_that_is_not_json_is_a_marshal_error(host: FunctionHost) -> None:
    add(host, "echo", "tests.lambdas.echo.handler")

    invocation = host.invoke("echo", {"not json": object()})  # the event is echoed back in the result

    assert invocation.error["type"] == "Runtime.MarshalError" and invocation.result is None


def test_sleeping_in_a_handler_is_recorded_and_takes_no_virtual_time(host: FunctionHost, world: World) -> None:
    add(host, "sleeper", "tests.lambdas.sleeper.handler")
    started = world.clock.now()

    invocation = host.invoke("sleeper", {"seconds": 3600})

    assert invocation.error is None and invocation.slept == 3600
    assert invocation.result == {"before": started, "after": started}  # an invocation is one virtual instant
    assert world.clock.now() == started
