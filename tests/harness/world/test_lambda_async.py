"""Lambda's asynchronous invocation as AWS runs it: retries 1 and 2 minutes later, EventInvokeConfig, destinations."""

import json
from pathlib import Path
from typing import Iterator

import pytest

from drs_parity.world.host import FunctionHost
from drs_parity.world.lambda_async import AsyncConfig
from drs_parity.world.world import World
from tests.harness.world.small_worlds import add_function as add
from tests.harness.world.small_worlds import started_world

DESTINATIONS = Path(__file__).resolve().parent / "packages" / "async_destinations" / "template.yaml"


@pytest.fixture
def world() -> Iterator[World]:
    yield from started_world()


def runs_of(host: FunctionHost, name: str) -> list[tuple[float, int, str | None]]:
    """(seconds after the clock's start, attempt, error type) of every run of `name`."""
    return [(run.started - host.clock.start, run.attempt, run.error and run.error["type"])
            for run in host.invocations if run.function == name]


def test_a_failing_async_event_is_retried_twice_one_then_two_minutes_later(world: World) -> None:
    host = world.host
    add(host, "flaky", "tests.lambdas.flaky.handler")

    host.invoke("flaky", {"order": 7}, invocation_type="Event")
    world.clock.advance(600)
    host.drain()

    assert runs_of(host, "flaky") == [(0, 1, "RuntimeError"), (60, 2, "RuntimeError"), (180, 3, "RuntimeError")]
    assert len({run.request_id for run in host.invocations}) == 1  # every attempt is the same event
    assert all(run.event == {"order": 7} for run in host.invocations)


def test_each_retry_gets_the_event_as_sent_not_as_the_failed_attempt_left_it(world: World) -> None:
    host = world.host
    add(host, "mutator", "tests.lambdas.mutator.handler")

    host.invoke("mutator", {"order": 7, "trail": []}, invocation_type="Event")
    world.clock.advance(600)

    arrived = [json.loads(run.error["message"]) for run in host.invocations]
    assert arrived == [{"order": 7, "trail": []}] * 3
    assert len({id(run.event) for run in host.invocations}) == 3  # each attempt its own copy


def test_a_retry_that_succeeds_ends_the_retries(world: World) -> None:
    add(world.host, "flaky", "tests.lambdas.flaky.handler")

    world.host.invoke("flaky", {"failures": 1}, invocation_type="Event")
    world.clock.advance(600)

    assert runs_of(world.host, "flaky") == [(0, 1, "RuntimeError"), (60, 2, None)]


def test_a_synchronous_invoke_is_never_retried(world: World) -> None:
    add(world.host, "flaky", "tests.lambdas.flaky.handler")

    world.host.invoke("flaky", {})
    world.clock.advance(600)

    assert runs_of(world.host, "flaky") == [(0, 1, "RuntimeError")]


def test_an_async_invoke_from_code_is_retried_too(world: World) -> None:
    add(world.host, "flaky", "tests.lambdas.flaky.handler")
    add(world.host, "caller", "tests.lambdas.caller.handler")

    world.host.invoke("caller", {"target": "flaky", "type": "Event"})
    world.clock.advance(600)

    assert [attempt for _, attempt, _ in runs_of(world.host, "flaky")] == [1, 2, 3]


def test_retries_exhausted_send_the_invocation_record_to_the_on_failure_function(world: World) -> None:
    host = world.host
    flaky = add(host, "flaky", "tests.lambdas.flaky.handler")
    add(host, "recorder", "tests.lambdas.echo.handler")
    host.set_async_config("flaky", AsyncConfig(max_retry_attempts=0, on_failure=f"{flaky.arn[:-5]}recorder"))

    host.invoke("flaky", {"order": 7}, invocation_type="Event")
    world.clock.advance(600)

    assert runs_of(host, "flaky") == [(0, 1, "RuntimeError")]
    record = next(run for run in host.invocations if run.function == "recorder").event
    assert record["requestContext"] == {"requestId": host.invocations[0].request_id,
                                        "functionArn": f"{flaky.arn}:$LATEST", "condition": "RetriesExhausted",
                                        "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "run 1 failed"
    assert [(delivery["condition"], delivery["error"]) for delivery in host.deliveries] == [("RetriesExhausted", None)]


def test_an_event_older_than_its_maximum_age_is_discarded_with_event_age_exceeded(world: World) -> None:
    host = world.host
    flaky = add(host, "flaky", "tests.lambdas.flaky.handler")
    add(host, "recorder", "tests.lambdas.echo.handler")
    host.set_async_config("flaky", AsyncConfig(max_event_age=90, on_failure=f"{flaky.arn[:-5]}recorder"))

    host.invoke("flaky", {}, invocation_type="Event")
    world.clock.advance(600)

    assert runs_of(host, "flaky") == [(0, 1, "RuntimeError"), (60, 2, "RuntimeError")]  # the third would be at 180
    assert [(d["time"] - world.clock.start, d["condition"]) for d in host.deliveries] == [(90, "EventAgeExceeded")]


def test_the_templates_event_invoke_config_is_honoured_and_its_destinations_receive_records(world: World) -> None:
    stack = world.deploy(DESTINATIONS, "orders")
    host = world.host
    host.load(stack)
    worker = stack.resources["WorkerFunction"]

    host.invoke(worker, {"order": 1, "fail": True}, invocation_type="Event")
    host.invoke(worker, {"order": 2}, invocation_type="Event")
    world.clock.advance(600)

    assert [attempt for _, attempt, _ in runs_of(host, worker)] == [1, 1, 2]  # MaximumRetryAttempts: 1
    sqs = world.client("sqs")
    url = sqs.get_queue_url(QueueName=f"failed-orders-{stack.name}")["QueueUrl"]
    failed = [json.loads(message["Body"]) for message in sqs.receive_message(QueueUrl=url)["Messages"]]
    assert [(record["requestContext"]["condition"], record["requestPayload"]["order"],
             record["responsePayload"]["errorType"]) for record in failed] == [("RetriesExhausted", 1, "ValueError")]
    recorded = [run for run in host.invocations if run.function == stack.resources["RecorderFunction"]]
    assert [run.logs[0]["message"] for run in recorded] == ["recorded Success"]
    assert recorded[0].event["responsePayload"] == {"processed": 2}
