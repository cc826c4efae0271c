"""Router checks and the execution API rules of the decomposed system (no AWS)."""

import json

import pytest

from tests.reference.code_packages import decomposed

rules = decomposed("ExecutionHandlerFunction", "rules")
Response = decomposed("ExecutionHandlerFunction", "shared.api").Response
Router = decomposed("ExecutionHandlerFunction", "shared.api").Router
InvalidTransition = decomposed("ExecutionHandlerFunction", "shared.domain.lifecycle").InvalidTransition


def make_router():
    router = Router()
    router.route("POST", "/things", takes_body=True)(lambda request: Response(201, request.body))
    router.route("GET", "/things/{id}")(lambda request: Response(200, {"id": request.path_params["id"]}))
    return router


def call(router, method, path, body=None):
    response = router.handle({"httpMethod": method, "path": path, "body": body})
    assert response["headers"] == {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("method, path, body, expected", [
    ("DELETE", "/things/1", None, (404, "NOT_FOUND", "No route for DELETE /things/1")),
    ("GET", "/others", None, (404, "NOT_FOUND", "No route for GET /others")),
    ("POST", "/things", "x" * 65537, (400, "PAYLOAD_TOO_LARGE", "Request body exceeds 65536 bytes")),
    ("POST", "/things", None, (400, "INVALID_JSON", "Request body is not valid JSON")),
    ("POST", "/things", "{bad", (400, "INVALID_JSON", "Request body is not valid JSON")),
    ("POST", "/things", "[1]", (400, "INVALID_JSON", "Request body must be a JSON object")),
])
def test_request_checks(method, path, body, expected):
    status, payload = call(make_router(), method, path, body)
    assert (status, payload["error"], payload["message"]) == expected


def test_routes_answer_with_path_parameters_and_body():
    assert call(make_router(), "GET", "/things/abc") == (200, {"id": "abc"})
    assert call(make_router(), "POST", "/things", '{"a": 1}') == (201, {"a": 1})


def execution(status="POLLING", waves=("STARTED", "PENDING"), current=0):
    return {"executionId": "e1", "status": status, "startTime": 100, "endTime": None, "currentWave": current,
            "totalWaves": len(waves), "pausedBeforeWave": None,
            "waves": [{"status": status_, "statusMessage": None} for status_ in waves]}


def test_cancel_with_active_wave_is_cancelling():
    item = execution()
    rules.cancel(item, 500)
    assert item["status"] == "CANCELLING" and item["endTime"] is None
    assert item["waves"][1] == {"status": "CANCELLED", "statusMessage": "Cancelled before start"}


def test_cancel_without_active_wave_is_cancelled():
    item = execution(status="PAUSED", waves=("COMPLETED", "PENDING"))
    rules.cancel(item, 500)
    assert (item["status"], item["endTime"]) == ("CANCELLED", 500)


def test_cancel_final_is_refused():
    with pytest.raises(InvalidTransition, match="^Execution e1 is COMPLETED; cannot cancel$"):
        rules.cancel(execution(status="COMPLETED"), 500)


def test_pause_rules():
    item = execution()
    rules.pause(item)
    assert item["pausedBeforeWave"] == 1
    with pytest.raises(InvalidTransition, match="^Execution e1 has no later wave to pause before$"):
        rules.pause(execution(current=1))
    with pytest.raises(InvalidTransition, match="^Execution e1 is PAUSED; cannot pause$"):
        rules.pause(execution(status="PAUSED"))


def test_resume_takes_the_paused_wave():
    item = execution(status="PAUSED")
    item["pausedBeforeWave"] = 1
    assert rules.take_wave_to_resume(item) == 1 and item["pausedBeforeWave"] is None
    with pytest.raises(InvalidTransition, match="^Execution e1 is POLLING; cannot resume$"):
        rules.take_wave_to_resume(execution())


def test_derived_fields():
    item = execution(waves=("COMPLETED", "LAUNCHING"))
    assert rules.with_derived_fields(item, 160) | {} == {**item, "isFinal": False, "completedWaves": 1,
                                                         "durationSeconds": 60}
    item.update(status="COMPLETED", endTime=130)
    assert rules.with_derived_fields(item, 999)["durationSeconds"] == 30


def test_pages_newest_first_with_tokens():
    items = [{"executionId": name, "startTime": start} for name, start in
             [("a", 1), ("b", 3), ("c", 2), ("d", 3)]]
    page, token = rules.page_of(items, 2, None)
    assert [item["executionId"] for item in page] == ["b", "d"] and token == "d"
    page, token = rules.page_of(items, 2, token)
    assert [item["executionId"] for item in page] == ["c", "a"] and token is None
    with pytest.raises(Exception, match="nextToken is invalid"):
        rules.page_of(items, 2, "zzz")
