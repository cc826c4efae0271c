"""The monolith's API on a moto World with its template deployed: contract answers, and bad input writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from boto3.dynamodb.types import TypeDeserializer

from drs_parity.world.world import World

TEMPLATE = Path(__file__).resolve().parents[3] / "monolithic" / "template.yaml"
FUNCTION = "drs-orchestration-api-handler-test"
ACCOUNT = "123456789012"
TABLES = {name: f"drs-orchestration-{name}-test"
          for name in ("protection-groups", "recovery-plans", "execution-history", "target-accounts")}
SERVERS = [f"s-0a00000000000000{index}" for index in range(1, 5)]
MISSING_SERVER = "s-0b000000000000001"


class Api:
    """One deployed monolith in a moto world, with helpers to call it and to snapshot its tables."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        return self.world.host.api_request(FUNCTION, method, path, body=body, query=query)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self(method, path, body)
        assert response.status == status, response.body
        return response.body

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        dynamodb = self.world.client("dynamodb")
        deserializer = TypeDeserializer()
        return {name: sorted((str({k: deserializer.deserialize(v) for k, v in item.items()})
                              for item in dynamodb.scan(TableName=table)["Items"]))
                for name, table in TABLES.items()}

    def last_calls(self) -> list[tuple[str, str]]:
        return [(call["service"], call["operation"]) for call in self.world.host.invocations[-1].calls]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with World(backend="moto", region="us-east-1", account_id=ACCOUNT) as world:
        world.host.load(world.deploy(str(TEMPLATE), "monolithic-api"))
        yield Api(world)


@pytest.fixture(scope="module")
def catalog(api: Api) -> dict[str, Any]:
    """A group, a plan over it, and a second, idle plan: the state every bad request must leave untouched."""
    api.world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, [
        {"sourceServerId": sid, "hostname": f"h{index}.corp", "name": f"n{index}", "region": "us-east-1",
         "accountId": ACCOUNT, "instanceType": "t3.small", "launch": {"status": "LAUNCHED", "seconds": 60}}
        for index, sid in enumerate(SERVERS)], [])
    group = api.ok("POST", "/protection-groups", {"groupName": "App", "region": "us-east-1",
                                                  "sourceServerIds": SERVERS[:2]}, status=201)
    plan = api.ok("POST", "/recovery-plans", {"planName": "Main", "waves": [
        {"waveName": "A", "protectionGroupId": group["groupId"]},
        {"waveName": "B", "protectionGroupId": group["groupId"]}]}, status=201)
    return {"group": group, "plan": plan}


