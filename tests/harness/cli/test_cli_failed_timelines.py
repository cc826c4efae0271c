"""A side that fails leaves its timeline so far where its error line says: `side --json FILE`, `run`'s OUT/timelines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli import run as run_module
from drs_parity.cli import side as side_module
from drs_parity.cli.main import main
from drs_parity.cli.timelines import failed_timeline_path
from drs_parity.gate import doctor_run
from drs_parity.run.capture import StepCapture, Timeline
from drs_parity.run.driver import RunError
from tests.harness.cli.test_cli import assert_one_line_error

REFUSED = "steps[2]: there is no current execution (the start step was refused; see its response in the timeline)"


def partial_timeline(side: str, scenario: str) -> Timeline:
    """What a side captured before it failed: setup and a refused start."""
    steps = [StepCapture(index=index, name=name, kind=kind, time=1_000, api=[{"status": status, "console": False}],
                         invocations=[], calls=[], logs=[], tables={})
             for index, (name, kind, status) in enumerate([("setup", "setup", 201), ("start main DRILL", "start", 404)])]
    return Timeline(side=side, scenario=scenario, backend="moto", clock_start=1_000, steps=steps)


def failing_side(failing: str) -> Any:
    """A run_side stand-in: `failing` fails after two steps, any other side is refused before it captured anything."""

    def run(system: Any, scenario: Any, backend: str = "moto", clock_start: Any = None, **_: Any) -> Timeline:
        if system.name != failing:
            raise AssertionError("only the failing side runs")
        raise RunError(REFUSED, partial_timeline(system.name, scenario.name))

    return run


def test_side_writes_the_timeline_so_far_to_its_json_file_and_says_where(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(side_module, "run_side", failing_side("monolithic"))
    path = tmp_path / "timeline.json"
    code = main(["side", "--system", "monolithic", "--scenario", "two-wave-drill", "--json", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert_one_line_error(err, REFUSED, f"[the timeline so far (2 steps): {path}]")
    saved = json.loads(path.read_text())
    assert [step["name"] for step in saved["steps"]] == ["setup", "start main DRILL"]
    assert saved["steps"][1]["api"][0]["status"] == 404
    assert "start main DRILL" in out and "api 404" in out  # the steps so far are printed too


def test_side_without_json_says_how_to_keep_the_timeline(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(side_module, "run_side", failing_side("monolithic"))
    assert main(["side", "--system", "monolithic", "--scenario", "two-wave-drill"]) == 2
    assert_one_line_error(capsys.readouterr().err, "[2 steps captured; rerun with --json FILE")


def test_run_keeps_each_failed_sides_timeline_beside_the_reports_and_names_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "run_side", failing_side("monolithic"))
    out = tmp_path / "out"
    stale = failed_timeline_path(out, "pause-resume", "decomposed")
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")  # an earlier run's, which must not pass for this run's
    code = main(["run", "--scenario", "two-wave-drill", "--no-calibrate", "--jobs", "1", "--out", str(out)])
    _, err = capsys.readouterr()
    path = failed_timeline_path(out, "two-wave-drill", "monolithic")
    assert code == 2 and path == out / "timelines" / "two-wave-drill-monolithic.json"
    assert not stale.exists()
    assert [step["name"] for step in json.loads(path.read_text())["steps"]] == ["setup", "start main DRILL"]
    error = json.loads((out / "report.json").read_text())["scenarios"][0]["error"]
    assert error == f"monolithic: RunError: {REFUSED} [the timeline so far (2 steps): {path}]"
    assert f"drs-parity: a failed side's timeline so far: {path}\n" in err


def test_a_file_where_runs_timelines_go_is_refused_before_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "run_side", failing_side("nobody"))
    (tmp_path / "timelines").write_text("a file")
    assert main(["run", "--scenario", "two-wave-drill", "--no-calibrate", "--out", str(tmp_path)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{tmp_path / 'timelines'}: it is not a folder")


def test_a_timeline_that_cannot_be_written_keeps_the_original_error(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "run_side", failing_side("monolithic"))
    monkeypatch.setattr(run_module, "clear_failed_timelines", lambda out: (out / "timelines").write_text("taken"))
    assert main(["run", "--scenario", "two-wave-drill", "--no-calibrate", "--jobs", "1", "--out", str(tmp_path)]) == 2
    error = json.loads((tmp_path / "report.json").read_text())["scenarios"][0]["error"]
    assert error.startswith(f"monolithic: RunError: {REFUSED} [cannot write the timeline so far to ")


def test_the_doctor_says_which_command_keeps_the_timeline_so_far(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(system: str, scenario: str, backend: str, regression: Any) -> None:
        raise RunError(REFUSED, partial_timeline(system, scenario))

    monkeypatch.setattr(doctor_run, "doctor_side", refused)
    assert main(["doctor", "--system", "monolithic"]) == 2
    assert_one_line_error(capsys.readouterr().err, REFUSED, "[drs-parity side --system monolithic --scenario "
                                                            "two-wave-drill --json FILE keeps the timeline so far]")
