"""The fault matrix: applicability, what a run shows, how a cell is judged, the table, and `drs-parity faults`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli.main import main
from drs_parity.errors import InputError
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import AdvanceStep
from drs_parity.fixtures.scenario_parse import with_faults
from drs_parity.fixtures.system import load_system
from drs_parity.gate.fault_cases import (
    CASES, UnknownFault, applicable, exercises, fault_case, side_context, side_facts,
)
from drs_parity.gate.fault_matrix import BROKEN, HELD, NOT_APPLICABLE, SideTask, judge, run_matrix
from drs_parity.gate.fault_outcome import SideRun, differences, summarise
from drs_parity.gate.noise_cache import NoiseCache
from drs_parity.report.fault_table import figure_line, terminal_text, to_dict, write_matrix
from drs_parity.world.functions import DeployedFunction, Invocation

DECOMPOSED = load_system("decomposed")
NAMES = {"left": "monolithic", "right": "decomposed"}


# -- which scenarios a fault applies to -------------------------------------------------------------------------------
def test_a_scenario_exercises_what_its_steps_and_plans_do() -> None:
    two_wave, cancel = load_scenarios(["two-wave-drill", "cancel-wave-1"])
    assert exercises(two_wave) == {"start", "polls", "waves"}
    assert exercises(cancel) == {"start", "polls"}  # cancelled in its first wave: no poll starts the second
    assert exercises(dataclasses.replace(two_wave, steps=(AdvanceStep(60),))) == frozenset()


def test_a_fault_needing_a_wave_boundary_skips_a_scenario_without_one() -> None:
    cancel = load_scenarios(["cancel-wave-1"])[0]
    cells = {case.name for case, _ in applicable(CASES, [cancel])}
    assert "poller-duplicate" in cells and "poller-timeout-after-start" not in cells


def test_a_scale_scenario_gets_only_the_faults_that_turn_on_a_wave_of_several_jobs() -> None:
    scale, two_wave = load_scenarios(["five-hundred-servers", "two-wave-drill"])
    assert exercises(scale) == {"start", "polls", "waves", "chunks"}  # its 260-server wave is two DRS jobs
    cells = {case.name for case, _ in applicable(CASES, [scale])}
    assert cells == {case.name for case in CASES if case.at_scale} == {
        "poller-duplicate", "poller-timeout-after-start", "history-update-throttled"}
    assert len(list(applicable(CASES, [two_wave]))) == len(CASES)  # a small scenario still gets every fault


def test_an_unknown_fault_names_the_known_ones() -> None:
    with pytest.raises(UnknownFault, match="unknown fault 'nope' \\(known: drs-describe-jobs-throttled, "):
        fault_case("nope")


# -- what a side's run did --------------------------------------------------------------------------------------------
def invocation(function: str, trigger: str, calls: list[tuple[str, str, dict[str, Any]]], started: float
               ) -> Invocation:
    made = Invocation(function=function, trigger=trigger, event={}, request_id="r", started=started)
    made.calls = [{"service": service, "operation": operation, "params": params, "error": None}
                  for service, operation, params in calls]
    return made


def deployed(name: str, logical_id: str) -> DeployedFunction:
    return DeployedFunction(name=name, arn=f"arn:{name}", handler="h.h", environment={}, role_arn="r",
                            logical_id=logical_id)


def test_the_facts_name_the_poll_that_started_a_wave_by_its_number_and_calls() -> None:
    functions = {"poller-fn": deployed("poller-fn", "ExecutionPollerFunction"),
                 "handler-fn": deployed("handler-fn", "ExecutionHandlerFunction")}
    wave = {"tags": {"drs-orchestration:wave": "1"}}
    runs = [invocation("handler-fn", "event", [("drs", "StartRecovery", {"tags": {"drs-orchestration:wave": "0"}})],
                       100),
            invocation("handler-fn", "api", [], 100),
            invocation("poller-fn", "event", [("drs", "DescribeJobs", {})], 160),
            invocation("poller-fn", "event", [("drs", "DescribeJobs", {}), ("dynamodb", "GetItem", {}),
                                              ("drs", "StartRecovery", wave)], 280)]
    facts = side_facts(runs, functions, DECOMPOSED, 100)
    assert facts["wavePoll"] == {"function": "ExecutionPollerFunction", "invocation": 2, "afterCalls": 3,
                                 "atSeconds": 180}
    assert facts["asyncRoles"] == ["executions", "poller"] and facts["drsOperations"] == ["DescribeJobs",
                                                                                         "StartRecovery"]


def test_a_roles_throttle_starts_at_its_first_run_not_at_the_start_workers_event() -> None:
    monolith = load_system("monolithic")
    functions = {"api-fn": deployed("api-fn", "ApiHandlerFunction")}
    worker, tick, later = (invocation("api-fn", trigger, [], started) for trigger, started in
                           (("event", 100), ("schedule", 160), ("schedule", 220)))
    tick.logs = [{"message": "Found 0 executions in POLLING status"}]
    later.logs = [{"message": "Found 1 executions in POLLING status"}, {"message": "Polling execution: e-1"}]
    facts = side_facts([worker, tick, later], functions, monolith, 100)
    assert facts["firstRuns"] == {"finder": 60, "poller": 120}
    side = side_context(monolith, facts)
    assert fault_case("poller-throttled").build(side) == [
        {"service": "lambda", "function": "poller", "fault": "throttle", "afterSeconds": 120, "count": 4}]
    assert fault_case("finder-throttled").build(side)[0]["afterSeconds"] == 60
    assert fault_case("poller-throttled").build(side_context(monolith, {**facts, "firstRuns": {}})) is None


def step(calls: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"calls": calls, "tables": {"execution-history": items}}


def start_call(wave: int, execution: str = "e-1") -> dict[str, Any]:
    return {"service": "drs", "operation": "StartRecovery", "error": None,
            "params": {"tags": {"drs-orchestration:executionId": execution, "drs-orchestration:wave": str(wave)}}}


def execution_item(status: str, waves: list[tuple[str, str | None, list[str]]]) -> dict[str, Any]:
    return {"executionId": "e-1", "planId": "p", "status": status,
            "waves": [{"status": wave_status, "jobId": job, "serverIds": servers}
                      for wave_status, job, servers in waves]}


def server_item(wave: int, server: str, status: str) -> dict[str, Any]:
    return {"executionId": "e-1", "planId": f"p#server#{wave:04d}#{server}", "waveNumber": wave,
            "sourceServerId": server, "launchStatus": status}


def test_a_run_shows_its_final_statuses_waves_started_twice_and_server_statuses_lost() -> None:
    final = [execution_item("COMPLETED", [("COMPLETED", "j-1", ["s-1"]), ("COMPLETED", "j-3", ["s-2", "s-3"])]),
             server_item(0, "s-1", "LAUNCHED"), server_item(1, "s-2", "LAUNCHED"), server_item(1, "s-3", "PENDING")]
    run = summarise({"steps": [step([start_call(0)], []), step([start_call(1), start_call(1)], final)]},
                    DECOMPOSED.chain)
    assert run.outcome[0]["status"] == "COMPLETED" and run.outcome[0]["waves"] == ["COMPLETED", "COMPLETED"]
    assert run.starts == {"execution 1 wave 0": 1, "execution 1 wave 1": 2}
    assert run.lost == ["execution 1 wave 1 is COMPLETED but server s-3 has status PENDING"]


def test_a_failed_wave_keeps_its_other_servers_as_last_polled_and_that_snapshot_is_no_difference() -> None:
    final = [execution_item("FAILED", [("FAILED", "j-1", ["s-1", "s-2"])]),
             server_item(0, "s-1", "FAILED"), server_item(0, "s-2", "IN_PROGRESS")]
    baseline = summarise({"steps": [step([start_call(0)], final)]}, DECOMPOSED.chain)
    assert baseline.lost == []
    later = dict(baseline.outcome[0], servers={"0/s-1": "FAILED", "0/s-2": "LAUNCHED"})
    assert differences(baseline.outcome, [later]) == []
    assert differences([later], baseline.outcome) == [
        "execution 1 server 0/s-2 is IN_PROGRESS, LAUNCHED without the fault"]


# -- judging a cell ---------------------------------------------------------------------------------------------------
def side_run(status: str, waves: list[str], trace: str, starts: dict[str, int] | None = None) -> SideRun:
    return SideRun(outcome=[{"status": status, "waves": waves, "started": [True] * len(waves),
                             "serverIds": [[] for _ in waves], "servers": {}}],
                   starts=starts or {}, trace=trace)


BASELINE = side_run("COMPLETED", ["COMPLETED", "COMPLETED"], "baseline")
TASK = SideTask(load_scenarios(["two-wave-drill"])[0], "left", "poller-duplicate", ({"fault": "x"},))


def judged(case: str, left: SideRun | None, right: SideRun | None) -> tuple[Any, Any]:
    cell = judge(fault_case(case), "two-wave-drill", NAMES, {"left": BASELINE, "right": BASELINE},
                 {"left": (TASK if left else None, left), "right": (TASK if right else None, right)})
    return cell.left, cell.right


def test_a_side_holds_when_it_ends_as_without_the_fault_and_breaks_when_a_wave_starts_twice() -> None:
    same = side_run("COMPLETED", ["COMPLETED", "COMPLETED"], "faulted")
    twice = side_run("COMPLETED", ["COMPLETED", "COMPLETED"], "faulted", {"execution 1 wave 1": 2})
    left, right = judged("poller-duplicate", same, twice)
    assert (left.status, right.status) == (HELD, BROKEN)
    assert right.reasons == ("execution 1 wave 1 started 2 times",) and left.faults == ({"fault": "x"},)


def test_a_different_ending_is_broken_and_a_fault_that_never_took_effect_is_no_pass() -> None:
    stuck = side_run("POLLING", ["COMPLETED", "STARTED"], "faulted")
    left, right = judged("poller-duplicate", stuck, side_run("COMPLETED", ["COMPLETED", "COMPLETED"], "baseline"))
    assert left.reasons == ("execution 1 ended POLLING, COMPLETED without the fault (and 1 more)",)
    assert right.reasons == ("the fault never took effect: the run is the same as without it",)


def test_a_documented_failure_holds_only_when_both_sides_reach_the_same_one() -> None:
    failed = side_run("FAILED", ["FAILED", "CANCELLED"], "faulted")
    assert [verdict.status for verdict in judged("drs-start-recovery-conflict", failed, failed)] == [HELD, HELD]
    other = side_run("FAILED", ["FAILED", "PENDING"], "faulted")
    left, right = judged("drs-start-recovery-conflict", failed, other)
    assert right.reasons == ("execution 1 wave 1 is PENDING, CANCELLED on monolithic",)
    left, _ = judged("drs-start-recovery-conflict", side_run("POLLING", ["STARTED", "PENDING"], "f"), failed)
    assert left.reasons == ("the execution ended POLLING, not the documented failure FAILED",)


def test_a_side_the_fault_does_not_apply_to_is_not_judged() -> None:
    left, right = judged("poller-duplicate", None, side_run("COMPLETED", ["COMPLETED", "COMPLETED"], "f"))
    assert (left.status, right.status) == (NOT_APPLICABLE, HELD)


class FakeRunner:
    """Runs no world: the baselines say which sides run the poller asynchronously; every faulted run differs."""

    def __init__(self, async_roles: dict[str, list[str]]) -> None:
        self.async_roles = async_roles
        self.tasks: list[SideTask] = []

    def __call__(self, task: SideTask) -> SideRun:
        self.tasks.append(task)
        facts = {"asyncRoles": self.async_roles[task.side], "drsOperations": [], "wavePoll": None}
        run = side_run("COMPLETED", ["COMPLETED", "COMPLETED"], task.fault or "baseline")
        return dataclasses.replace(run, facts=facts if task.fault is None else {})


def test_the_matrix_runs_each_side_where_the_fault_applies_and_counts_the_cells_judged() -> None:
    runner = FakeRunner({"left": ["poller"], "right": []})
    result = run_matrix(load_system("monolithic"), DECOMPOSED, load_scenarios(["two-wave-drill"]),
                        cases=[fault_case("poller-duplicate"), fault_case("poller-timeout-after-start")],
                        runner=runner)
    assert [(task.fault, task.side) for task in runner.tasks] == [
        (None, "left"), (None, "right"), ("poller-duplicate", "left")]
    duplicate = result.cell("poller-duplicate", "two-wave-drill")
    assert (duplicate.left.status, duplicate.right.status) == (HELD, NOT_APPLICABLE)
    assert not result.cell("poller-timeout-after-start", "two-wave-drill").applies  # no poll started a wave
    assert (result.held, len(result.judged), result.exit_code) == (1, 1, 0)
    assert figure_line(result) == "faults held 1/1"


def test_no_applicable_cell_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no fault of poller-timeout-after-start applies to cancel-wave-1"):
        run_matrix(load_system("monolithic"), DECOMPOSED, load_scenarios(["cancel-wave-1"]),
                   cases=[fault_case("poller-timeout-after-start")], runner=FakeRunner({}))


def test_faults_added_to_a_scenario_change_its_noise_cache_key() -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    faulted = with_faults(scenario, [{"service": "lambda", "function": "poller", "fault": "duplicate-delivery"}])
    cache = NoiseCache()
    assert cache.key(DECOMPOSED, scenario, "right", "moto") != cache.key(DECOMPOSED, faulted, "right", "moto")


# -- the table and its files ------------------------------------------------------------------------------------------
def test_the_table_marks_each_side_and_the_files_hold_the_same(tmp_path: Path) -> None:
    result = run_matrix(load_system("monolithic"), DECOMPOSED, load_scenarios(["two-wave-drill"]),
                        cases=[fault_case("poller-duplicate")], runner=FakeRunner({"left": ["poller"],
                                                                                   "right": ["poller"]}))
    text = terminal_text(result)
    assert "| fault (monolithic / decomposed) | two-wave-drill |" in text
    assert "| `poller-duplicate` | ✓ ✓ |" in text and text.endswith("faults held 1/1\n")
    paths = write_matrix(result, tmp_path / "out")
    assert "faults held 1/1" in paths["md"].read_text()
    cell = json.loads(paths["json"].read_text())["cells"][0]
    assert cell["sides"]["right"] == {"system": "decomposed", "status": "held", "reasons": [], "faults": [
        {"service": "lambda", "function": "poller", "fault": "duplicate-delivery", "count": 1000}]}
    assert to_dict(result)["held"] == 1


# -- the command ------------------------------------------------------------------------------------------------------
def test_the_command_prints_the_table_and_writes_it_exit_0_when_every_cell_held(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["faults", "--fault", "finder-tick-skipped", "--scenario", "cancel-wave-1", "--jobs", "1",
                 "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "| `finder-tick-skipped` | ✓ ✓ |" in out and out.endswith("faults held 1/1\n")
    assert "ran finder-tick-skipped × cancel-wave-1 (right)" in err
    assert json.loads((tmp_path / "fault-matrix.json").read_text())["judged"] == 1


def test_the_command_exits_1_and_says_why_when_a_side_does_not_hold(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["faults", "--fault", "poller-duplicate", "--scenario", "two-wave-drill", "--jobs", "1",
                 "--right-regression", "poller-not-idempotent"])
    out, _ = capsys.readouterr()
    assert code == 1, out
    assert "| `poller-duplicate` | ✓ ✗ |" in out
    assert ("- `poller-duplicate` × `two-wave-drill`, decomposed-poller-not-idempotent: execution 1 wave 1 started "
            "2 times") in out
    assert out.endswith("faults held 0/1\n")
