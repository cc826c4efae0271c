"""A side the system stopped (it refused what the scenario needs) is a divergence with both answers side by side;
both sides refusing alike is the scenario's error; a side that cannot be deployed stays a harness error."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from drs_parity.compare.divergence import Divergence
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.parity import run_parity
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.gate.stops import both_refused, stop_divergences
from drs_parity.report.html_page import to_html
from drs_parity.report.json_report import json_text
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown
from drs_parity.report.terminal import Progress, terminal_summary
from drs_parity.report.texts import headline
from drs_parity.run.capture import Stop
from tests.harness.gate.parity_planting import system_with_environment
from tests.harness.gate.refusing_system import TEMPLATE, refusing_system, start_and_read

GROUP_REFUSED = {"error": "REFUSED", "message": "POST /protection-groups is refused"}
START_REFUSED = {"error": "REFUSED", "message": "POST /executions is refused"}


def parity(tmp_path: Path, left: str | None, right: str | None, calibrate: bool = False) -> ParityResult:
    """The tiny system against itself, each side refusing `left` / `right` (None: nothing)."""
    return run_parity(refusing_system(tmp_path, "tiny", left), refusing_system(tmp_path, "tiny-refusing", right),
                      [start_and_read(tmp_path)], "moto", calibrate=calibrate)


def first(result: ParityResult) -> Divergence:
    return result.scenarios[0].active[0]


def test_a_setup_refused_on_one_side_is_a_divergence_with_both_answers_first(tmp_path: Path) -> None:
    result = parity(tmp_path, None, "POST /protection-groups 500")
    scenario = result.scenarios[0]
    assert result.exit_code == 1 and scenario.error is None
    stop = first(result)
    assert (stop.kind, stop.path, stop.step_index, stop.step_name) == (
        "steps", "steps[0].stopped[POST /protection-groups]", 0, "setup")
    assert stop.left == {"status": 201, "body": {"groupId": "<groupId:1>"}}
    assert stop.right == {"status": 500, "body": GROUP_REFUSED, "stopped": True}
    # the stopped side's missing steps are divergences too: it ran setup only
    assert any(d.path == "steps" and (d.left, d.right) == (3, 1) for d in scenario.active)
    assert headline(scenario, "tiny", "tiny-refusing") == (
        "first divergence at step 0 `setup`: steps — tiny-refusing stopped: api POST /protection-groups — "
        'tiny 201 {"groupId": "<groupId:1>"} · tiny-refusing 500 {"error": "REFUSED", "message": '
        '"POST /protection-groups is refused"}; 3 more divergences at this step')


def test_every_report_shows_the_stop_first(tmp_path: Path) -> None:
    result = parity(tmp_path, "POST /protection-groups 500", None)
    line = "steps — tiny stopped: api POST /protection-groups — tiny 500 {"
    for report in (terminal_summary, to_markdown, to_html, to_junit):
        assert line in report(result), report.__name__
    assert '"path": "steps[0].stopped[POST /protection-groups]"' in json_text(result)


def test_a_start_refused_on_one_side_is_a_divergence_not_a_missing_execution(tmp_path: Path) -> None:
    result = parity(tmp_path, None, "POST /executions 409")
    stop = first(result)
    assert result.exit_code == 1 and result.scenarios[0].error is None
    assert (stop.path, stop.step_index, stop.step_name) == ("steps[1].stopped[POST /executions]", 1,
                                                            "start main DRILL")
    assert (stop.left, stop.right) == ({"status": 202, "body": {"executionId": "<executionId:1>"}},
                                       {"status": 409, "body": START_REFUSED, "stopped": True})


def test_both_sides_refusing_alike_is_the_scenarios_error(tmp_path: Path) -> None:
    result = parity(tmp_path, "POST /protection-groups 500", "POST /protection-groups 500")
    assert result.exit_code == 2 and result.scenarios[0].divergences == []
    assert result.scenarios[0].error == (
        'both sides refused setup: POST /protection-groups answered 500 {"error": "REFUSED", "message": '
        '"POST /protection-groups is refused"}: the scenario or both systems are wrong')
    assert f"start-and-read: error: {result.scenarios[0].error}\n" in terminal_summary(result)


def test_both_sides_refusing_differently_is_a_divergence(tmp_path: Path) -> None:
    result = parity(tmp_path, "POST /protection-groups 500", "POST /protection-groups 503")
    stop = first(result)
    assert result.exit_code == 1
    assert (stop.left["status"], stop.right["status"]) == (500, 503) and stop.left["stopped"] and stop.right["stopped"]
    assert "tiny and tiny-refusing stopped: api POST /protection-groups" in headline(result.scenarios[0], "tiny",
                                                                                     "tiny-refusing")


def test_a_created_answer_without_the_id_stops_the_side(tmp_path: Path) -> None:
    result = parity(tmp_path, None, "POST /recovery-plans 201")
    stop = first(result)
    assert stop.path == "steps[0].stopped[POST /recovery-plans]"
    assert stop.right == {"status": 201, "body": {"error": "REFUSED", "message": "POST /recovery-plans is refused"},
                          "stopped": True}


def test_calibration_runs_a_stopped_side_against_itself(tmp_path: Path) -> None:
    result = parity(tmp_path, None, "POST /executions 409", calibrate=True)
    scenario = result.scenarios[0]
    assert result.exit_code == 1 and scenario.noise == [] and scenario.timings.keys() == {
        "tiny", "tiny (calibration)", "tiny-refusing", "tiny-refusing (calibration)"}


def test_a_template_that_cannot_deploy_stays_a_harness_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Role: !GetAtt ApiRole.Arn", "Role: !GetAtt NoSuchRole.Arn"))
    result = run_parity(refusing_system(tmp_path, "tiny", None),
                        refusing_system(tmp_path, "tiny-broken", None, template=broken),
                        [start_and_read(tmp_path)], "moto", calibrate=False)
    assert result.exit_code == 2
    assert result.scenarios[0].error.startswith("tiny-broken: RunError: setup: deploying broken.yaml failed: ")


# -- without a world -------------------------------------------------------------------------------------------------
def timeline(*answers: tuple[int, Any]) -> dict[str, Any]:
    """A normalised timeline of one setup step with these answers to POST /protection-groups."""
    api = {f"POST /protection-groups{f' #{n}' if n > 1 else ''}": {"status": status, "body": body}
           for n, (status, body) in enumerate(answers, start=1)}
    return {"steps": [{"index": 0, "name": "setup", "api": api}]}


def setup_stop(position: int = 0) -> Stop:
    return Stop(0, "setup", "setup: creating protectionGroups[0] failed", response_step=0, response_index=position)


def test_a_stop_points_at_its_response_by_position() -> None:
    left, right = timeline((201, {}), (201, {})), timeline((201, {}), (500, {"m": "no"}))
    [stop] = stop_divergences("s", left, right, None, setup_stop(1))
    assert stop.path == "steps[0].stopped[POST /protection-groups #2]"
    assert (stop.left, stop.right) == ({"status": 201, "body": {}}, {"status": 500, "body": {"m": "no"},
                                                                     "stopped": True})


def test_a_stop_past_the_other_sides_last_step_is_left_to_the_step_count() -> None:
    left = {"steps": []}
    assert stop_divergences("s", left, timeline((500, {})), None, setup_stop()) == []


@pytest.mark.parametrize(("right", "error"), [
    (timeline((500, {"m": "no"})), "both sides refused setup: POST /protection-groups answered 500 {\"m\": \"no\"}: "
                                   "the scenario or both systems are wrong"),
    (timeline((500, {"m": "other"})), None),
])
def test_both_refused_only_when_the_answers_are_equal(right: dict[str, Any], error: str | None) -> None:
    assert both_refused(timeline((500, {"m": "no"})), right, setup_stop(), setup_stop()) == error
    assert both_refused(timeline((500, {"m": "no"})), right, setup_stop(), None) is None


@pytest.mark.slow
def test_a_reference_side_whose_groups_table_is_wrong_diverges_at_setup(tmp_path: Path) -> None:
    wrong_table = system_with_environment(tmp_path, {"PROTECTION_GROUPS_TABLE": "no-such-table"})
    result = run_parity(load_system("monolithic"), wrong_table, load_scenarios(["two-wave-drill"]), "moto",
                        calibrate=False)
    stop = first(result)
    assert result.exit_code == 1 and stop.path == "steps[0].stopped[POST /protection-groups]"
    assert (stop.left["status"], stop.right) == (201, {"status": 502, "body": {"message": "Internal server error"},
                                                       "stopped": True})



def test_the_terminal_says_why_a_scenario_errored_on_one_line_with_the_timelines_path_whole() -> None:
    note = f"[the timeline so far (3 steps): /{'very-long-folder/' * 12}two-wave-drill-decomposed.json]"
    error = f"decomposed: RunError: steps[2]: unknown placeholder {{plan:other}} (known: {'x, ' * 80}plan:main) {note}"
    result = ParityResult("monolithic", "decomposed", "moto", scenarios=[ScenarioResult("two-wave-drill", error=error)])
    [line] = [line for line in terminal_summary(result).splitlines() if line.startswith("two-wave-drill: error: ")]
    assert line.endswith(f"… {note}") and "unknown placeholder {plan:other}" in line
    stream = io.StringIO()
    Progress(stream, tty=False).done(result.scenarios[0])
    assert stream.getvalue().count("\n") == 1 and f"… {note}, " in stream.getvalue()