BAD_REQUESTS = [
    ("GET", "/nowhere", None, None, 404, "NOT_FOUND", "No route for GET /nowhere"),
    ("PATCH", "/health", None, None, 404, "NOT_FOUND", "No route for PATCH /health"),
    ("DELETE", "/executions", None, None, 404, "NOT_FOUND", "No route for DELETE /executions"),
    ("GET", "/health", "x" * 65537, None, 400, "PAYLOAD_TOO_LARGE", "Request body exceeds 65536 bytes"),
    ("POST", "/protection-groups", '{"groupName": "' + "\u00e9" * 40000 + '"}', None, 400, "PAYLOAD_TOO_LARGE",
     "Request body exceeds 65536 bytes"),
    ("POST", "/protection-groups", None, None, 400, "INVALID_JSON", "Request body is not valid JSON"),
    ("POST", "/protection-groups", "", None, 400, "INVALID_JSON", "Request body is not valid JSON"),
    ("POST", "/protection-groups", "{", None, 400, "INVALID_JSON", "Request body is not valid JSON"),
    ("POST", "/protection-groups", '{"groupName": NaN}', None, 400, "INVALID_JSON", "Request body is not valid JSON"),
    ("POST", "/protection-groups", "[1]", None, 400, "INVALID_JSON", "Request body must be a JSON object"),
    ("POST", "/protection-groups", {}, None, 400, "VALIDATION_ERROR", "groupName is required"),
    ("POST", "/protection-groups", {"groupName": "New", "region": "us-east-1", "sourceServerIds": [SERVERS[0]],
                                    "accountId": "1"}, None, 400, "VALIDATION_ERROR",
     "accountId must be a 12-digit AWS account id"),
    ("POST", "/protection-groups", {"groupName": " app ", "region": "us-east-1", "sourceServerIds": [SERVERS[3]]},
     None, 409, "DUPLICATE_NAME", "A protection group named app already exists"),
    ("POST", "/protection-groups", {"groupName": "New", "region": "us-east-1",
                                    "sourceServerIds": [MISSING_SERVER, SERVERS[2], "s-0b000000000000000"]},
     None, 400, "INVALID_SOURCE_SERVERS", "Source servers not found in DRS: s-0b000000000000000, s-0b000000000000001"),
    ("GET", "/protection-groups/nope", None, None, 404, "PROTECTION_GROUP_NOT_FOUND", "Protection group nope not found"),
    ("PUT", "/protection-groups/nope", {"version": 1}, None, 404, "PROTECTION_GROUP_NOT_FOUND",
     "Protection group nope not found"),
    ("PUT", "/protection-groups/{group}", "oops", None, 400, "INVALID_JSON", "Request body is not valid JSON"),
    ("PUT", "/protection-groups/{group}", {}, None, 400, "VALIDATION_ERROR", "version is required"),
    ("PUT", "/protection-groups/{group}", {"version": 1, "region": "mars"}, None, 400, "VALIDATION_ERROR",
     "region must be a valid AWS region"),
    ("PUT", "/protection-groups/{group}", {"version": 9, "description": "x"}, None, 409, "VERSION_CONFLICT",
     "Version 9 does not match current version 1"),
    ("PUT", "/protection-groups/{group}", {"version": 1, "sourceServerIds": [MISSING_SERVER]}, None, 400,
     "INVALID_SOURCE_SERVERS", f"Source servers not found in DRS: {MISSING_SERVER}"),
    ("DELETE", "/protection-groups/nope", None, None, 404, "PROTECTION_GROUP_NOT_FOUND", "Protection group nope not found"),
    ("DELETE", "/protection-groups/{group}", None, None, 409, "PROTECTION_GROUP_IN_USE",
     "Protection group {group} is used by recovery plan Main"),
    ("POST", "/recovery-plans", {"planName": "P", "waves": [{"waveName": "A", "protectionGroupId": "nope"}]}, None,
     400, "INVALID_PROTECTION_GROUP", "Protection group nope not found"),
    ("POST", "/recovery-plans", {"planName": "MAIN", "waves": [{"waveName": "A", "protectionGroupId": "{group}"}]},
     None, 409, "DUPLICATE_NAME", "A recovery plan named MAIN already exists"),
    ("POST", "/recovery-plans", {"planName": "P", "waves": "A"}, None, 400, "VALIDATION_ERROR",
     "waves must be a list of 1 to 20 waves"),
    ("GET", "/recovery-plans/nope", None, None, 404, "RECOVERY_PLAN_NOT_FOUND", "Recovery plan nope not found"),
    ("PUT", "/recovery-plans/{plan}", {"version": "1"}, None, 400, "VALIDATION_ERROR", "version must be an integer"),
    ("PUT", "/recovery-plans/{plan}", {"version": 2}, None, 409, "VERSION_CONFLICT",
     "Version 2 does not match current version 1"),
    ("DELETE", "/recovery-plans/nope", None, None, 404, "RECOVERY_PLAN_NOT_FOUND", "Recovery plan nope not found"),
    ("POST", "/executions", '"DRILL"', None, 400, "INVALID_JSON", "Request body must be a JSON object"),
    ("POST", "/executions", {"planId": "{plan}", "executionType": "TEST"}, None, 400, "VALIDATION_ERROR",
     "executionType must be one of DRILL, RECOVERY"),
    ("POST", "/executions", {"planId": 5, "executionType": "DRILL"}, None, 400, "VALIDATION_ERROR",
     "planId must be a string"),
    ("POST", "/executions", {"planId": "nope", "executionType": "DRILL"}, None, 404, "RECOVERY_PLAN_NOT_FOUND",
     "Recovery plan nope not found"),
    ("GET", "/executions", None, {"limit": "0"}, 400, "VALIDATION_ERROR", "limit must be an integer between 1 and 100"),
    ("GET", "/executions", None, {"nextToken": "bogus"}, 400, "VALIDATION_ERROR", "nextToken is invalid"),
    ("GET", "/executions/nope", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
    ("POST", "/executions/nope/cancel", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
    ("POST", "/executions/nope/pause", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
    ("POST", "/executions/nope/resume", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
    ("GET", "/executions/nope/job-logs", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
    ("POST", "/executions/nope/terminate-instances", None, None, 404, "EXECUTION_NOT_FOUND", "Execution nope not found"),
]


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Put the catalog's real ids in place of {group} / {plan}."""
    if isinstance(value, str):
        return value.replace("{group}", ids["group"]).replace("{plan}", ids["plan"])
    if isinstance(value, list):
        return [fill(element, ids) for element in value]
    if isinstance(value, dict):
        return {key: fill(element, ids) for key, element in value.items()}
    return value


@pytest.mark.parametrize("method, path, body, query, status, code, message", BAD_REQUESTS,
                         ids=[f"{case[0]} {case[1]} {case[6][:40]}" for case in BAD_REQUESTS])
def test_bad_request_is_refused_and_writes_nothing(api: Api, catalog: dict[str, Any], method: str, path: str,
                                                   body: Any, query: Any, status: int, code: str, message: str) -> None:
    ids = {"group": catalog["group"]["groupId"], "plan": catalog["plan"]["planId"]}
    before = api.tables()
    response = api(method, fill(path, ids), fill(body, ids), query)
    assert (response.status, response.body) == (status, {"error": code, "message": fill(message, ids)})
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert api.tables() == before


def test_health(api: Api) -> None:
    assert api.ok("GET", "/health") == {"status": "healthy"}


def test_lists_are_sorted_and_counted(api: Api, catalog: dict[str, Any]) -> None:
    api.ok("POST", "/protection-groups", {"groupName": "Tagged", "region": "us-east-1",
                                          "serverSelectionTags": {"Tier": "db"}}, status=201)
    groups = api.ok("GET", "/protection-groups")
    assert [g["groupName"] for g in groups["protectionGroups"]] == ["App", "Tagged"] and groups["count"] == 2
    assert "sourceServerIds" not in groups["protectionGroups"][1]
    assert api.ok("GET", "/recovery-plans")["recoveryPlans"][0]["planId"] == catalog["plan"]["planId"]


def test_group_update_bumps_the_version_and_keeps_the_creation_date(api: Api, catalog: dict[str, Any]) -> None:
    group = catalog["group"]
    api.world.clock.advance(5)
    updated = api.ok("PUT", f"/protection-groups/{group['groupId']}",
                     {"version": 1, "description": "tier 1", "groupId": "ignored", "createdDate": 1})
    assert (updated["version"], updated["description"], updated["groupId"]) == (2, "tier 1", group["groupId"])
    assert updated["createdDate"] == group["createdDate"] < updated["lastModifiedDate"]
    assert api.ok("GET", f"/protection-groups/{group['groupId']}") == updated


def poll(api: Api) -> None:
    api.world.host.invoke(FUNCTION, {"worker": "find-executions"})


def test_execution_lifecycle(api: Api, catalog: dict[str, Any]) -> None:
    plan_id = catalog["plan"]["planId"]
    started = api.ok("POST", "/executions", {"planId": plan_id, "executionType": "DRILL"}, status=202)
    execution_id = started["executionId"]
    assert started == {"executionId": execution_id, "status": "INITIATED"}
    active = {"error": "PLAN_ALREADY_EXECUTING",
              "message": f"Recovery plan {plan_id} has an active execution {execution_id}"}
    assert api("POST", "/executions", {"planId": plan_id, "executionType": "RECOVERY"}).body == active
    assert api("PUT", f"/recovery-plans/{plan_id}", {"version": 1}).body == active
    assert api("DELETE", f"/recovery-plans/{plan_id}").body == active

    details = api.ok("GET", f"/executions/{execution_id}")
    assert api.last_calls() == [("dynamodb", "Query")]  # cached: one read, no DRS or EC2
    assert (details["status"], details["initiatedBy"], details["isFinal"]) == ("POLLING", "test.user@example.com", False)
    assert details["waves"][0]["status"] == "STARTED" and details["waves"][1]["status"] == "PENDING"

    assert api.ok("POST", f"/executions/{execution_id}/pause") == {
        "executionId": execution_id, "status": "POLLING", "pausedBeforeWave": 1}
    assert api("POST", f"/executions/{execution_id}/resume").body["message"] == (
        f"Execution {execution_id} is POLLING; cannot resume")
    assert api("POST", f"/executions/{execution_id}/terminate-instances").body["message"] == (
        f"Execution {execution_id} is POLLING; cannot terminate instances")
    for _ in range(4):
        api.world.clock.advance(60)
        poll(api)
    paused = api.ok("GET", f"/executions/{execution_id}")
    assert (paused["status"], paused["currentWave"], paused["completedWaves"]) == ("PAUSED", 1, 1)
    assert all(server["privateIp"] and server["serverName"] for server in paused["waves"][0]["serverStatuses"])

    resumed = api.ok("POST", f"/executions/{execution_id}/resume")
    assert resumed == {"executionId": execution_id, "status": "POLLING", "currentWave": 1}
    assert ("drs", "StartRecovery") in api.last_calls()
    assert api.ok("POST", f"/executions/{execution_id}/cancel") == {"executionId": execution_id, "status": "CANCELLING"}
    for _ in range(4):
        api.world.clock.advance(60)
        poll(api)
    final = api.ok("GET", f"/executions/{execution_id}")
    assert (final["status"], final["isFinal"]) == ("CANCELLED", True)
    assert api("POST", f"/executions/{execution_id}/cancel").body == {
        "error": "INVALID_STATE", "message": f"Execution {execution_id} is CANCELLED; cannot cancel"}

    logs = api.ok("GET", f"/executions/{execution_id}/job-logs")
    assert [entry["waveNumber"] for entry in logs["jobLogs"]] == [0, 1]
    assert all(event["event"] and event["eventDateTime"] for entry in logs["jobLogs"] for event in entry["events"])
    terminated = api.ok("POST", f"/executions/{execution_id}/terminate-instances")
    instance_ids = sorted(s["instanceId"] for w in final["waves"] for s in w["serverStatuses"] if s["instanceId"])
    assert terminated["terminatedInstanceIds"] == instance_ids and len(terminated["jobIds"]) == 1
    assert [c for c in api.last_calls() if c[0] == "drs"] == [("drs", "TerminateRecoveryInstances")]


def test_listing_pages_newest_first(api: Api, catalog: dict[str, Any]) -> None:
    api.world.clock.advance(60)
    second = api.ok("POST", "/executions", {"planId": catalog["plan"]["planId"], "executionType": "RECOVERY",
                                            "initiatedBy": "ops"}, status=202)["executionId"]
    first_page = api("GET", "/executions", query={"limit": "1"}).body
    assert [e["executionId"] for e in first_page["executions"]] == [second]
    assert first_page["nextToken"] == second and first_page["count"] == 1
    assert set(first_page["executions"][0]) == {"executionId", "planId", "planName", "executionType", "status",
                                                "initiatedBy", "startTime", "endTime", "totalWaves", "currentWave"}
    rest = api("GET", "/executions", query={"limit": "5", "nextToken": second}).body
    assert rest["count"] == 1 and rest["nextToken"] is None and rest["executions"][0]["executionId"] != second
