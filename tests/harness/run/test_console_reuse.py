"""Integration: console reads reused while the world is quiescent give the very timeline of reads made every step."""

from __future__ import annotations

import dataclasses

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import AdvanceStep
from drs_parity.fixtures.scenario_parse import with_faults
from tests.harness.run.seeded_runs import side_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def idle_drill():
    """The thirty-minute drill, then ten idle minutes: the finder ticks, nothing changes."""
    drill = load_scenarios(["thirty-minute-drill"])[0]
    for system in ("monolithic", "decomposed"):  # each side's first run in the process imports what draws ids
        side_run(system, dataclasses.replace(drill, steps=drill.steps[:1]), reuse=False)
    return dataclasses.replace(drill, steps=drill.steps[:-2] + (AdvanceStep(60),) * 10 + drill.steps[-2:])


@pytest.mark.parametrize("system", ["monolithic", "decomposed"])
def test_reused_reads_give_the_same_timeline_and_leave_the_world_as_reads_would(idle_drill, system,
                                                                              monkeypatch) -> None:
    reused = side_run(system, idle_drill, reuse=True, monkeypatch=monkeypatch)
    made = side_run(system, idle_drill, reuse=False, monkeypatch=monkeypatch)
    assert made.console.reused == 0
    assert reused.console.reused >= 10  # at least the idle minutes after the execution completed
    assert reused.timeline.to_json() == made.timeline.to_json()
    assert reused.trace == made.trace  # the host's record of invocations, as the fault matrix's trace reads it
    assert reused.next_id == made.next_id  # later request ids are those the reads would have left


def test_reads_are_made_again_while_the_execution_runs(idle_drill) -> None:
    run = side_run("decomposed", idle_drill, reuse=True)
    reused_steps = len(run.timeline.steps) - 1 - run.console.reused  # setup has no console reads
    running = [step for step in run.timeline.steps
               if any(item.get("status") == "POLLING" for item in step.tables["execution-history"])]
    assert running and reused_steps >= len(running)  # a running execution's details show the clock


def test_a_scenario_with_faults_makes_every_read(idle_drill) -> None:
    faulted = with_faults(idle_drill, [{"service": "events", "fault": "skip", "afterSeconds": "2h"}], "test")
    assert side_run("monolithic", faulted, reuse=True).console.reused == 0
