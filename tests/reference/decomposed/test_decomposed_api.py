"""The decomposed API on the World (moto, template deployed, IAM enforced): bad input answers 4xx and writes nothing."""

import pytest

from tests.reference.decomposed.decomposed_support import decomposed_world, server_id, source_server

MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def deployed():
    with decomposed_world([source_server(n) for n in range(1, 5)]) as world:
        group = world.create_group("App", [server_id(1), server_id(2)])
        plan = world.create_plan("Plan", [{"waveName": "w0", "protectionGroupId": group["groupId"]}])
        world.refs = {"group": group, "plan": plan}
        yield world


def bad_requests(refs):
    group_id, plan_id = refs["group"]["groupId"], refs["plan"]["planId"]
    group_body = {"groupName": "New", "region": "us-east-1", "sourceServerIds": [server_id(3)]}
    return [
        ("GET", "/nowhere", None, 404, "NOT_FOUND"),
        ("PATCH", "/protection-groups", None, 404, "NOT_FOUND"),
        ("POST", "/protection-groups", "x" * 65537, 400, "PAYLOAD_TOO_LARGE"),
        ("POST", "/protection-groups", "{not json", 400, "INVALID_JSON"),
        ("POST", "/protection-groups", [1, 2], 400, "INVALID_JSON"),
        ("POST", "/protection-groups", {**group_body, "region": "mars"}, 400, "VALIDATION_ERROR"),
        ("POST", "/protection-groups", {**group_body, "groupName": "app"}, 409, "DUPLICATE_NAME"),
        ("POST", "/protection-groups", {**group_body, "sourceServerIds": [server_id(99)]}, 400,
         "INVALID_SOURCE_SERVERS"),
        ("GET", f"/protection-groups/{MISSING}", None, 404, "PROTECTION_GROUP_NOT_FOUND"),
        ("PUT", f"/protection-groups/{MISSING}", {"version": 1}, 404, "PROTECTION_GROUP_NOT_FOUND"),
        ("PUT", f"/protection-groups/{group_id}", {}, 400, "VALIDATION_ERROR"),
        ("PUT", f"/protection-groups/{group_id}", {"version": True}, 400, "VALIDATION_ERROR"),
        ("PUT", f"/protection-groups/{group_id}", {"version": 7, "description": "x"}, 409, "VERSION_CONFLICT"),
        ("DELETE", f"/protection-groups/{MISSING}", None, 404, "PROTECTION_GROUP_NOT_FOUND"),
        ("DELETE", f"/protection-groups/{group_id}", None, 409, "PROTECTION_GROUP_IN_USE"),
        ("POST", "/recovery-plans", {"planName": "X", "waves": []}, 400, "VALIDATION_ERROR"),
        ("POST", "/recovery-plans", {"planName": "plan", "waves": [{"waveName": "a", "protectionGroupId": group_id}]},
         409, "DUPLICATE_NAME"),
        ("POST", "/recovery-plans", {"planName": "X", "waves": [{"waveName": "a", "protectionGroupId": MISSING}]},
         400, "INVALID_PROTECTION_GROUP"),
        ("GET", f"/recovery-plans/{MISSING}", None, 404, "RECOVERY_PLAN_NOT_FOUND"),
        ("PUT", f"/recovery-plans/{MISSING}", {"version": 1}, 404, "RECOVERY_PLAN_NOT_FOUND"),
        ("PUT", f"/recovery-plans/{plan_id}", {"version": 2}, 409, "VERSION_CONFLICT"),
        ("DELETE", f"/recovery-plans/{MISSING}", None, 404, "RECOVERY_PLAN_NOT_FOUND"),
        ("POST", "/executions", None, 400, "INVALID_JSON"),
        ("POST", "/executions", {"executionType": "DRILL"}, 400, "VALIDATION_ERROR"),
        ("POST", "/executions", {"planId": plan_id, "executionType": "TEST"}, 400, "VALIDATION_ERROR"),
        ("POST", "/executions", {"planId": MISSING, "executionType": "DRILL"}, 404, "RECOVERY_PLAN_NOT_FOUND"),
        ("GET", "/executions", None, 400, "VALIDATION_ERROR"),  # with limit=0 below
        ("GET", f"/executions/{MISSING}", None, 404, "EXECUTION_NOT_FOUND"),
        ("POST", f"/executions/{MISSING}/cancel", None, 404, "EXECUTION_NOT_FOUND"),
        ("POST", f"/executions/{MISSING}/pause", None, 404, "EXECUTION_NOT_FOUND"),
        ("POST", f"/executions/{MISSING}/resume", None, 404, "EXECUTION_NOT_FOUND"),
        ("GET", f"/executions/{MISSING}/job-logs", None, 404, "EXECUTION_NOT_FOUND"),
        ("POST", f"/executions/{MISSING}/terminate-instances", None, 404, "EXECUTION_NOT_FOUND"),
        ("DELETE", "/health", None, 404, "NOT_FOUND"),
    ]


