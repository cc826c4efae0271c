"""Scenario loading and validation: every error names the file, the field path and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from drs_parity.fixtures.scenario import (
    AdvanceStep, ApiStep, ExecutionActionStep, ScenarioError, StartStep, UntilStep, fixtures_dir, list_scenarios,
    load_scenario, load_scenarios,
)

SHIPPED = ("two-wave-drill", "recovery", "drill-launch-failure", "pause-resume", "cancel-wave-1", "cross-account",
           "three-wave-two-regions", "thirty-minute-drill", "throttled-poll")

VALID: dict[str, Any] = {
    "name": "mini",
    "description": "A minimal scenario.",
    "sourceServers": [
        {"sourceServerId": "s-0000000000000000a", "hostname": "web-01.corp.example", "name": "web-01",
         "tags": {"Tier": "web"}, "launch": {"status": "LAUNCHED", "seconds": 120}},
        {"sourceServerId": "s-0000000000000000b", "hostname": "db-01.corp.example",
         "launch": {"status": "FAILED", "seconds": 60}},
    ],
    "targetAccounts": [{"accountId": "222233334444", "assumeRoleName": "DRSOrchestrationRole"}],
    "protectionGroups": [
        {"key": "web", "groupName": "Web", "sourceServerIds": ["s-0000000000000000a"]},
        {"key": "db", "groupName": "DB", "serverSelectionTags": {"Tier": "db"}},
    ],
    "recoveryPlans": [{"key": "main", "planName": "Main", "waves": [
        {"waveName": "DB", "protectionGroup": "db"},
        {"waveName": "Web", "protectionGroup": "web", "pauseBeforeWave": True}]}],
    "faults": [{"operation": "DescribeJobs", "error": "ThrottlingException", "afterSeconds": 120}],
    "steps": [
        {"start": {"plan": "main"}},
        {"advance": "1h2m3s"},
        {"until": {"status": "PAUSED", "within": 600}},
        {"resume": {}},
        {"api": {"method": "GET", "path": "/recovery-plans/{plan:main}", "query": {"limit": "5"}}},
    ],
    "expect": {"status": "COMPLETED", "waves": ["COMPLETED", "COMPLETED"], "servers": {"s-0000000000000000b": "FAILED"}},
}


def write(folder: Path, document: Any, name: str = "mini") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    change(document)
    return document


def test_valid_scenario_loads_into_typed_dataclasses(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.name == "mini" and scenario.region == "us-east-1"
    web = scenario.source_servers[0]
    assert (web.region, web.account_id, web.instance_type, web.launch.status) == (
        "us-east-1", "123456789012", "t3.medium", "LAUNCHED")
    assert scenario.drs_source_servers()[1] == {
        "sourceServerId": "s-0000000000000000b", "hostname": "db-01.corp.example", "tags": {}, "region": "us-east-1",
        "accountId": "123456789012", "instanceType": "t3.medium", "launch": {"status": "FAILED", "seconds": 60}}
    assert scenario.drs_faults() == [
        {"operation": "DescribeJobs", "error": "ThrottlingException", "afterSeconds": 120, "count": 1}]
    assert [type(step) for step in scenario.steps] == [StartStep, AdvanceStep, UntilStep, ExecutionActionStep, ApiStep]
    assert scenario.steps[1] == AdvanceStep(3723)
    assert scenario.steps[2] == UntilStep(("PAUSED",), 600)
    assert scenario.steps[3].path == "/executions/{execution}/resume"
    assert scenario.expect.waves == ("COMPLETED", "COMPLETED")


def test_request_bodies_use_generated_group_ids(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.protection_groups[0].request_body() == {
        "groupName": "Web", "description": "", "region": "us-east-1", "accountId": "123456789012",
        "sourceServerIds": ["s-0000000000000000a"]}
    assert "sourceServerIds" not in scenario.protection_groups[1].request_body()
    plan = scenario.recovery_plans[0].request_body({"web": "g-web", "db": "g-db"})
    assert plan["waves"][1] == {"waveNumber": 1, "waveName": "Web", "protectionGroupId": "g-web",
                                "pauseBeforeWave": True}


@pytest.mark.parametrize("change, field, problem", [
    (lambda d: d.update(colour="blue"), "", "unknown top-level key 'colour'"),
    (lambda d: d["steps"].append({"sleep": "5m"}), "steps[5]", "unknown step kind 'sleep'"),
    (lambda d: d["steps"][2]["until"].update(within="5 minutes"), "steps[2].until.within", "bad duration"),
    (lambda d: d["steps"].__setitem__(1, {"advance": "-3m"}), "steps[1].advance", "bad duration"),
    (lambda d: d["recoveryPlans"][0]["waves"][0].update(protectionGroup="app"),
     "recoveryPlans[0].waves[0].protectionGroup", "unknown protection group key 'app'"),
    (lambda d: d["sourceServers"][0].update(sourceServerId="s-1111111111111111a??"),
     "sourceServers[0].sourceServerId", "must be s- followed by 17"),
    (lambda d: d["sourceServers"][1].update(sourceServerId="s-0000000000000000a"),
     "sourceServers[1].sourceServerId", "duplicate sourceServerId"),
    (lambda d: d["protectionGroups"][1].update(key="web"), "protectionGroups[1].key", "duplicate protection group key"),
    (lambda d: d["sourceServers"][0].pop("hostname"), "sourceServers[0].hostname", "required field is missing"),
    (lambda d: d["sourceServers"][0]["launch"].update(seconds="soon"), "sourceServers[0].launch.seconds",
     "must be an integer"),
    (lambda d: d["targetAccounts"][0].update(accountId=222233334444), "targetAccounts[0].accountId",
     "must be a string: quote it"),
    (lambda d: d.update(name="other"), "name", "must equal the file name stem 'mini'"),
    (lambda d: d["steps"][0]["start"].update(plan="nope"), "steps[0].start.plan", "unknown recovery plan key"),
    (lambda d: d["steps"].insert(0, {"resume": {}}), "steps[0].resume", "no execution has been started"),
    (lambda d: d["steps"][4]["api"].update(path="/protection-groups/{group:nope}"), "steps[4].api.path",
     "unknown group key 'nope'"),
    (lambda d: d["protectionGroups"][0].update(sourceServerIds=["s-0000000000000000f"]),
     "protectionGroups[0].sourceServerIds[0]", "not a source server of this scenario"),
    (lambda d: d["protectionGroups"][0].update(region="us-west-2"), "protectionGroups[0].sourceServerIds[0]",
     "the group is in 123456789012/us-west-2"),
    (lambda d: d["protectionGroups"][1].update(sourceServerIds=["s-0000000000000000b"]), "protectionGroups[1]",
     "exactly one of sourceServerIds and serverSelectionTags"),
    (lambda d: d["faults"][0].update(operation="DescribeJob"), "faults[0].operation", "is not a DRS operation"),
    (lambda d: d["faults"][0].update(error="Throttled"), "faults[0].error", "is not an error of the DRS model"),
    (lambda d: d["expect"].update(waves=["COMPLETED"]), "expect.waves", "plan 'main' has 2 waves"),
    (lambda d: d["expect"].update(status="DONE"), "expect.status", "'DONE' is not one of"),
    (lambda d: d.update(steps="start"), "steps", "must be a list"),
    (lambda d: d["steps"].__setitem__(0, {"start": {"plan": "main"}, "advance": "1m"}), "steps[0]",
     "exactly one key"),
])
def test_malformed_scenario_names_file_field_and_problem(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                         field: str, problem: str) -> None:
    path = write(tmp_path, mutated(change))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {field}: " if field else f"{path}: "), message
    assert problem in message
    assert "\n" not in message


def test_yaml_syntax_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nsteps: [\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not valid YAML at line \d+") as raised:
        load_scenario(path)
    assert "\n" not in str(raised.value)


def test_unknown_scenario_name_lists_available_names(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    write(tmp_path / "scenarios", VALID)
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope' \(available: mini\)"):
        load_scenarios(["nope"], fixtures_dir=tmp_path)
    assert [s.name for s in load_scenarios(["mini"], fixtures_dir=tmp_path)] == ["mini"]


def test_fixtures_dir_is_overridable_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios").mkdir()
    write(tmp_path / "scenarios", VALID)
    monkeypatch.setenv("DRS_PARITY_FIXTURES", str(tmp_path))
    assert fixtures_dir() == tmp_path
    assert list_scenarios() == ["mini"]


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenarios([str(tmp_path / "absent.yaml")])


def test_every_shipped_scenario_validates() -> None:
    names = list_scenarios()
    assert set(SHIPPED) <= set(names)
    for scenario in load_scenarios(names):
        assert 2 <= len(scenario.source_servers) <= 6, scenario.name
        assert isinstance(scenario.steps[0], StartStep), scenario.name
        assert [step.path for step in scenario.steps[-2:]] == [
            "/executions/{execution}", "/executions/{execution}/job-logs"], scenario.name
        assert scenario.expect.status is not None and scenario.expect.waves is not None, scenario.name


def test_thirty_minute_drill_spans_thirty_minutes() -> None:
    scenario = load_scenarios(["thirty-minute-drill"])[0]
    assert sum(step.seconds for step in scenario.steps if isinstance(step, AdvanceStep)) == 30 * 60
