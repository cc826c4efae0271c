"""The report a reviewer reads at the gate: swimlanes, runtime failures, errors on the terminal, long-value diffs."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from drs_parity.compare.divergence import Divergence
from drs_parity.compare.tracks import side_track
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.report.html_page import to_html
from drs_parity.report.markdown import to_markdown
from drs_parity.report.swimlane import swimlane_svg
from drs_parity.report.terminal import terminal_summary

LEFT, RIGHT = "monolithic", "decomposed"
IMPORT_ERROR = {"type": "Runtime.ImportModuleError",
                "message": "Unable to import module 'handler': No module named 'rules'"}
CRASH = {"type": "KeyError", "message": "'waves'",
         "stackTrace": ['  File "/code/handler.py", line 9, in lambda_handler\n    return poll(event)\n',
                        '  File "/code/poller.py", line 31, in poll\n    item["waves"]\n']}


def item(status: str, *waves: str) -> dict[str, Any]:
    return {"executionId": "e-1", "status": status, "waves": [{"status": wave} for wave in waves]}


def raw_timeline(statuses: list[tuple[str, ...] | None], errors: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """A captured timeline: per step the execution's (status, wave statuses...) and the failed invocations."""
    steps = []
    for index, entry in enumerate(statuses):
        table = [item(*entry)] if entry else []
        invocations = [{"function": "poller", "trigger": "schedule", "error": error, "console": False}
                       for error in errors.get(index, [])]
        invocations.append({"function": "api", "trigger": "api", "error": None, "console": True})
        steps.append({"index": index, "name": f"step {index}", "time": 1000 + 60 * index,
                      "tables": {"execution-history": table}, "invocations": invocations})
    return {"side": "x", "scenario": "two-wave-drill", "steps": steps}


LEFT_RUN = [None, ("PENDING", "PENDING", "PENDING"), ("POLLING", "STARTED", "PENDING"),
            ("POLLING", "COMPLETED", "STARTED"), ("COMPLETED", "COMPLETED", "COMPLETED")]
RIGHT_RUN = [None, ("PENDING", "PENDING", "PENDING"), ("POLLING", "STARTED", "PENDING"),
             ("POLLING", "STARTED", "PENDING"), ("POLLING", "STARTED", "PENDING")]


def scenario(divergences: list[Divergence] | None = None, errors: dict[int, list[dict[str, Any]]] | None = None,
             error: str | None = None) -> ScenarioResult:
    divergences = divergences if divergences is not None else [
        Divergence("two-wave-drill", "tables", "tables.execution-history[<executionId:1>].status", "COMPLETED",
                   "POLLING", 3, "step 3")]
    result = ScenarioResult("two-wave-drill", divergences, left_final="COMPLETED", right_final="POLLING", error=error)
    result.tracks = [side_track(raw_timeline(LEFT_RUN, {})),  # what gate/parity.py records per side
                     side_track(raw_timeline(RIGHT_RUN, errors or {}))]
    return result


def run(*scenarios: ScenarioResult) -> ParityResult:
    return ParityResult(LEFT, RIGHT, "moto", list(scenarios), calibrated=False)


# -- the swimlane picture ---------------------------------------------------------------------------------------------
def test_side_track_reads_statuses_and_failures_per_step() -> None:
    track = side_track(raw_timeline(RIGHT_RUN, {3: [IMPORT_ERROR]}))
    assert [step["executions"] for step in track][:3] == [
        [], [{"id": "execution 1", "status": "PENDING", "waves": ["PENDING", "PENDING"]}],
        [{"id": "execution 1", "status": "POLLING", "waves": ["STARTED", "PENDING"]}]]
    assert [len(step["failures"]) for step in track] == [0, 0, 0, 1, 0]
    assert track[3]["failures"][0] == {"function": "poller", "trigger": "schedule", **IMPORT_ERROR, "trace": None}


