"""Parity runs on synthetic sides (a fake driver): exit codes, noise, errors, and every report format."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree

import yaml

from drs_parity.compare.classify import classify
from drs_parity.compare.divergence import Divergence, Rule
from drs_parity.diagnose.diagnosis import FAIL, PASS, Check, Diagnosis
from drs_parity.compare.normalise import UUID, NormaliseOptions, normalise_timeline
from drs_parity.gate.parity import normalised_with_diagnosis, run_parity
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.report.files import write_reports
from drs_parity.report.html_page import to_html
from drs_parity.report.json_report import to_json
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown
from drs_parity.report.terminal import Progress, terminal_summary
from drs_parity.compare.rules import PLACEHOLDER_REASON, RuleSet, load_rules
from tests.harness.compare.parity_samples import SERVER_A, START, timeline

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
    assert report["schemaVersion"] == 3 and report["exitCode"] == 1 and report["verdict"] == "divergence"
    assert [s["name"] for s in report["scenarios"]] == ["two-wave-drill", "recovery"]
    assert report["scenarios"][0]["counts"] == {"divergence": 2, "accepted": 0, "noise": 0}
    assert set(report["scenarios"][0]) >= {"chain", "firstDivergence", "tracks", "runtimeFailures"}
    first = report["divergences"][0]
    assert set(first) >= {"scenario", "kind", "path", "record", "left", "right", "firstStep", "steps", "status"}
    assert set(report) >= {"accepted", "noise", "staleRules", "timings", "strict", "shard", "matrix"}
    json.dumps(report)


def test_markdown_has_summary_values_and_a_paste_ready_rule_that_accepts_the_divergence() -> None:
    result = parity(MONOLITH, BROKEN)
    text = to_markdown(result)
    assert "| two-wave-drill | ❌ divergence | COMPLETED | COMPLETED |" in text and "| 2 | 0 | 0 |" in text
    [line] = [line for line in text.splitlines() if line.startswith(f"- `{SERVER_NAME_PATH}`")]
    assert 'monolithic `"web-01"`' in line and "decomposed `null`" in line and "step 2 `advance 2m`" in line
    snippet = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = yaml.safe_load(snippet)["rules"]
    assert len(rules) == len(result.scenarios[0].active)
    for divergence in result.scenarios[0].active:
        assert any(Rule(path=rule["path"], reason="x", scenario=rule["scope"]["scenario"], step=rule["scope"]["step"],
                        kind=rule["scope"]["kind"]).matches(divergence) for rule in rules)


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


def test_progress_rewrites_one_line_per_scenario_on_a_terminal_and_writes_plain_lines_otherwise() -> None:
    shown, log, off = io.StringIO(), io.StringIO(), io.StringIO()
    parity(MONOLITH, BROKEN, ("a", "b"), progress=Progress(shown, tty=True))
    parity(MONOLITH, BROKEN, ("a", "b"), progress=Progress(log))  # StringIO is not a TTY: a CI log
    parity(MONOLITH, BROKEN, ("a", "b"), progress=Progress(off, enabled=False))
    lines = shown.getvalue().rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("  a … running\r") and "❌ divergence" in lines[1]
    logged = log.getvalue().splitlines()  # one line per scenario as it finishes, nothing rewritten
    assert [line.split()[:2] for line in logged] == [["drs-parity:", "a"], ["drs-parity:", "b"]]
    assert all("❌ divergence" in line and re.search(r"\d+\.\ds\)$", line) for line in logged)
    assert "\r" not in log.getvalue() and "running" not in log.getvalue() and off.getvalue() == ""


# -- the chain, the first divergence and the grouped list, on synthetic results ---------------------------------------
LEFT, RIGHT = "monolithic", "decomposed"
DENIED = ("Error invoking poller for execution <executionId:1>: AccessDeniedException: User: "
          "arn:aws:sts::1:assumed-role/stack-ExecutionFinderRole-{suffix}/finder is not authorized to perform: "
          "lambda:InvokeFunction")
ITEM = "tables.execution-history[<executionId:1>]"


def diagnosis(side: str, broken: tuple[str, str] | None = None) -> Diagnosis:
    checks = [Check("status-polling", "POLLING", PASS, "status POLLING → COMPLETED")]
    if broken:
        checks.append(Check(broken[0], "the link", FAIL, broken[1]))
    return Diagnosis(side, "two-wave-drill", "<executionId:1>", checks)


def divergence(kind: str, path: str, left: Any, right: Any, step: int = 2, **flags: Any) -> Divergence:
    names = {2: "advance 3m", 3: "until COMPLETED|FAILED within 25m"}
    return Divergence("two-wave-drill", kind, path, left, right, step, names[step], **flags)


def poller_never_ran(suffix: str = "ABC123") -> list[Divergence]:
    """What the poller-name-wrong regression looks like, effects first (the diff's own order)."""
    log = [{"level": "ERROR", "executionId": "<executionId:1>"}]
    return [
        divergence("api", "api[GET /executions/<executionId:1>].body.status", "COMPLETED", "POLLING", 3, steps=2),
        divergence("api", "api[GET /executions/<executionId:1>].body.waves[0].status", "COMPLETED", "STARTED"),
        divergence("tables", f"{ITEM}.waves[0].status", "COMPLETED", "STARTED", steps=4),
        divergence("tables", f"{ITEM}.lastPolledTime", "<t+180>", None, steps=4),
        divergence("tables", f"{ITEM}.status", "COMPLETED", "POLLING", 3),
        divergence("calls", "calls[drs.DescribeJobs]", [{"params": {}, "error": None}] * 3, None, right_absent=True),
        divergence("logs", "logs[Polling execution: <executionId:1>]", [{"level": "INFO"}], None, right_absent=True),
        divergence("logs", f"logs[{DENIED.format(suffix=suffix)}]", None, log * 3, left_absent=True),
    ]


def divergent(suffix: str = "ABC123") -> ParityResult:
    scenario = ScenarioResult("two-wave-drill", poller_never_ran(suffix), left_final="COMPLETED",
                              right_final="POLLING", left_chain=diagnosis(LEFT),
                              right_chain=diagnosis(RIGHT, ("poller-invoked", DENIED.format(suffix=suffix))))
    return ParityResult(LEFT, RIGHT, "moto", [scenario], calibrated=False)


CHAIN = (f"{LEFT}: chain healthy · {RIGHT}: broken at `poller-invoked` — Error invoking poller for execution "
         "<executionId:1>: AccessDeniedException: …")
HEADLINE = (f"first divergence at step 2 `advance 3m`: logs — {RIGHT} logged `Error invoking poller for execution "
            f"<executionId:1>: AccessDeniedException: …` (absent on {LEFT}); 5 more divergences at this step")


def test_divergences_are_listed_causes_before_effects() -> None:
    order = [(d.step_index, d.kind, d.path) for d in divergent().scenarios[0].active]
    assert order == [
        (2, "logs", f"logs[{DENIED.format(suffix='ABC123')}]"),  # an error line before an ordinary one
        (2, "logs", "logs[Polling execution: <executionId:1>]"),
        (2, "calls", "calls[drs.DescribeJobs]"),
        (2, "tables", f"{ITEM}.lastPolledTime"), (2, "tables", f"{ITEM}.waves[0].status"),
        (2, "api", "api[GET /executions/<executionId:1>].body.waves[0].status"),
        (3, "tables", f"{ITEM}.status"), (3, "api", "api[GET /executions/<executionId:1>].body.status")]


def test_markdown_top_says_which_link_broke_and_where_it_first_diverged() -> None:
    text = to_markdown(divergent())
    assert f"| COMPLETED | POLLING | {RIGHT}: poller-invoked | 8 | 0 | 0 |" in text
    assert f"- **Chain:** {CHAIN}\n- **Where:** {HEADLINE}\n" in text
    assert "ABC123" not in text.split("### All", 1)[0]  # the top is stable: no deployment-specific names
    top = text.index("**Chain:**")
    assert top < text.index("### First divergent step: 2 `advance 3m` (6 divergences") < text.index("### All 8")
    first_rows = text.split("### First divergent step", 1)[1].split("### All", 1)[0]
    assert first_rows.index("| logs | `logs[Error invoking") < first_rows.index("| calls |") < first_rows.index(
        "| tables |") < first_rows.index("| api |") and "POLLING" not in first_rows  # step 3 is not the first step


def test_the_full_list_groups_by_kind_and_record_with_counts_values_steps_and_rules() -> None:
    text = to_markdown(divergent())
    listing = text.split("### All 8 divergences, by kind and record", 1)[1]
    assert [line for line in listing.splitlines() if line.startswith("#### ")] == [
        "#### logs: 2 divergences in 2 records", "#### calls: 1 divergence in 1 record",
        "#### tables: 3 divergences in 1 record", "#### api: 2 divergences in 1 record"]
    assert f"**`{ITEM}`** — 3 divergences, first at step 2" in listing
    assert ('- `.waves[0].status` — monolithic `"COMPLETED"` · decomposed `"STARTED"` · step 2 `advance 3m`, '
            "persisted over 4 steps\n  - rule: `{path: '" + ITEM + ".waves[0].status', scope: {scenario: "
            "two-wave-drill, step: advance 3m, kind: tables}, reason: 'TODO: say why this difference is acceptable'}`"
            ) in listing
    assert ('calls[drs.DescribeJobs]` — monolithic `[3× {"error": null, "params": {}}]` · decomposed `(absent)`'
            in listing)


def test_one_consolidated_rules_file_accepts_every_divergence_even_on_the_next_run(tmp_path: Path) -> None:
    text = to_markdown(divergent())
    assert text.count("```yaml") == 1
    rules_file = tmp_path / "rules.yaml"
    pasted = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules_file.write_text(pasted.replace(PLACEHOLDER_REASON, "reviewed: the decomposed side is still being built"))
    rules = load_rules(rules_file)
    next_run = divergent(suffix="XYZ789").scenarios[0].divergences  # a fresh deployment: another role suffix
    judged = classify(next_run, rules)
    assert [d.path for d in judged.divergences if d.status != "accepted"] == [] and judged.stale == []
    assert rules.rules[0].path == "logs[Error invoking poller for execution <executionId:1>: AccessDeniedException: *]"


def test_json_carries_both_chain_verdicts_and_the_first_divergence() -> None:
    scenario = to_json(divergent())["scenarios"][0]
    assert (scenario["chain"]["left"]["verdict"], scenario["chain"]["right"]["verdict"]) == ("healthy",
                                                                                            "poller-invoked")
    assert scenario["firstDivergence"] == {"step": {"index": 2, "name": "advance 3m"}, "kind": "logs",
                                           "path": f"logs[{DENIED.format(suffix='ABC123')}]", "count": 6,
                                           "headline": HEADLINE}
    assert to_json(divergent())["divergences"][0]["record"] == f"logs[{DENIED.format(suffix='ABC123')}]"


def test_junit_and_terminal_start_with_the_link_verdict_and_the_first_divergence() -> None:
    failure = ElementTree.fromstring(to_junit(divergent())).find("testcase/failure")
    assert failure.get("message") == f"8 divergence(s); chain: {RIGHT}: poller-invoked"
    assert failure.text.startswith(f"chain: {CHAIN}\n{HEADLINE}\n")
    printed = terminal_summary(divergent())
    assert f"two-wave-drill: {CHAIN}\ntwo-wave-drill: {HEADLINE}" in printed
    assert printed.splitlines()[-1].startswith("drs-parity: DIVERGENCE")


def test_html_renders_the_same_sections_escaped() -> None:
    page = to_html(divergent())
    assert ("<strong>Chain:</strong> monolithic: chain healthy · decomposed: broken at <code>poller-invoked</code>"
            in page)
    assert "<h3>First divergent step: 2 <code>advance 3m</code>" in page and "<h4>tables: 3 divergences" in page
    assert "<pre># Accepts every divergence" in page and "&lt;executionId:1&gt;" in page
    assert "<executionId:1>" not in page and "`" not in page.split("<pre>")[0]


def test_a_parity_report_stays_short() -> None:
    text = to_markdown(parity(MONOLITH, System("decomposed", timeline)))
    assert "Chain" not in text and "First divergent step" not in text and "```" not in text
    assert len(text.splitlines()) < 20


def test_the_parity_run_diagnoses_each_side_in_the_timelines_references() -> None:
    def with_execution(name: str) -> dict[str, Any]:
        data = timeline(name)
        data["currentExecution"] = data["steps"][1]["api"][0]["body"]["executionId"]
        return data

    result = parity(System("monolithic", with_execution), System("decomposed", with_execution), calibrate=False)
    chains = result.scenarios[0].left_chain, result.scenarios[0].right_chain
    assert [chain.execution_id for chain in chains] == ["<executionId:1>", "<executionId:1>"]
    assert chains[0].checks[0].evidence == "status POLLING → COMPLETED"
    assert not any(UUID.search(check.evidence) for chain in chains for check in chain.checks)


def test_normalising_with_the_diagnosis_leaves_the_normalised_timeline_unchanged() -> None:
    raw = timeline("monolithic")
    execution = raw["steps"][1]["api"][0]["body"]["executionId"]
    plain = Diagnosis("monolithic", "s", execution, [Check("poller-invoked", "t", FAIL, f"Error for {execution}")])
    normalised, diagnosed = normalised_with_diagnosis(raw, plain, START, NormaliseOptions())
    assert normalised == normalise_timeline(raw, START)
    assert (diagnosed.execution_id, diagnosed.checks[0].evidence) == ("<executionId:1>", "Error for <executionId:1>")
