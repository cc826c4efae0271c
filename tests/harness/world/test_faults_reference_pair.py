"""Every world fault on the reference pair, through run_side: the fault shows in the run, and each side still
reaches the scenario's final statuses. A fault naming what a system lacks is one line naming the fault."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_parse import with_faults
from drs_parity.run.capture import Timeline
from drs_parity.run.driver import check_expectations, run_side
from drs_parity.world.faults import FaultTargetError
from drs_parity.world.world import World

SIDES = ("monolithic", "decomposed")
SCENARIO = "two-wave-drill"
Evidence = Callable[[World, Timeline], bool]


def records(timeline: Timeline, kind: str) -> Iterator[dict[str, Any]]:
    return (record for step in timeline.steps for record in getattr(step, kind))


def mentions(text: str) -> Evidence:
    """The run's errors, failed calls or log lines say `text` somewhere."""
    def seen(_: World, timeline: Timeline) -> bool:
        said = [str(record.get("error")) for record in records(timeline, "invocations")]
        said += [str(record.get("error")) for record in records(timeline, "calls")]
        said += [str(record.get("message")) for record in records(timeline, "logs")]
        return any(text in line for line in said)
    return seen


def duplicated(_: World, timeline: Timeline) -> bool:
    return any(record.get("duplicate") for record in records(timeline, "invocations"))


def timed_out_then_retried(_: World, timeline: Timeline) -> bool:
    invocations = list(records(timeline, "invocations"))
    return any((record["error"] or {}).get("type") == "Sandbox.Timedout" for record in invocations) and any(
        record.get("attempt") == 2 for record in invocations)


def async_run_off_the_minute(world: World, _: Timeline) -> bool:
    """Schedules tick and the scenario steps on whole minutes: an async run between them was delayed."""
    return any((run.started - world.clock.start) % 60 for run in world.host.invocations
               if run.trigger in ("event", "schedule"))


def finder_missed_a_polling_execution(_: World, timeline: Timeline) -> bool:
    """A finder found no POLLING execution right after the previous step captured one POLLING: the index lagged."""
    return any(any(item.get("status") == "POLLING" for item in before.tables["execution-history"])
               and any(line.get("message") == "Found 0 executions in POLLING status" for line in after.logs)
               for before, after in zip(timeline.steps, timeline.steps[1:]))


def paged(_: World, timeline: Timeline) -> bool:
    return any(call["operation"] in ("Query", "Scan") and "ExclusiveStartKey" in call["params"]
               for call in records(timeline, "calls"))


def ticks_missing(world: World, timeline: Timeline) -> bool:
    minutes = (timeline.steps[-1].time - world.clock.start) // 60
    return sum(1 for run in world.host.invocations if run.trigger == "schedule") < minutes


def tick_delivered_twice(world: World, _: Timeline) -> bool:
    ids = [run.event.get("id") for run in world.host.invocations if run.trigger == "schedule"]
    return len(ids) != len(set(ids))


FAULTS: dict[str, tuple[dict[str, Any], Evidence]] = {
    "duplicate-delivery": ({"service": "lambda", "function": "poller", "fault": "duplicate-delivery", "count": 100},
                           duplicated),
    "throttle": ({"service": "lambda", "function": "poller", "fault": "throttle", "afterSeconds": 60, "count": 20},
                 async_run_off_the_minute),
    "timeout": ({"service": "lambda", "function": "poller", "fault": "timeout", "invocation": 3, "afterCalls": 2,
                 "trigger": "async"}, timed_out_then_retried),
    "gsi-lag": ({"service": "dynamodb", "table": "execution-history", "index": "StatusIndex", "fault": "gsi-lag",
                 "lag": "90s"}, finder_missed_a_polling_execution),
    "backfilling": ({"service": "dynamodb", "table": "execution-history", "index": "StatusIndex",
                     "fault": "backfilling", "duration": "5m"},
                    mentions("Cannot read from backfilling global secondary index: StatusIndex")),
    "throughput-exceeded": ({"service": "dynamodb", "table": "execution-history", "operation": "UpdateItem",
                             "fault": "throughput-exceeded", "afterSeconds": 60, "count": 12},
                            mentions("ProvisionedThroughputExceededException")),
    "small-pages": ({"service": "dynamodb", "table": "execution-history", "fault": "small-pages", "pageSize": 1},
                    paged),
    "late": ({"service": "events", "fault": "late", "delay": "30s", "count": 5}, async_run_off_the_minute),
    "skip": ({"service": "events", "fault": "skip", "afterSeconds": 100, "count": 3}, ticks_missing),
    "double": ({"service": "events", "rule": "finder", "fault": "double", "count": 100}, tick_delivered_twice),
}


def run_with(side: str, fault: dict[str, Any], evidence: Evidence = lambda *_: True
             ) -> tuple[bool, Timeline, list[str]]:
    """(whether the run shows the fault's evidence, its timeline, its unmet expectations)."""
    scenario = with_faults(load_scenarios([SCENARIO])[0], [fault])
    with World("moto", region=scenario.region) as world:
        timeline = run_side(side, scenario, world=world)
        return evidence(world, timeline), timeline, check_expectations(scenario, timeline)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", FAULTS)
def test_the_reference_pair_reaches_its_final_statuses_under_the_fault(name: str, side: str) -> None:
    shown, timeline, problems = run_with(side, *FAULTS[name])

    assert shown, f"{name} left no trace on {side}"
    assert problems == []
    starts = [call for call in records(timeline, "calls") if call["operation"] == "StartRecovery"]
    assert len(starts) == 2  # one per wave: no wave started twice


@pytest.mark.parametrize("fault, problem", [
    ({"service": "lambda", "function": "pollster", "fault": "throttle"},
     "faults[0].function: 'pollster' is neither a function nor a role of system decomposed (functions: "),
    ({"service": "dynamodb", "table": "history", "fault": "small-pages"},
     "faults[0].table: 'history' is not a table of system decomposed (tables: execution-history, "),
    ({"service": "dynamodb", "table": "execution-history", "index": "ByStatus", "fault": "gsi-lag", "lag": 5},
     "faults[0].index: table drs-orchestration-execution-history-test has no global secondary index 'ByStatus' "
     "(it has: StatusIndex, planIdIndex) ('execution-history' of system decomposed)"),
    ({"service": "events", "rule": "WorkerScheduleRule", "fault": "skip"},
     "faults[0].rule: 'WorkerScheduleRule' is neither a schedule rule of system decomposed nor a role its rules "
     "target (rules: FinderScheduleRule)"),
])
def test_a_fault_naming_what_the_system_lacks_is_one_line_naming_the_fault(fault: dict[str, Any],
                                                                           problem: str) -> None:
    with pytest.raises(FaultTargetError) as caught:
        run_with("decomposed", fault)
    assert str(caught.value).startswith(f"faults given to with_faults: {problem}")
    assert "\n" not in str(caught.value)
