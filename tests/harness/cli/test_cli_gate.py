"""`drs-parity run` as a gate: --strict, unreviewed rules, each scenario once, output paths checked before the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli import run as run_module
from drs_parity.cli import side as side_module
from drs_parity.cli.main import main
from drs_parity.compare.rules import PLACEHOLDER_REASON
from drs_parity.gate.results import ParityResult, ScenarioResult
from tests.harness.cli.test_cli import assert_one_line_error

EARLIER = '{"verdict": "parity", "exitCode": 0}'


class FakeParity:
    """Stands in for run_parity: records what the CLI asked for; every rule matched nothing (stale)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, left: Any, right: Any, scenarios: list[Any], backend: str, rules: Any,
                 **options: Any) -> ParityResult:
        self.calls.append({"scenarios": [scenario.name for scenario in scenarios], **options})
        return ParityResult(left.name, right.name, backend, [ScenarioResult(s.name) for s in scenarios],
                            stale_rules=list(rules.rules), rules_source=rules.source, calibrated=False,
                            strict=options.get("strict", False))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeParity:
    stand_in = FakeParity()
    monkeypatch.setattr(run_module, "run_parity", stand_in)
    return stand_in


def rules_file(tmp_path: Path, reason: str = "log wording is free") -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules:\n  - path: 'logs[Found [s-1]]'\n    scope: {{kind: logs}}\n    reason: '{reason}'\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", "--no-calibrate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_strict_fails_the_gate_on_a_stale_rule_and_lists_it(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                            fake: FakeParity) -> None:
    rules = rules_file(tmp_path)
    code, out, err = run(capsys, "--scenario", "two-wave-drill", "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 0 and err == "" and fake.calls[-1]["strict"] is False
    code, out, err = run(capsys, "--scenario", "two-wave-drill", "--rules", str(rules), "--out", str(tmp_path / "o"),
                         "--strict")
    assert code == 1 and fake.calls[-1]["strict"] is True
    assert out.rstrip().endswith("1 parity, 0 divergent, 0 errors of 1 scenarios, 1 stale rule (--strict); exit 1")
    assert err == (f"drs-parity: stale rule {rules}: rules[0]: `logs[Found [s-1]]` matched no divergence "
                   "(log wording is free)\n")
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert (report["exitCode"], report["verdict"]) == (1, "divergence")


def test_strict_with_json_output_keeps_stdout_json(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   fake: FakeParity) -> None:
    code, out, err = run(capsys, "--scenario", "two-wave-drill", "--rules", str(rules_file(tmp_path)), "--strict",
                         "--format", "json", "--out", str(tmp_path / "o"))
    assert code == 1 and json.loads(out)["staleRules"][0]["path"] == "logs[Found [s-1]]" and "stale rule" in err


def test_a_scenario_named_twice_runs_once(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          fake: FakeParity) -> None:
    code, out, _ = run(capsys, "--scenario", "two-wave-drill", "--scenario", "recovery", "--scenario",
                       "two-wave-drill", "--out", str(tmp_path / "o"))
    assert code == 0 and fake.calls[-1]["scenarios"] == ["two-wave-drill", "recovery"]
    assert out.count("| two-wave-drill |") == 1


def test_a_rules_file_still_reading_todo_is_exit_2_and_no_earlier_report_survives(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeParity) -> None:
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "report.json").write_text(EARLIER)
    rules = rules_file(tmp_path, PLACEHOLDER_REASON)
    code, out, err = run(capsys, "--scenario", "two-wave-drill", "--rules", str(rules), "--out", str(out_dir))
    assert code == 2 and out == "" and fake.calls == []
    assert_one_line_error(err, f"{rules}: rules[0].reason: still the placeholder", "'logs[Found [s-1]]'")
    assert list(out_dir.iterdir()) == []  # CI cannot pick up the earlier run's PARITY


@pytest.mark.parametrize(("junit", "message"), [
    ("folder", "cannot write the JUnit XML to {tmp}/folder: it is a folder, not a file"),
    ("file/junit.xml", "cannot write the JUnit XML to {tmp}/file: it is not a folder"),
])
def test_a_junit_path_that_cannot_be_written_is_refused_before_the_run(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeParity, junit: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("a file")
    code, _, err = run(capsys, "--scenario", "two-wave-drill", "--out", str(tmp_path / "o"), "--junit",
                       str(tmp_path / junit))
    assert code == 2 and fake.calls == []
    assert_one_line_error(err, message.format(tmp=tmp_path))


def test_a_side_timeline_path_that_cannot_be_written_is_refused_before_the_run(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the side ran")
    monkeypatch.setattr(side_module, "run_side", never)
    code = main(["side", "--system", "monolithic", "--scenario", "two-wave-drill", "--json", str(tmp_path)])
    assert code == 2
    assert_one_line_error(capsys.readouterr().err, f"cannot write the timeline to {tmp_path}: it is a folder")
