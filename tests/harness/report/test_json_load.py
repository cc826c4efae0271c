"""report.json carries what the HTML shows (status tracks, runtime failures) and reads back into the same results."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from drs_parity.compare.tracks import side_track
from drs_parity.gate.parity import run_parity
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.gate.shard import Shard
from drs_parity.report.html_page import to_html
from drs_parity.report.json_load import ReportFileError, read_report
from drs_parity.report.json_report import json_text, to_json
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown
from tests.harness.gate.shard_samples import DIVERGENT, FAILING, IMPORT_ERROR, RULES, SCENARIOS, stand_in_side
from tests.harness.gate.test_merge import without_seconds

BROKEN = "broken-deploy"  # the right side fails to deploy here: the scenario's error


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


def everything_at_once() -> ParityResult:
    """A run with every kind of result: parity, divergence (accepted and active), noise, an error, a runtime failure,
    a stale rule, and a shard of a larger matrix."""
    wobble = itertools.count()

    def side(system: Any, scenario: Any, *, backend: str, clock_start: int) -> dict[str, Any]:
        if scenario.name == BROKEN and system != "monolithic":
            raise RuntimeError("deploy failed: ExecutionHistoryTable")
        data = stand_in_side(system, scenario, backend=backend, clock_start=clock_start)
        if scenario.name == SCENARIOS[0] and system == "monolithic":  # late every other run: noise
            data["steps"][2]["tables"]["execution-history"][0]["lastPolledTime"] += (next(wobble) + 1) % 2 * 30
        return data

    result = run_parity("monolithic", "decomposed", [Named(name) for name in (*SCENARIOS, BROKEN)], "moto", RULES,
                        runner=side)
    result.shard, result.matrix = Shard(2, 3), [*SCENARIOS, BROKEN, "not-in-this-shard"]
    return result


@pytest.fixture(scope="module")
def result() -> ParityResult:
    return everything_at_once()


def test_the_sample_run_has_every_kind_of_result(result: ParityResult) -> None:
    assert [s.status for s in result.scenarios] == ["parity", "divergence", "parity", "error"]
    assert result.all_with_status("noise") and result.all_with_status("accepted") and result.stale_rules


def test_report_json_reads_back_into_the_same_results(result: ParityResult, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json_text(result))
    again = read_report(path)
    assert json_text(again) == json_text(result)
    assert [s.tracks for s in again.scenarios] == [s.tracks for s in result.scenarios]
    assert again.shard == Shard(2, 3) and again.stale_rules == result.stale_rules
    assert to_junit(again) == to_junit(result)
    noise = again.all_with_status("noise")
    assert noise and all(d.noise for d in noise)  # each noise divergence still carries what explains it


def test_the_renderings_of_what_was_read_back_are_the_same(result: ParityResult, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json_text(result))
    again = read_report(path)
    # the same up to the seconds column: report.json keeps milliseconds, the table hundredths (which may round apart)
    assert without_seconds(to_markdown(again)) == without_seconds(to_markdown(result))
    assert without_seconds(to_html(again)) == without_seconds(to_html(result))


def test_report_json_has_each_sides_status_track_and_runtime_failures(result: ParityResult) -> None:
    report = json.loads(json_text(result))
    failing = next(s for s in report["scenarios"] if s["name"] == FAILING)
    assert failing["runtimeFailures"] == [{"side": "decomposed", "step": 2, "stepName": "advance 2m",
                                           "function": "poller", "trigger": "schedule", **IMPORT_ERROR,
                                           "trace": None}]
    right = failing["tracks"]["right"]
    assert [step["name"] for step in right] == ["setup", "start DRILL of plan-a", "advance 2m"]
    assert right[2]["executions"] == [{"id": "execution 1", "status": "COMPLETED", "waves": ["PENDING", "STARTED"]}]
    assert right[2]["failures"][0]["type"] == IMPORT_ERROR["type"]
    broken = next(s for s in report["scenarios"] if s["name"] == BROKEN)
    assert broken["tracks"]["left"] and broken["tracks"]["right"] is None  # the right side never ran
    assert report["shard"] == {"index": 2, "count": 3} and report["matrix"][-1] == "not-in-this-shard"
    assert report["strict"] is False


def test_junit_puts_each_scenarios_runtime_failures_on_system_err(result: ParityResult) -> None:
    cases = {case.get("name"): case for case in ElementTree.fromstring(to_junit(result)).iter("testcase")}
    err = cases[FAILING].find("system-err")
    assert err is not None and cases[FAILING].find("failure") is None  # in parity, and still shown
    assert err.text == ("Lambda runtime failures:\ndecomposed step 2 advance 2m: poller (schedule): "
                        f"{IMPORT_ERROR['type']}: {IMPORT_ERROR['message']}")
    assert all(cases[name].find("system-err") is None for name in (SCENARIOS[0], DIVERGENT, BROKEN))


@pytest.mark.parametrize(("content", "problem"), [
    (None, "cannot read {path}: No such file or directory"),
    ("{not json", "{path} is not a drs-parity report: not JSON"),
    ('["a list"]', "{path} is not a drs-parity report: no schemaVersion"),
    ('{"verdict": "parity"}', "{path} is not a drs-parity report: no schemaVersion"),
    ('{"schemaVersion": 2, "left": "monolithic"}', "{path} has schemaVersion 2; this drs-parity reads 3"),
    ('{"schemaVersion": 3, "left": "monolithic"}', "{path} is not a drs-parity report: no field 'shard'"),
])
def test_what_is_not_a_report_this_version_reads_is_one_line(tmp_path: Path, content: str | None,
                                                              problem: str) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportFileError) as raised:
        read_report(path)
    assert str(raised.value).startswith(problem.format(path=path)) and "\n" not in str(raised.value)


def test_a_folder_or_binary_file_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ReportFileError, match="binary.json is not a drs-parity report: not JSON"):
        read_report(tmp_path / "binary.json")
    with pytest.raises(ReportFileError, match=f"cannot read {tmp_path}: Is a directory"):
        read_report(tmp_path)


def test_tracks_in_report_json_do_not_depend_on_the_tables_scan_order() -> None:
    def raw(order: list[int]) -> dict[str, Any]:
        """Execution 1 starts at step 0, execution 2 at step 1; step 1's scan lists them in `order`."""
        items = [{"executionId": f"e-{n}", "status": "POLLING", "waves": []} for n in (1, 2)]
        steps = [{"index": 0, "name": "start", "tables": {"execution-history": items[:1]}},
                 {"index": 1, "name": "start again", "tables": {"execution-history": [items[n] for n in order]}}]
        return {"steps": steps}

    reports = []
    for order in ([0, 1], [1, 0]):
        scenario = ScenarioResult("two-starts", tracks=[side_track(raw(order)), side_track(raw([0, 1]))])
        reports.append(to_json(ParityResult("monolithic", "decomposed", "moto", [scenario]))["scenarios"][0]["tracks"])
    assert reports[0] == reports[1]
    assert [e["id"] for e in reports[0]["left"][1]["executions"]] == ["execution 1", "execution 2"]
