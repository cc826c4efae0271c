"""Parity runs on synthetic sides (a fake driver): exit codes, noise, errors, and every report format."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree

import yaml

from harness.parity import run_parity
from harness.report import ParityResult, Progress, to_html, to_json, to_junit, to_markdown, write_reports
from harness.rules import Rule, RuleSet, glob_match
from parity_samples import SERVER_A, timeline

SERVER_NAME_PATH = f"tables.execution-history[<executionId:1>].waves[0].serverStatuses[{SERVER_A}].serverName"


class System:
    def __init__(self, name: str, make: Callable[[str], dict[str, Any]]) -> None:
        self.name, self.make = name, make


class Scenario:
    def __init__(self, name: str) -> None:
        self.name = name


def runner(system: System, scenario: Scenario, backend: str, clock_start: int) -> dict[str, Any]:
    data = system.make(system.name)
    data["scenario"] = scenario.name
    return data


def failing(name: str) -> dict[str, Any]:
    raise RuntimeError("deploy failed: ExecutionHistoryTable\nsecond line never shown")


def flaky() -> Callable[[str], dict[str, Any]]:
    """A side whose lastPolledTime wobbles between runs: nondeterminism that calibration must find."""
    runs = iter(range(100))

    def make(name: str) -> dict[str, Any]:
        data = timeline(name)
        late = (next(runs) + 1) % 2 * 30  # 30 s late, then on time, then late...
        data["steps"][2]["tables"]["execution-history"][0]["lastPolledTime"] += late
        return data
    return make


MONOLITH = System("monolithic", timeline)
BROKEN = System("decomposed", lambda name: timeline(name, server_name=None))


def parity(left: System, right: System, names: tuple[str, ...] = ("two-wave-drill",), **kwargs: Any) -> ParityResult:
    return run_parity(left, right, [Scenario(n) for n in names], "moto", runner=runner, **kwargs)


def test_alike_sides_exit_0() -> None:
    result = parity(MONOLITH, System("decomposed", timeline))
    assert result.exit_code == 0 and result.verdict == "parity"
    assert (result.scenarios[0].left_final, result.scenarios[0].right_final) == ("COMPLETED", "COMPLETED")


def test_a_divergence_exits_1_and_names_path_step_and_values() -> None:
    result = parity(MONOLITH, BROKEN)
    assert result.exit_code == 1
    found = {d.path: d for d in result.scenarios[0].active}
    assert (found[SERVER_NAME_PATH].left, found[SERVER_NAME_PATH].right, found[SERVER_NAME_PATH].step_index) == (
        "web-01", None, 2)


def test_a_side_error_is_that_scenarios_error_and_the_others_still_run() -> None:
    calls: list[str] = []

    def fails_once(system: System, scenario: Scenario, backend: str, clock_start: int) -> dict[str, Any]:
        calls.append(scenario.name)
        if scenario.name == "bad" and system.name == "decomposed":
            failing(system.name)
        return runner(system, scenario, backend, clock_start)

    result = run_parity(MONOLITH, System("decomposed", timeline), [Scenario("bad"), Scenario("good")], "moto",
                        runner=fails_once, calibrate=False)
    assert result.exit_code == 2
    assert [s.status for s in result.scenarios] == ["error", "parity"]
    assert result.scenarios[0].error == "decomposed: RuntimeError: deploy failed: ExecutionHistoryTable"
    assert "good" in calls


def test_accepted_divergences_exit_0_and_unused_rules_are_stale() -> None:
    accept = Rule(path="*.serverName", reason="names arrive a poll later")
    unused = Rule(path="logs[*]", reason="never needed")
    result = parity(MONOLITH, BROKEN, rules=RuleSet([accept, unused], "rules.yaml"))
    assert result.exit_code == 0
    assert {d.rule.path for d in result.all_with_status("accepted")} == {"*.serverName"}
    assert result.stale_rules == [unused]


def test_calibration_finds_noise_and_excludes_it_from_the_verdict() -> None:
    result = parity(System("monolithic", flaky()), System("decomposed", timeline))
    noise = result.scenarios[0].noise
    assert [(n.side, n.path, n.step_index) for n in noise] == [
        ("monolithic", "tables.execution-history[<executionId:1>].lastPolledTime", 2)]
    assert result.exit_code == 0
    assert [d.path for d in result.all_with_status("noise")] == [
        "tables.execution-history[<executionId:1>].lastPolledTime"]


def test_without_calibration_the_same_nondeterminism_is_a_divergence() -> None:
    result = parity(System("monolithic", flaky()), System("decomposed", timeline), calibrate=False)
    assert result.scenarios[0].noise == []
    assert [d.path for d in result.scenarios[0].active] == ["tables.execution-history[<executionId:1>].lastPolledTime"]
    assert result.exit_code == 1


def test_json_report_schema() -> None:
    report = to_json(parity(MONOLITH, BROKEN, ("two-wave-drill", "recovery")))
    assert report["schemaVersion"] == 1 and report["exitCode"] == 1 and report["verdict"] == "divergence"
    assert [s["name"] for s in report["scenarios"]] == ["two-wave-drill", "recovery"]
    assert report["scenarios"][0]["counts"] == {"divergence": 2, "accepted": 0, "noise": 0}
    first = report["divergences"][0]
    assert set(first) >= {"scenario", "kind", "path", "left", "right", "firstStep", "steps", "status"}
    assert set(report) >= {"accepted", "noise", "staleRules", "timings"}
    json.dumps(report)


def test_markdown_has_summary_values_and_a_paste_ready_rule_that_accepts_the_divergence() -> None:
    result = parity(MONOLITH, BROKEN)
    text = to_markdown(result)
    assert "| two-wave-drill | ❌ divergence | COMPLETED | COMPLETED | 2 | 0 | 0 |" in text
    assert f"`{SERVER_NAME_PATH}`" in text and '- monolithic: `"web-01"`' in text and "- decomposed: `null`" in text
    snippet = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    [rule] = yaml.safe_load(snippet)
    divergence = result.scenarios[0].active[0]
    assert glob_match(rule["path"], divergence.path) and rule["scope"]["kind"] == divergence.kind
    assert Rule(path=rule["path"], reason="x", scenario=rule["scope"]["scenario"], step=rule["scope"]["step"],
                kind=rule["scope"]["kind"]).matches(divergence)


def test_html_is_self_contained_and_escaped() -> None:
    page = to_html(parity(MONOLITH, BROKEN))
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert "&lt;executionId:1&gt;" in page and "<executionId:1>" not in page


def test_junit_has_one_testcase_per_scenario_with_the_divergences() -> None:
    suite = ElementTree.fromstring(to_junit(parity(MONOLITH, BROKEN, ("two-wave-drill", "recovery"))))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["two-wave-drill", "recovery"]
    assert suite.get("failures") == "2"
    assert SERVER_NAME_PATH in cases[0].find("failure").text


def test_write_reports_writes_all_four_files(tmp_path: Path) -> None:
    files = write_reports(parity(MONOLITH, MONOLITH), tmp_path / "out", tmp_path / "ci" / "junit.xml")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.md"]
    assert files["junit"].read_text().startswith("<?xml")


def test_progress_rewrites_one_line_per_scenario_on_a_terminal_and_is_quiet_otherwise() -> None:
    shown, quiet = io.StringIO(), io.StringIO()
    parity(MONOLITH, BROKEN, ("a", "b"), progress=Progress(shown, enabled=True))
    parity(MONOLITH, BROKEN, ("a", "b"), progress=Progress(quiet))  # StringIO is not a TTY
    lines = shown.getvalue().rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("  a … running\r") and "❌ divergence" in lines[1]
    assert quiet.getvalue() == ""
