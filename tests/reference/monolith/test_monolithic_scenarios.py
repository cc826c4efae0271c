"""The monolith on chosen scenarios, with checks at key steps (every scenario runs on both sides in
tests/reference/contract/test_decomposed_vs_monolith.py)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from drs_parity.run.driver import check_expectations, run_side
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.world.world import World
from tests.reference.scenarios import everyday_scenario_names

SCENARIOS = everyday_scenario_names()


def final_details(timeline: Any) -> dict[str, Any]:
    """The last GET /executions/{id} answer of the run."""
    execution_path = f"/executions/{timeline.current_execution}"
    reads = [record for step in timeline.steps for record in step.api
             if record["method"] == "GET" and record["path"] == execution_path]
    assert reads and reads[-1]["status"] == 200
    return reads[-1]["body"]


@functools.lru_cache(maxsize=None)
def run(name: str) -> tuple[Any, Any]:
    """Each scenario runs once per test session, however many tests look at its timeline."""
    scenario = load_scenarios([name])[0]
    return scenario, run_side(load_system("monolithic"), scenario, backend="moto")


def messages(timeline: Any, level: str | None = None) -> list[str]:
    return [line["message"] for step in timeline.steps for line in step.logs
            if level is None or line.get("level") == level]


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 5


def test_two_wave_drill_names_servers_from_the_name_tag_else_the_hostname() -> None:
    _, timeline = run("two-wave-drill")
    servers = {server["sourceServerId"]: server
               for wave in final_details(timeline)["waves"] for server in wave["serverStatuses"]}
    assert servers["s-01000000000000001"]["serverName"] == "app-01"
    assert servers["s-01000000000000004"]["serverName"] == "web-02.corp.example"  # no Name tag
    assert servers["s-01000000000000003"]["instanceType"] == "t3.medium"
    logs = messages(timeline)
    execution_id = timeline.current_execution
    assert f"Polling execution: {execution_id}" in logs
    assert f"Updated 2 waves for execution {execution_id}" in logs
    assert f"Execution {execution_id} status POLLING -> COMPLETED" in logs
    assert any(message.startswith("Started wave 1 for execution") for message in logs)


def test_cross_account_waves_assume_the_target_role_once_per_invocation() -> None:
    _, timeline = run("cross-account")
    for step in timeline.steps:
        assumed = [call["params"] for call in step.calls if call["operation"] == "AssumeRole"]
        invocations = [invocation for invocation in step.invocations]
        assert len(assumed) <= len(invocations)
        for params in assumed:
            assert params == {"RoleArn": "arn:aws:iam::222233334444:role/DRSOrchestrationRole",
                              "RoleSessionName": "drs-orchestration", "ExternalId": "drs-parity-ext"}
    assert any(call["operation"] == "AssumeRole" for step in timeline.steps for call in step.calls)


@pytest.mark.moto_server
def test_two_wave_drill_on_moto_server(moto_server: Any) -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    with World(backend="moto-server", region=scenario.region, moto_server_port=moto_server.port) as world:
        timeline = run_side(load_system("monolithic"), scenario, world=world)
    assert check_expectations(scenario, timeline) == []
    assert final_details(timeline)["completedWaves"] == 2