def test_html_shows_both_sides_as_swimlanes_with_the_first_divergence_marked_above_the_tables() -> None:
    page = to_html(run(scenario()))
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None
    ElementTree.fromstring(svg.group(0))  # well-formed, inline
    lanes = svg.group(0)
    assert lanes.index(f">{LEFT}<") < lanes.index(f">{RIGHT}<")  # one swimlane per side, left above right
    assert "first divergence: step 3" in lanes
    for label in (">execution<", ">  wave 1<", ">  wave 2<"):
        assert label in lanes
    # statuses as coloured segments over the steps: left completes at step 4, right stays POLLING from step 2
    assert "execution: COMPLETED (step 4 step 4)" in lanes and "execution: POLLING (steps 2–4)" in lanes
    assert page.index("<svg") < page.index("First divergent step")  # the tables stay below it
    assert "<svg" not in to_markdown(run(scenario()))


def test_no_picture_without_status_tracks() -> None:
    plain = ScenarioResult("two-wave-drill", scenario().divergences)
    assert swimlane_svg(plain, LEFT, RIGHT) is None and "<svg" not in to_html(run(plain))


# -- Lambda runtime failures ------------------------------------------------------------------------------------------
def test_runtime_failures_are_in_the_report_and_on_the_terminal() -> None:
    result = run(scenario(errors={2: [IMPORT_ERROR], 3: [CRASH]}))
    markdown = to_markdown(result)
    part = markdown[markdown.index("### Runtime failures (2)"):]
    assert (f"{RIGHT}, step 2 `step 2`: `poller` (trigger `schedule`) — **Runtime.ImportModuleError**: "
            "`Unable to import module 'handler': No module named 'rules'`") in part
    assert "**KeyError**: `'waves'`" in part and "last traceback line: `item[\"waves\"]`" in part
    assert "Runtime failures" in to_html(result)
    lines = terminal_summary(result).splitlines()
    assert (f"two-wave-drill: Lambda runtime failures ({RIGHT} 2); first: {RIGHT} step 2 poller (schedule): "
            "Runtime.ImportModuleError: Unable to import module 'handler': No module named 'rules'") in lines


def test_runtime_failures_of_a_scenario_in_parity_are_reported_too() -> None:
    result = run(scenario([], errors={1: [{"type": "Sandbox.Timedout", "message": "Task timed out after 3.00 seconds"}]}))
    assert "Sandbox.Timedout" in to_markdown(result)
    assert any("Lambda runtime failures" in line for line in terminal_summary(result).splitlines())


def test_the_terminal_says_why_each_scenario_errored_in_one_line() -> None:
    errored = ScenarioResult("recovery", error="decomposed: DeployError: ExecutionPollerFunction: Runtime python3.14 "
                                               "is newer than this interpreter\n  more detail")
    lines = terminal_summary(run(errored)).splitlines()
    assert ("recovery: error: decomposed: DeployError: ExecutionPollerFunction: Runtime python3.14 is newer than "
            "this interpreter more detail") in lines


# -- long values as a side-by-side diff -------------------------------------------------------------------------------
def long_record(status: str) -> dict[str, Any]:
    return {"executionId": "<executionId:1>", "planName": "two waves", "status": status,
            "waves": [{"waveNumber": n, "status": status, "jobId": f"<jobId:{n}>"} for n in (1, 2)]}


def test_a_long_record_is_a_side_by_side_diff_not_two_json_blobs() -> None:
    d = Divergence("two-wave-drill", "tables", "tables.execution-history[<executionId:1>]",
                   long_record("COMPLETED"), long_record("POLLING"), 3, "step 3")
    result = run(ScenarioResult("two-wave-drill", [d]))
    page = to_html(result)
    table = re.search(r"<table class='diff'>.*?</table>", page, re.S)
    assert table is not None
    changed = re.findall(r"<td class='changed'>(.*?)</td>", table.group(0))
    status = "&quot;status&quot;: &quot;{}&quot;"
    assert changed == [f"  {status},".format("COMPLETED"), f"  {status},".format("POLLING")] \
        + [f"      {status},".format("COMPLETED"), f"      {status},".format("POLLING")] * 2
    assert "<td>  &quot;planName&quot;: &quot;two waves&quot;,</td>" in table.group(0)  # unchanged lines plain
    full_list = page[page.index("All 1 divergence"):]
    assert '"planName"' not in full_list.split("<table class='diff'>")[0]  # no blob in the list item
    markdown = to_markdown(result)
    assert '```diff\n--- monolithic\n+++ decomposed' in markdown and '-  "status": "COMPLETED",' in markdown
