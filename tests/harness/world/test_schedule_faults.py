"""EventBridge schedule ticks scripted late, skipped or delivered twice, on the virtual clock."""

from typing import Iterator

import pytest

from drs_parity.world.fault_window import Window
from drs_parity.world.functions import DeployedFunction, RuleTarget, ScheduleRule
from drs_parity.world.world import World

REGION, ACCOUNT = "us-east-1", "123456789012"
ECHO_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:echo"


@pytest.fixture
def world() -> Iterator[World]:
    with World("moto", enforce_iam=False) as started:
        started.host.add_function(DeployedFunction(name="echo", arn=ECHO_ARN, handler="tests.lambdas.echo.handler"))
        for name in ("every-minute", "other"):
            started.host.add_rule(ScheduleRule(name=name, arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
                                               expression="rate(1 minute)", targets=[RuleTarget("echo", ECHO_ARN)]))
        yield started


def ticks(world: World, rule: str = "every-minute") -> list[tuple[float, str]]:
    """(seconds after the start the function ran, the scheduled time of the tick it got) for `rule`'s ticks."""
    return [(run.started - world.clock.start, run.event["time"]) for run in world.host.invocations
            if run.event["resources"] == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"]]


def run_for(world: World, seconds: int, kind: str, count: int = 1, delay: float = 0, after: float = 0) -> None:
    window = Window(frozenset({"every-minute"}), world.clock.start + after, count)
    world.host.schedules.add_fault(kind, window, delay)
    world.host.start_schedules()
    world.clock.advance(seconds)


def at(world: World, seconds: int) -> str:
    return world.clock.isoformat(world.clock.start + seconds)


def test_a_late_tick_arrives_that_much_later_with_its_own_scheduled_time(world: World) -> None:
    run_for(world, 180, "late", delay=30)

    assert ticks(world) == [(90, at(world, 60)), (120, at(world, 120)), (180, at(world, 180))]
    assert [seconds for seconds, _ in ticks(world, "other")] == [60, 120, 180]  # another rule ticks on time


def test_a_skipped_tick_is_never_delivered(world: World) -> None:
    run_for(world, 240, "skip", count=2, after=100)

    assert [seconds for seconds, _ in ticks(world)] == [60, 240]


def test_a_doubled_tick_delivers_the_same_event_twice(world: World) -> None:
    run_for(world, 120, "double")

    runs = [run for run in world.host.invocations if run.event["resources"][0].endswith("every-minute")]
    assert [run.started - world.clock.start for run in runs] == [60, 60, 120]
    assert runs[0].event["id"] == runs[1].event["id"] != runs[2].event["id"]
    assert runs[0].request_id != runs[1].request_id  # two deliveries, two invocations


def test_an_unknown_tick_fault_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown tick fault 'early'"):
        world.host.schedules.add_fault("early", Window(None, 0, 1))
