"""Integration: run_side drives a whole scenario on the reference monolith in a moto world and captures each step."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from drs_parity.fixtures.cloudformation import read_template, write_template
from drs_parity.run.driver import RunError, check_expectations, run_side
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system, resolve_system_path
from drs_parity.run.capture import Stop
from tests.harness.gate.refusing_system import refusing_system, start_and_read

pytestmark = pytest.mark.slow  # easy to find: pytest -m slow tests/harness/run/test_driver.py


@pytest.fixture(scope="module")
def two_wave_timeline():
    scenario = load_scenarios(["two-wave-drill"])[0]
    return scenario, run_side(load_system("monolithic"), scenario, backend="moto")


def test_two_wave_drill_on_the_monolith_meets_its_expectations(two_wave_timeline) -> None:
    scenario, timeline = two_wave_timeline
    assert check_expectations(scenario, timeline) == []
    assert [step.name for step in timeline.steps][:2] == ["setup", "start main DRILL"]
    assert len(timeline.steps) == len(scenario.steps) + 1
    assert timeline.backend == "moto" and timeline.side == "monolithic"
    assert set(timeline.ids) == {"group:app", "group:web", "plan:main", "execution:1"}
    assert timeline.stopped is None and "stopped" not in timeline.to_dict()  # a complete run's capture is unchanged
    json.dumps(timeline.to_dict())


def test_setup_creates_fixture_items_through_the_api(two_wave_timeline) -> None:
    _, timeline = two_wave_timeline
    setup = timeline.steps[0]
    assert [(r["method"], r["path"], r["status"]) for r in setup.api] == [
        ("POST", "/protection-groups", 201), ("POST", "/protection-groups", 201), ("POST", "/recovery-plans", 201)]
    assert {g["groupName"] for g in setup.tables["protection-groups"]} == {"App tier", "Web tier"}
    assert setup.tables["execution-history"] == []


def test_each_step_captures_console_reads_tables_calls_and_logs(two_wave_timeline) -> None:
    _, timeline = two_wave_timeline
    start, advance = timeline.steps[1], timeline.steps[2]
    assert start.api[0]["status"] == 202 and not start.api[0]["console"]
    assert [(r["method"], r["console"]) for r in start.api[1:]] == [("GET", True)] * 3
    assert advance.time - start.time == 180
    assert {c["function"] for c in advance.calls} == {"api"}  # the monolith's one function, named by its first role
    assert any(c["service"] == "drs" and c["operation"] == "DescribeJobs" for c in advance.calls)
    assert any(line["message"].startswith("Polling execution: ") for line in advance.logs)
    history = advance.tables["execution-history"]
    executions = [item for item in history if "status" in item]  # server items (CONTRACT.md) carry no status
    assert len(executions) == 1 and len(history) > 1
    assert not any(isinstance(v, float) and v.is_integer() for item in history for v in item.values())


def test_until_records_when_the_condition_was_met(two_wave_timeline) -> None:
    _, timeline = two_wave_timeline
    until = timeline.steps[3].until
    assert until is not None and until["outcome"] == "met" and until["status"] == "COMPLETED"
    assert until["at"] == timeline.steps[3].time


def test_unmet_until_is_recorded_not_raised(tmp_path) -> None:
    scenario = load_scenarios(["pause-resume"])[0]
    text = scenario.path.read_text().replace("within: 15m", "within: 2m")
    short = tmp_path / "pause-resume.yaml"
    short.write_text(text)
    timeline = run_side("monolithic", str(short))
    until = timeline.steps[2].until
    assert until["outcome"] == "unmet" and until["waited"] == 120 and until["at"] is None
    assert any("not met after 2m" in problem for problem in check_expectations(load_scenarios([str(short)])[0],
                                                                              timeline))


def test_thirty_minute_drill_spans_thirty_virtual_minutes() -> None:
    # its wall time is a figure of bench/run_bench.py, not an assertion
    timeline = run_side("monolithic", "thirty-minute-drill")
    assert check_expectations(load_scenarios(["thirty-minute-drill"])[0], timeline) == []
    assert timeline.steps[-1].time - timeline.clock_start == 30 * 60


def test_a_refused_fixture_item_stops_the_side_at_setup_with_its_answer_captured(tmp_path) -> None:
    scenario = load_scenarios(["recovery"])[0]
    text = scenario.path.read_text().replace("groupName: Billing application", "groupName: Billing database")
    duplicate = tmp_path / "recovery.yaml"
    duplicate.write_text(text)
    timeline = run_side("monolithic", str(duplicate))  # the system's answer is a result, not a RunError
    stop = timeline.stopped
    assert (stop.step, stop.name, stop.response_step, stop.response_index) == (0, "setup", 0, 1)
    assert re.fullmatch(r"setup: creating protectionGroups\[1\] \(key 'app'\) failed: POST /protection-groups "
                        r"answered 409 \{.*DUPLICATE_NAME.*\}", stop.reason)
    [setup] = timeline.steps  # captured before stopping: both answers, the 409 last, and the tables
    assert [record["status"] for record in setup.api] == [201, 409]
    assert len(setup.tables["protection-groups"]) == 1


def test_a_refused_start_stops_the_side_at_the_step_that_needs_its_execution(tmp_path) -> None:
    system = refusing_system(tmp_path, "tiny-409", "POST /executions 409")
    timeline = run_side(system, start_and_read(tmp_path))
    assert [step.name for step in timeline.steps] == ["setup", "start main DRILL"]
    assert timeline.steps[1].api[0]["status"] == 409 and timeline.current_execution is None
    assert timeline.stopped == Stop(
        2, "api GET /executions/{execution}",
        'steps[1]: there is no current execution: the start (steps[0]) was refused: POST /executions answered 409 '
        '{"error": "REFUSED", "message": "POST /executions is refused"}', response_step=1, response_index=0)
    saved = json.loads(timeline.to_json())["stopped"]
    assert saved["response"] == {"step": 1, "api": 0} and Stop.from_dict(saved) == timeline.stopped


def test_a_created_answer_without_its_id_stops_the_side(tmp_path) -> None:
    timeline = run_side(refusing_system(tmp_path, "tiny-201", "POST /protection-groups 201"), start_and_read(tmp_path))
    assert timeline.stopped.reason == (
        "setup: creating protectionGroups[0] (key 'app') failed: POST /protection-groups answered 201 without a "
        'groupId: {"error": "REFUSED", "message": "POST /protection-groups is refused"}')


def test_unrouted_paths_answer_like_api_gateway_and_query_placeholders_resolve(tmp_path) -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    extra = ('  - api: {method: GET, path: /nope}\n'
             '  - api: {method: GET, path: /executions, query: {limit: "1", nextToken: "{execution}"}}\n')
    text = scenario.path.read_text().replace("expect:", extra + "expect:")
    steps_added = tmp_path / "two-wave-drill.yaml"
    steps_added.write_text(text)

    timeline = run_side("decomposed", str(steps_added))  # the monolith's "/" route would serve /nope itself

    unrouted, listed = timeline.steps[-2].api[0], timeline.steps[-1].api[0]
    assert (unrouted["path"], unrouted["status"], unrouted["body"]) == (
        "/nope", 403, {"message": "Missing Authentication Token"})
    assert listed["path"] == f"/executions?limit=1&nextToken={timeline.current_execution}"
    assert listed["status"] == 200 and listed["body"]["executions"] == []  # the only execution was the token


# -- the API the template declares ------------------------------------------------------------------------------------
def described_without_routes(folder, template=None):
    """The decomposed system described again in `folder`, without routes (and with `template` if given)."""
    document = yaml.safe_load(resolve_system_path("decomposed").read_text())
    document.pop("routes")
    document["template"] = str(template or load_system("decomposed").template)
    path = folder / "decomposed.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_without_routes_the_templates_api_routes_the_run(tmp_path) -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    extra = ('  - api: {method: GET, path: "/protection-groups/{group:app}/servers"}\n'
             '  - api: {method: GET, path: "/executions?limit=0"}\n'
             '  - api: {method: GET, path: /}\n')
    steps_added = tmp_path / "two-wave-drill.yaml"
    steps_added.write_text(scenario.path.read_text().replace("expect:", extra + "expect:"))

    timeline = run_side(load_system(described_without_routes(tmp_path)), str(steps_added))

    assert check_expectations(load_scenarios([str(steps_added)])[0], timeline) == []
    sub_path, listed, root = (step.api[0] for step in timeline.steps[-3:])
    assert sub_path["status"] == 404 and sub_path["body"]["error"] == "NOT_FOUND"  # its {proxy+}: the function
    assert listed["path"] == "/executions?limit=0"  # the query string in the path reached the handler:
    assert listed["status"] == 400 and "limit" in listed["body"]["message"]
    assert (root["status"], root["body"]) == (403, {"message": "Missing Authentication Token"})


def test_a_template_without_an_api_and_a_description_without_routes_is_a_run_error(tmp_path) -> None:
    source = load_system("decomposed").template
    document = read_template(source)
    document["Resources"] = {logical_id: resource for logical_id, resource in document["Resources"].items()
                             if not resource["Type"].startswith("AWS::ApiGateway::")
                             and resource["Properties"].get("Principal") != "apigateway.amazonaws.com"}
    document["Outputs"].pop("ApiUrl")
    for resource in document["Resources"].values():  # the code folders stay where they are
        for key in ("Code", "Content"):
            if isinstance(resource["Properties"].get(key), str):
                resource["Properties"][key] = str(source.parent / resource["Properties"][key])
    template = tmp_path / "template.yaml"
    write_template(document, template)

    with pytest.raises(RunError, match=r"setup: template\.yaml declares no API .* decomposed\.yaml has no routes"):
        run_side(load_system(described_without_routes(tmp_path, template)), "two-wave-drill")
