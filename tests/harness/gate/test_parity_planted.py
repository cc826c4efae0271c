"""End to end on moto: differences planted the way a user would are reported exactly; rules, noise, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli.main import main
from drs_parity.compare.divergence import Divergence
from drs_parity.gate.parity import run_parity
from drs_parity.compare.rules import load_rules
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from tests.harness.gate.parity_planting import patched_copy, system_with_environment

pytestmark = pytest.mark.slow
SCENARIO = "two-wave-drill"
APP_01 = "s-01000000000000001"
ENRICHMENT = "execution_poller/enrichment.py"


def divergences(right: Any, calibrate: bool = False) -> list[Divergence]:
    result = run_parity(load_system("monolithic"), right, load_scenarios([SCENARIO]), "moto", calibrate=calibrate)
    assert result.scenarios[0].error is None
    return result.scenarios[0].active


def found(divergence_list: list[Divergence], path: str) -> tuple[Any, Any, int, str]:
    [divergence] = [d for d in divergence_list if d.path == path]
    return divergence.left, divergence.right, divergence.step_index, divergence.step_name


@pytest.fixture(scope="module")
def seed_regression(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The seed's symptom planted in one line: the poller drops the Name tag and shows the hostname hint."""
    return patched_copy(tmp_path_factory.mktemp("seed"), "planted_seed", ENRICHMENT,
                        '"serverName": name_tag or hostname_hint,', '"serverName": hostname_hint,')


def test_one_field_a_patched_poller_shows_hostnames_instead_of_names(seed_regression: Any) -> None:
    result = divergences(seed_regression)
    path = f"tables.execution-history[<executionId:1>/0/{APP_01}].serverName"
    assert found(result, path) == ("app-01", "app-01.corp.example", 2, "advance 3m")
    assert {d.kind for d in result} == {"api", "tables"}  # calls, logs and statuses stay alike


def test_one_status_and_one_log_line_a_shorter_timeout_in_the_environment(tmp_path: Path) -> None:
    result = divergences(system_with_environment(tmp_path, {"EXECUTION_TIMEOUT_SECONDS": "240"}))
    step = (3, "until COMPLETED|FAILED within 25m")
    assert found(result, "tables.execution-history[<executionId:1>].status") == ("COMPLETED", "TIMEOUT", *step)
    timed_out = [d for d in result if d.path == "logs[Execution <executionId:1> timed out]"]
    assert [(d.left_absent, d.right, d.step_index) for d in timed_out] == [
        (True, [{"level": "INFO", "executionId": "<executionId:1>"}], 3)]


def test_one_outbound_call_a_drill_started_as_a_recovery(tmp_path: Path) -> None:
    patched = patched_copy(tmp_path, "planted_isdrill", "layer/shared/drs_gateway.py", "isDrill=is_drill,",
                           "isDrill=not is_drill,")
    result = divergences(patched)
    assert found(result, "calls[drs.StartRecovery][0].params.isDrill") == (True, False, 1, "start main DRILL")


def test_a_rule_accepts_the_divergence_and_an_unused_rule_is_stale(seed_regression: Any, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n"
        "  - path: '*.serverName'\n    scope: {scenario: two-wave-*}\n    reason: names are shown from hostnames now\n"
        "  - path: 'logs[*]'\n    reason: never needed\n")
    result = run_parity(load_system("monolithic"), seed_regression, load_scenarios([SCENARIO]), "moto",
                        load_rules(rules_file), calibrate=False)
    assert result.exit_code == 0 and result.scenarios[0].active == []
    assert len(result.all_with_status("accepted")) > 0
    assert [rule.path for rule in result.stale_rules] == ["logs[*]"]


def test_noise_calibration_finds_a_planted_nondeterminism(tmp_path: Path) -> None:
    noisy = patched_copy(tmp_path, "planted_noise", ENRICHMENT, '"instanceType": instance.get("InstanceType") '
                         'if instance else None,', '"instanceType": __import__("uuid").uuid4().hex[:8],')
    result = run_parity(noisy, noisy, load_scenarios([SCENARIO]), "moto", calibrate=True)
    outcome = result.scenarios[0]
    path = f"tables.execution-history[<executionId:1>/0/{APP_01}].instanceType"
    assert {(entry.side, entry.step_index) for entry in outcome.noise if entry.path == path} == {
        ("planted_noise (left)", 2), ("planted_noise (right)", 2)}
    assert path in {d.path for d in outcome.with_status("noise")}
    assert outcome.active == [] and result.exit_code == 0


def test_cli_exit_codes_and_reports(seed_regression: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report"
    assert main(["run", "--scenario", SCENARIO, "--no-calibrate", "--out", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["verdict"] == "parity"
    assert "drs-parity: PARITY" in capsys.readouterr().out

    code = main(["run", "--scenario", SCENARIO, "--right", str(seed_regression.path), "--no-calibrate",
                 "--out", str(out), "--junit", str(tmp_path / "junit.xml"), "--format", "json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 1 and printed["exitCode"] == 1 and printed["verdict"] == "divergence"
    assert "serverName" in (tmp_path / "junit.xml").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "report.json", "report.md"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--scenario", "no-such-scenario"], "unknown scenario"),
    (["--left", "no-such-system"], "unknown system"),
    (["--rules", "missing.yaml"], "missing.yaml: rules file not found"),
    (["--backend", "nowhere"], "unknown backend"),
])
def test_cli_user_mistakes_are_one_line_and_exit_2(argv: list[str], message: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(["run", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("drs-parity: error: ") and message in error and error.count("\n") == 1


def test_cli_a_bad_rules_file_names_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("rules:\n  - path: '*.serverName'\n")
    assert main(["run", "--rules", str(rules_file), "--scenario", SCENARIO]) == 2
    assert capsys.readouterr().err == f"drs-parity: error: {rules_file}: rules[0].reason: missing " \
                                      "(say why this divergence is accepted)\n"


def test_a_handler_that_cannot_load_is_the_systems_answer_a_divergence_exit_1(tmp_path: Path) -> None:
    # the start answers API Gateway's 502, so the side stops: its behaviour, compared, not a harness error
    broken = patched_copy(tmp_path, "planted_broken", "execution_handler/handler.py", "def lambda_handler(",
                          "def renamed_handler(")
    result = run_parity(load_system("monolithic"), broken, load_scenarios([SCENARIO]), "moto", calibrate=False)
    stop = result.scenarios[0].active[0]
    assert result.exit_code == 1 and result.scenarios[0].error is None
    assert (stop.path, stop.left["status"], stop.right["status"]) == ("steps[1].stopped[POST /executions]", 202, 502)