def test_bad_input_for_every_route_answers_4xx_and_writes_nothing(deployed):
    before = deployed.snapshot()
    for method, path, body, status, code in bad_requests(deployed.refs):
        query = {"limit": "0"} if (method, path) == ("GET", "/executions") else None
        raw = body if isinstance(body, str) else body
        response = deployed.api(method, path, raw, query=query)
        assert (response.status, response.body.get("error")) == (status, code), (method, path, response.body)
        assert set(response.body) == {"error", "message"}
    assert deployed.snapshot() == before


def test_group_update_and_delete_round_trip(deployed):
    created = deployed.create_group("Spare", [server_id(3)])
    path = f"/protection-groups/{created['groupId']}"
    updated = deployed.api("PUT", path, {"version": 1, "serverSelectionTags": {"Tier": "app"}})
    assert updated.status == 200
    assert updated.body["version"] == 2 and "sourceServerIds" not in updated.body
    assert deployed.api("GET", path).body == updated.body
    assert deployed.api("DELETE", path).body == {"message": "Protection group deleted", "groupId": created["groupId"]}
    assert deployed.api("GET", path).status == 404


def test_health(deployed):
    response = deployed.api("GET", "/health")
    assert (response.status, response.body) == (200, {"status": "healthy"})


def test_execution_lifecycle_conflicts_then_cancel(deployed):
    plan_id = deployed.refs["plan"]["planId"]
    execution_id = deployed.start(plan_id)
    assert deployed.execution(execution_id)["status"] == "POLLING"
    before = deployed.snapshot()
    conflicts = [
        ("POST", "/executions", {"planId": plan_id, "executionType": "DRILL"}, "PLAN_ALREADY_EXECUTING"),
        ("DELETE", f"/recovery-plans/{plan_id}", None, "PLAN_ALREADY_EXECUTING"),
        ("PUT", f"/recovery-plans/{plan_id}", {"version": 1}, "PLAN_ALREADY_EXECUTING"),
        ("POST", f"/executions/{execution_id}/pause", None, "INVALID_STATE"),  # on its last wave
        ("POST", f"/executions/{execution_id}/resume", None, "INVALID_STATE"),
        ("POST", f"/executions/{execution_id}/terminate-instances", None, "INVALID_STATE"),
    ]
    for method, path, body, code in conflicts:
        response = deployed.api(method, path, body)
        assert (response.status, response.body["error"]) == (409, code), (path, response.body)
    assert deployed.snapshot() == before
    cancelled = deployed.api("POST", f"/executions/{execution_id}/cancel")
    assert cancelled.body == {"executionId": execution_id, "status": "CANCELLING"}
    details = deployed.api("GET", f"/executions/{execution_id}").body
    assert details["status"] == "CANCELLING" and details["isFinal"] is False
    listing = deployed.api("GET", "/executions", query={"limit": "1"}).body
    assert listing["executions"][0]["executionId"] == execution_id and listing["nextToken"] is None
