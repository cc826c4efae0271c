"""Scenarios in parallel processes: longest first, results (and the report) as a serial run gives them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli.main import main
from drs_parity.fixtures.scenario import list_scenarios, load_scenarios
from drs_parity.gate.jobs import default_jobs, estimated_cost, longest_first, run_ordered
from drs_parity.gate.parity import run_parity
from tests.harness.compare.parity_samples import timeline


class Named:
    def __init__(self, name: str, steps: tuple[Any, ...] = ()) -> None:
        self.name, self.steps = name, steps


class Advance:
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.done_names: list[str] = []

    def start(self, scenario: str) -> None:
        self.started.append(scenario)

    def done(self, result: Any) -> None:
        self.done_names.append(result[0])


def square_with_pid(task: Named) -> tuple[str, int, int]:
    return task.name, len(task.name) ** 2, os.getpid()


def test_results_come_in_the_tasks_order_from_other_processes() -> None:
    tasks = [Named(name) for name in ("a", "bbb", "cc", "dddd")]
    listener = Recorder()
    results = run_ordered(tasks, square_with_pid, 2, lambda task: task.name, listener)
    assert [(name, square) for name, square, _ in results] == [("a", 1), ("bbb", 9), ("cc", 4), ("dddd", 16)]
    assert os.getpid() not in {pid for *_, pid in results}
    assert sorted(listener.started) == sorted(listener.done_names) == ["a", "bbb", "cc", "dddd"]


def test_one_job_runs_in_this_process_in_order() -> None:
    listener = Recorder()
    results = run_ordered([Named("x"), Named("y")], square_with_pid, 1, lambda task: task.name, listener)
    assert {pid for *_, pid in results} == {os.getpid()} and listener.started == ["x", "y"]


def test_a_failing_task_fails_the_parallel_run() -> None:
    def fail(task: Named) -> None:
        raise ValueError(f"no {task.name}")

    with pytest.raises(ValueError, match="no "):
        run_ordered([Named("p"), Named("q")], fail, 2, lambda task: task.name)


def test_longest_first_by_steps_and_virtual_time_ties_keep_order() -> None:
    tasks = [Named("short", (Advance(60),)), Named("long", (Advance(3600), Advance(60))),
             Named("same-a", (Advance(600),)), Named("same-b", (Advance(600),))]
    assert estimated_cost(tasks[1]) > estimated_cost(tasks[2]) > estimated_cost(tasks[0])
    assert [tasks[index].name for index in longest_first(tasks)] == ["long", "same-a", "same-b", "short"]
    assert default_jobs() >= 1


def test_a_scenario_reaching_another_account_is_started_before_a_longer_one_in_one_account() -> None:
    one_account = Named("one-account", (Advance(3600),))
    two_accounts = Named("two-accounts", (Advance(600),))
    two_accounts.target_accounts = (object(),)  # type: ignore[attr-defined]
    assert longest_first([one_account, two_accounts]) == [1, 0]


def test_the_default_matrix_starts_its_scale_scenario_first() -> None:
    scenarios = load_scenarios(list_scenarios())
    assert scenarios[longest_first(scenarios)[0]].name == "five-hundred-servers"  # 520 servers, the costliest


def side(system: Any, scenario: Any, backend: str, clock_start: int) -> dict[str, Any]:
    data = timeline(system)
    data["scenario"] = scenario.name
    return data


def test_a_parallel_parity_run_is_the_serial_run() -> None:
    scenarios = [Named(name) for name in ("one", "two", "three")]
    serial = run_parity("monolithic", "decomposed", scenarios, "moto", runner=side, jobs=1)
    parallel = run_parity("monolithic", "decomposed", scenarios, "moto", runner=side, jobs=3)
    assert [s.scenario for s in parallel.scenarios] == ["one", "two", "three"]
    for one, other in zip(serial.scenarios, parallel.scenarios):
        one.timings, other.timings = {}, {}
    assert parallel.scenarios == serial.scenarios and parallel.exit_code == serial.exit_code


def test_one_scenario_on_two_jobs_runs_its_two_sides_at_once_in_other_processes(tmp_path: Path) -> None:
    where = tmp_path / "pids"

    def side_telling_its_pid(system: Any, scenario: Any, backend: str, clock_start: int) -> dict[str, Any]:
        with where.open("a") as pids:
            pids.write(f"{system} {os.getpid()}\n")
        # at once: each side waits for the other to have started (one after the other, the first waits in vain)
        deadline = time.monotonic() + 20
        while len(where.read_text().splitlines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return side(system, scenario, backend, clock_start)

    result = run_parity("monolithic", "decomposed", [Named("alone")], "moto", runner=side_telling_its_pid, jobs=2,
                        calibrate=False)
    ran = dict(line.split() for line in where.read_text().splitlines())
    assert sorted(ran) == ["decomposed", "monolithic"]
    assert len(set(ran.values())) == 2 and str(os.getpid()) not in ran.values()  # each in a process of its own
    assert set(result.scenarios[0].timings) == {"monolithic", "decomposed"} and result.exit_code == 0


def test_one_scenario_on_two_jobs_is_the_serial_run_and_a_failing_side_is_its_error() -> None:
    def fails_on_the_right(system: Any, scenario: Any, backend: str, clock_start: int) -> dict[str, Any]:
        if system == "decomposed":
            raise RuntimeError("the right side's world would not start")
        return side(system, scenario, backend, clock_start)

    for runner in (side, fails_on_the_right):
        serial, parallel = (run_parity("monolithic", "decomposed", [Named("alone")], "moto", runner=runner, jobs=jobs)
                            for jobs in (1, 2))
        for outcome in (*serial.scenarios, *parallel.scenarios):
            outcome.timings, outcome.wall_seconds = {}, 0.0
        assert parallel.scenarios == serial.scenarios and parallel.exit_code == serial.exit_code
    assert parallel.scenarios[0].error == "decomposed: RuntimeError: the right side's world would not start"


def without_timings(report: Any) -> Any:
    """The report without its wall times (the run's and each scenario's), which no two runs share."""
    if isinstance(report, dict):
        return {key: without_timings(value) for key, value in report.items() if key != "timings"}
    return [without_timings(value) for value in report] if isinstance(report, list) else report


@pytest.mark.slow
def test_jobs_2_writes_the_report_jobs_1_writes(tmp_path: Path) -> None:
    scenarios = ["--scenario", "two-wave-drill", "--scenario", "cancel-wave-1", "--scenario", "drill-launch-failure"]
    for jobs in ("1", "2"):
        assert main(["run", *scenarios, "--no-calibrate", "--jobs", jobs, "--out", str(tmp_path / jobs)]) == 0
    serial, parallel = (json.loads((tmp_path / jobs / "report.json").read_text()) for jobs in ("1", "2"))
    assert [s["name"] for s in parallel["scenarios"]] == ["two-wave-drill", "cancel-wave-1", "drill-launch-failure"]
    assert without_timings(parallel) == without_timings(serial)
