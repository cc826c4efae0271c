"""Every everyday scenario on both reference sides, run once each: each reaches its expected outcome with no call its
role denies and the seed's symptoms absent, and by-hand comparison finds the same final GET /executions/{id}.

Generated ids (uuids, DRS job ids, EC2 instance ids, IPs, EC2 DNS names) are replaced by stable references in
order of appearance; times are compared as they are (both sides run on the same virtual clock start).
"""

import re
from typing import Any

import pytest

from drs_parity.run.driver import check_expectations, run_side
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.world.world import World
from tests.reference.scenarios import everyday_scenario_paths

SCENARIOS = everyday_scenario_paths()
GENERATED_KEYS = {"executionId", "planId", "protectionGroupId", "groupId", "jobId", "instanceId", "privateIp"}
EC2_DNS = re.compile(r"^ip-[0-9-]+\.(ec2|[a-z0-9-]+\.compute)\.internal$")


def normalise(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _reference(key, inner, refs) if key in GENERATED_KEYS else normalise(inner, refs)
                for key, inner in value.items()}
    if isinstance(value, list):
        return [normalise(inner, refs) for inner in value]
    if isinstance(value, str) and EC2_DNS.match(value):
        return "<ec2-dns>"
    return value


def _reference(key: str, value: Any, refs: dict[str, str]) -> Any:
    if value is None:
        return None
    return refs.setdefault(f"{key}={value}", f"<{key}:{sum(k.startswith(key + '=') for k in refs) + 1}>")


def final_details(timeline: Any) -> dict[str, Any]:
    gets = [record for step in timeline.steps for record in step.api
            if record["method"] == "GET" and re.fullmatch(r"/executions/[^/]+", record["path"])]
    assert gets, "the scenario never read the execution"
    return gets[-1]["body"]


def assert_side_is_right(side: str, scenario: Any, timeline: Any, denials: list[Any]) -> None:
    """The side's own checks, independent of the other side."""
    assert check_expectations(scenario, timeline) == [], side
    assert denials == [], side  # each function's role allows every call it makes (docs/iam-enforcement.md)
    errors = [invocation for step in timeline.steps for invocation in step.invocations if invocation.get("error")]
    assert errors == [], side
    details = final_details(timeline)
    assert details["status"] == scenario.expect.status and details["isFinal"] is True, side
    assert details["endTime"] is not None, side
    launched = [server for wave in details["waves"] for server in wave["serverStatuses"]
                if server["launchStatus"] == "LAUNCHED"]
    for server in launched:  # the seed's symptom: names, IPs and instance facts on the details page
        assert server["serverName"] and server["privateIp"] and server["instanceType"] and server["instanceId"], side
        assert server["hostname"] and isinstance(server["launchTime"], int), side
    # the details page is served from the stored items: no DRS/EC2 call from any console read
    console_calls = [call for step in timeline.steps for call in step.calls if call.get("console")]
    assert all(call["operation"] not in {"DescribeJobs", "DescribeInstances"} for call in console_calls), side


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_both_sides_are_right_and_end_alike(path):
    scenario = load_scenarios([path])[0]
    bodies = {}
    for side in ("monolithic", "decomposed"):
        with World("moto", region=scenario.region) as world:
            timeline = run_side(load_system(side), scenario, world=world)
            denials = list(world.iam_guard.denials)
        assert_side_is_right(side, scenario, timeline, denials)
        bodies[side] = normalise(final_details(timeline), {})
    assert bodies["decomposed"]["status"] == bodies["monolithic"]["status"]
    assert bodies["decomposed"] == bodies["monolithic"]
