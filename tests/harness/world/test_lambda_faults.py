"""Lambda's scripted faults: duplicate delivery, throttling (sync 429s botocore retries, async delays), timeouts."""

import json
import re
from typing import Iterator

import pytest

from drs_parity.world.fault_window import Window
from drs_parity.world.world import World
from tests.harness.world.small_worlds import TABLE, started_world
from tests.harness.world.small_worlds import add_function as add


@pytest.fixture
def world() -> Iterator[World]:
    yield from started_world(table=True)


def window(world: World, *functions: str, count: int = 1, after: float = 0) -> Window:
    return Window(frozenset(functions), world.clock.start + after, count)


def items(world: World) -> list[str]:
    return sorted(item["id"]["S"] for item in world.client("dynamodb").scan(TableName=TABLE)["Items"])


# -- duplicate delivery -------------------------------------------------------------------------------------------------
def test_a_duplicated_async_event_runs_twice_with_the_same_request_id(world: World) -> None:
    host = world.host
    add(host, "echo", "tests.lambdas.echo.handler")
    host.faults.add_duplicates(window(world, "echo"), delay=0)

    host.invoke("echo", {"n": 1}, invocation_type="Event")
    host.invoke("echo", {"n": 2}, invocation_type="Event")  # the window's one duplicate is used up

    runs = [(run.event, run.request_id, run.duplicate) for run in host.invocations]
    assert runs == [({"n": 1}, runs[0][1], False), ({"n": 1}, runs[0][1], True), ({"n": 2}, runs[2][1], False)]


def test_a_duplicate_delivery_gets_the_event_as_sent_not_as_the_first_delivery_left_it(world: World) -> None:
    host = world.host
    add(host, "mutator", "tests.lambdas.mutator.handler")
    host.faults.add_duplicates(window(world, "mutator"), delay=0)

    host.invoke("mutator", {"n": 1}, invocation_type="Event")

    first, duplicate = host.invocations[:2]
    assert (first.duplicate, duplicate.duplicate) == (False, True)
    assert json.loads(first.error["message"]) == json.loads(duplicate.error["message"]) == {"n": 1}


def test_a_duplicate_with_a_delay_arrives_that_much_later(world: World) -> None:
    host = world.host
    add(host, "echo", "tests.lambdas.echo.handler")
    host.faults.add_duplicates(window(world, "echo"), delay=45)

    host.invoke("echo", {}, invocation_type="Event")
    world.clock.advance(60)

    assert [(run.started - world.clock.start, run.duplicate) for run in host.invocations] == [(0, False), (45, True)]


def test_synchronous_invokes_are_never_duplicated(world: World) -> None:
    add(world.host, "echo", "tests.lambdas.echo.handler")
    world.host.faults.add_duplicates(window(world, "echo", count=5), delay=0)

    world.host.invoke("echo", {})

    assert len(world.host.invocations) == 1


# -- throttling ---------------------------------------------------------------------------------------------------------
def test_a_throttled_sync_invoke_is_retried_by_botocore_and_then_runs(world: World) -> None:
    host = world.host
    add(host, "echo", "tests.lambdas.echo.handler")
    add(host, "caller", "tests.lambdas.caller.handler")
    host.faults.add_throttle(window(world, "echo", count=2))

    caller = host.invoke("caller", {"target": "echo", "payload": {"n": 1}})

    assert caller.result["answers"][0]["payload"]["event"] == {"n": 1}
    assert [run.function for run in host.invocations] == ["caller", "echo"]
    assert caller.slept > 0  # botocore backed off twice (virtually) before the third attempt ran the function


def test_a_sync_invoke_throttled_past_botocores_retries_raises_too_many_requests(world: World) -> None:
    host = world.host
    add(host, "echo", "tests.lambdas.echo.handler")
    add(host, "caller", "tests.lambdas.caller.handler")
    host.faults.add_throttle(window(world, "echo", count=100))

    caller = host.invoke("caller", {"target": "echo"})

    assert caller.error["type"] == "TooManyRequestsException"
    assert re.fullmatch(r"An error occurred \(TooManyRequestsException\) when calling the Invoke operation \(reached "
                        r"max retries: \d+\): Rate Exceeded\.", caller.error["message"])  # retries: botocore's mode
    assert caller.calls[-1]["error"] == "TooManyRequestsException"
    assert [run.function for run in host.invocations] == ["caller"]


def test_a_throttled_async_event_waits_in_the_queue_with_doubling_backoff(world: World) -> None:
    host = world.host
    add(host, "echo", "tests.lambdas.echo.handler")
    host.faults.add_throttle(window(world, "echo", count=3))

    host.invoke("echo", {}, invocation_type="Event")
    world.clock.advance(60)

    assert [run.started - world.clock.start for run in host.invocations] == [1 + 2 + 4]


# -- timeouts -----------------------------------------------------------------------------------------------------------
def test_a_timed_out_invocation_keeps_its_writes_so_far_and_runs_nothing_after_its_timeout_point(world: World) -> None:
    host = world.host
    add(host, "writer", "tests.lambdas.writer.handler")
    host.faults.add_timeouts(frozenset({"writer"}), world.clock.start, first=1, count=1, after_calls=2)

    invocation = host.invoke("writer", {"table": TABLE, "items": 4})

    assert items(world) == ["item-0", "item-1"]
    assert [line["message"] for line in invocation.logs] == ["writing item-0", "writing item-1", "writing item-2"]
    assert invocation.error == {"type": "Sandbox.Timedout",
                                "message": f"RequestId: {invocation.request_id} Error: Task timed out after "
                                           "30.00 seconds"}
    assert invocation.result is None and len(invocation.calls) == 2


def test_only_the_scripted_invocations_time_out_and_the_async_retry_completes(world: World) -> None:
    host = world.host
    add(host, "writer", "tests.lambdas.writer.handler")
    host.faults.add_timeouts(frozenset({"writer"}), world.clock.start, first=2, count=1, after_calls=0)

    host.invoke("writer", {"table": TABLE, "items": 1}, invocation_type="Event")
    host.invoke("writer", {"table": TABLE, "items": 3}, invocation_type="Event")
    world.clock.advance(120)

    assert [(run.started - world.clock.start, run.attempt, run.error and run.error["type"])
            for run in host.invocations] == [(0, 1, None), (0, 1, "Sandbox.Timedout"), (60, 2, None)]
    assert items(world) == ["item-0", "item-1", "item-2"]


def test_a_handler_returning_before_its_timeout_point_still_times_out(world: World) -> None:
    add(world.host, "writer", "tests.lambdas.writer.handler")
    world.host.faults.add_timeouts(frozenset({"writer"}), world.clock.start, first=1, count=1, after_calls=5)

    invocation = world.host.invoke("writer", {"table": TABLE, "items": 1})

    assert invocation.error["type"] == "Sandbox.Timedout" and invocation.result is None
    assert items(world) == ["item-0"]


def test_a_timeout_counts_only_the_invocations_of_its_triggers(world: World) -> None:
    host = world.host
    add(host, "writer", "tests.lambdas.writer.handler")
    host.faults.add_timeouts(frozenset({"writer"}), world.clock.start, first=1, count=1, after_calls=0,
                             triggers=frozenset({"event", "schedule"}))

    direct = host.invoke("writer", {"table": TABLE, "items": 1})
    host.invoke("writer", {"table": TABLE, "items": 1}, trigger="event", invocation_type="Event")

    assert direct.error is None and host.invocations[1].error["type"] == "Sandbox.Timedout"
