"""Points where CONTRACT.md was silent and the two implementations differed, now settled: both sides, no AWS.

Each test states the contract's sentence it checks (see the scenario fixtures/scenarios/api-contract.yaml for the
same behaviour end to end through the parity harness).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from tests.reference.code_packages import decomposed, monolith

# Each decomposed function has its own namespace (and its own copy of the shared layer), as on Lambda.
dec_rules = decomposed("DataManagementFunction", "rules")
dec_executions = decomposed("ExecutionHandlerFunction", "executions")
dec_execution_rules = decomposed("ExecutionHandlerFunction", "rules")
dec_start_worker = decomposed("ExecutionHandlerFunction", "start_worker")
StartExecutionEvent = decomposed("ExecutionHandlerFunction", "events").StartExecutionEvent
dec_api = decomposed("ExecutionHandlerFunction", "shared.api")
reported_as_call_error = decomposed("ExecutionHandlerFunction", "shared.aws_calls").reported_as_call_error
AwsCallError = decomposed("ExecutionHandlerFunction", "shared.errors").AwsCallError
ValidationError = decomposed("DataManagementFunction", "shared.errors").ValidationError
ExecutionValidationError = decomposed("ExecutionHandlerFunction", "shared.errors").ValidationError
mono_aws = monolith("aws")
mono_executions = monolith("executions")
mono_polling = monolith("polling")
mono_router = monolith("router")
mono_validation = monolith("validation")
ProtectionGroupCatalog = monolith("catalog").ProtectionGroupCatalog
MonoApiError = monolith("errors").ApiError
ConditionFailed = monolith("repositories").ConditionFailed

ACCOUNT = "123456789012"
SERVER = "s-0123456789abcdef0"
ARABIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


def group(**overrides: Any) -> dict[str, Any]:
    body = {"groupName": " Web ", "region": "us-east-1", "sourceServerIds": [SERVER]}
    body.update(overrides)
    return body


def mono_message(call: Any, *args: Any) -> str:
    with pytest.raises(MonoApiError) as caught:
        call(*args)
    return caught.value.message


def dec_message(call: Any, *args: Any, error: type[Exception] = ValidationError) -> str:
    with pytest.raises(error) as caught:
        call(*args)
    return caught.value.message


def both_group_messages(body: dict[str, Any]) -> tuple[str, str]:
    return (mono_message(mono_validation.validate_group, body, ACCOUNT),
            dec_message(dec_rules.validate_group, body, ACCOUNT))


# -- field rules ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, expected", [
    # required strings: "must not be empty" before the format check
    ({"region": ""}, "region must not be empty"),
    ({"region": "  "}, "region must not be empty"),
    # patterns: full match, ASCII digits, no trailing newline
    ({"region": "us-east-1\n"}, "region must be a valid AWS region"),
    ({"region": "us-east-\u0661"}, "region must be a valid AWS region"),
    ({"accountId": ACCOUNT + "\n"}, "accountId must be a 12-digit AWS account id"),
    ({"accountId": ARABIC_ACCOUNT}, "accountId must be a 12-digit AWS account id"),
    ({"sourceServerIds": [SERVER + "\n"]}, f"sourceServerIds contains an invalid id: {SERVER}\n"),
    # optional strings: the type first, never "must not be empty"
    ({"accountId": 123456789012}, "accountId must be a string"),
    ({"accountId": ""}, "accountId must be a 12-digit AWS account id"),
    # lengths of the value as stored: description as given
    ({"description": "d" * 1020 + " " * 10}, "description must be at most 1024 characters"),
])
def test_group_field_rules_agree(overrides: dict[str, Any], expected: str) -> None:
    assert both_group_messages(group(**overrides)) == (expected, expected)


def test_lengths_are_characters_of_the_stripped_name() -> None:
    body = group(groupName="  " + "\u00e9" * 128 + "  ")
    assert mono_validation.validate_group(body, ACCOUNT)["groupName"] == "\u00e9" * 128
    assert dec_rules.validate_group(body, ACCOUNT)["groupName"] == "\u00e9" * 128


@pytest.mark.parametrize("wave, expected", [
    ({"waveName": "w", "protectionGroupId": ""}, "waves[0].protectionGroupId must not be empty"),
    ({"waveName": "w", "protectionGroupId": " "}, "waves[0].protectionGroupId must not be empty"),
])
def test_plan_wave_group_id_must_not_be_empty(wave: dict[str, Any], expected: str) -> None:
    body = {"planName": "p", "waves": [wave]}
    assert mono_message(mono_validation.validate_plan, body) == expected
    assert dec_message(dec_rules.validate_plan, body) == expected


def test_names_and_wave_names_are_stored_stripped_description_as_given() -> None:
    body = {"planName": "  Plan ", "description": " as given ",
            "waves": [{"waveName": "  First  ", "protectionGroupId": "g"}]}
    for fields in (mono_validation.validate_plan(body), dec_rules.validate_plan(body)):
        assert (fields["planName"], fields["description"], fields["waves"][0]["waveName"]) == (
            "Plan", " as given ", "First")


def test_plan_id_must_not_be_empty() -> None:
    assert mono_message(mono_validation.validate_execution_start, {"planId": " "}, None) == "planId must not be empty"


@pytest.mark.parametrize("limit", ["\u0665", "\uff15", " 5"])
def test_limit_takes_ascii_digits_only(limit: str) -> None:
    expected = "limit must be an integer between 1 and 100"
    assert mono_message(mono_validation.page_request, {"limit": limit}) == expected
    assert dec_message(dec_execution_rules.page_size, limit, error=ExecutionValidationError) == expected


def test_a_null_in_a_put_changes_nothing() -> None:
    stored = {"groupName": "Web", "description": "kept", "region": "us-east-1", "accountId": ACCOUNT,
              "sourceServerIds": [SERVER]}
    body = {"version": 1, "groupName": None, "description": None, "sourceServerIds": None, "region": "us-west-2"}
    expected = {**stored, "region": "us-west-2", "serverSelectionTags": None}
    assert mono_validation.merge_group(stored, body) == expected
    assert dec_rules.merge_group_update(stored, body) == expected
    plan = {"planName": "P", "description": "", "waves": [{"waveName": "w", "protectionGroupId": "g"}]}
    plan_body = {"version": 1, "planName": None, "waves": None, "description": "new"}
    assert mono_validation.merge_plan(plan, plan_body) == dec_rules.merge_plan_update(plan, plan_body) == {
        **plan, "description": "new"}


def test_names_clash_after_casefold() -> None:
    stored = [{"groupId": "g1", "groupName": "Stra\u00dfe"}]
    services = SimpleNamespace(groups=SimpleNamespace(scan_all=lambda: stored))
    expected = "A protection group named STRASSE already exists"
    assert mono_message(ProtectionGroupCatalog(services)._ensure_name_free, "STRASSE", None) == expected
    with pytest.raises(dec_rules.ApiError) as caught:
        dec_rules.ensure_unique_name(stored, "groupName", "groupId", "STRASSE", None, "protection group")
    assert caught.value.message == expected


# -- request plumbing -------------------------------------------------------------------------------------------------
def mono_call(method: str, path: str, body: str | None = None) -> tuple[int, dict[str, Any]]:
    response = mono_router.handle(None, {"httpMethod": method, "path": path, "body": body})  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def dec_call(method: str, path: str, body: str | None = None) -> tuple[int, dict[str, Any]]:
    router = dec_api.Router()
    router.route("POST", "/protection-groups", takes_body=True)(lambda request: dec_api.Response(201, {}))
    router.route("GET", "/protection-groups")(lambda request: dec_api.Response(200, {}))
    response = router.handle({"httpMethod": method, "path": path, "body": body})
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("method, path, body, expected", [
    ("GET", "/protection-groups/", None, (404, "No route for GET /protection-groups/")),
    ("POST", "/protection-groups", "NaN", (400, "Request body is not valid JSON")),
    ("POST", "/protection-groups", '{"a": Infinity}', (400, "Request body is not valid JSON")),
    ("POST", "/protection-groups", "[" * 5000, (400, "Request body is not valid JSON")),
])
def test_request_plumbing_agrees(method: str, path: str, body: str | None, expected: tuple[int, str]) -> None:
    for call in (mono_call, dec_call):
        status, payload = call(method, path, body)
        assert (status, payload["message"]) == expected


def test_invalid_base64_body_is_not_json() -> None:
    router = dec_api.Router()
    router.route("POST", "/x", takes_body=True)(lambda request: dec_api.Response(200, {}))
    response = router.handle({"httpMethod": "POST", "path": "/x", "body": "!!!", "isBase64Encoded": True})
    assert json.loads(response["body"])["message"] == "Request body is not valid JSON"


def test_a_request_botocore_refuses_is_a_validation_exception_on_both_sides() -> None:
    refused = ParamValidationError(report="Invalid length for parameter sourceServers, value: 0,\n valid min length: 1")
    with pytest.raises(mono_aws.AwsError) as mono:
        with mono_aws.translated_errors():
            raise refused
    with pytest.raises(AwsCallError) as dec:
        with reported_as_call_error():
            raise refused
    assert mono.value.reason == dec.value.text
    assert dec.value.text.startswith("ValidationException: Parameter validation failed: Invalid length")
    assert "\n" not in dec.value.text and "  " not in dec.value.text


# -- executions -------------------------------------------------------------------------------------------------------
class RacingExecutions:
    """An execution table whose conditional writes lose `losses` times; each lost write moves to `then`."""

    def __init__(self, item: dict[str, Any], losses: int, then: str | None = None) -> None:
        self.item, self.losses, self.then, self.writes = item, losses, then, 0

    def find(self, execution_id: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.item))

    read = find  # the execution as read: these items have no server statuses

    def put_servers(self, item: dict[str, Any], read: Any) -> None:
        """No server changed in these races."""

    def update(self, item: dict[str, Any], fields: Any, statuses: Any) -> None:
        self.writes += 1
        if self.losses:
            self.losses -= 1
            if self.then:
                self.item["status"] = self.then
            raise ConditionFailed()


def polling_item() -> dict[str, Any]:
    return {"executionId": "e1", "planId": "p1", "status": "POLLING", "currentWave": 0, "totalWaves": 2,
            "pausedBeforeWave": None, "waves": [], "endTime": None}


def test_a_lost_race_is_decided_again_with_the_fresh_status() -> None:
    table = RacingExecutions(polling_item(), losses=1, then="CANCELLED")
    services = SimpleNamespace(executions=table)
    assert mono_message(mono_executions.pause_execution, services, "e1") == "Execution e1 is CANCELLED; cannot pause"


def test_three_lost_races_answer_changed_during_the_request() -> None:
    table = RacingExecutions(polling_item(), losses=5)
    services = SimpleNamespace(executions=table)
    assert mono_message(mono_executions.pause_execution, services, "e1") == "Execution e1 changed during the request"
    assert table.writes == 3
    table = RacingExecutions(polling_item(), losses=1)
    assert mono_executions.pause_execution(SimpleNamespace(executions=table), "e1") == (
        200, {"executionId": "e1", "status": "POLLING", "pausedBeforeWave": 1})


def test_timed_out_is_logged_only_when_the_timeout_was_written(capsys: pytest.CaptureFixture[str]) -> None:
    item = {**polling_item(), "startTime": 0, "lastPolledTime": None, "errorMessage": None}
    services = SimpleNamespace(executions=RacingExecutions(item, losses=1))
    mono_polling.poll_execution(services, "e1")  # type: ignore[arg-type]
    messages = [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()]
    assert messages == ["Polling execution: e1", "Execution e1 changed during poll; update skipped"]


def test_start_worker_logs_a_missing_execution(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dec_start_worker, "ExecutionRepository", lambda: SimpleNamespace(get_item=lambda _: None))
    dec_start_worker.run(StartExecutionEvent("e1", "p1"))
    assert json.loads(capsys.readouterr().out) == {"level": "INFO", "message": "Execution e1 not found",
                                                   "executionId": "e1"}


def test_terminate_groups_follow_the_first_wave_holding_an_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    def wave(region: str, *instances: str) -> dict[str, Any]:
        return {"accountId": ACCOUNT, "region": region,
                "serverStatuses": [{"instanceId": instance} for instance in instances]}

    execution = {"executionId": "e1", "status": "FAILED",
                 "waves": [wave("us-east-1"), wave("us-west-2", "i-2"), wave("us-east-1", "i-1")]}
    calls: list[tuple[str, list[str]]] = []

    class FakeDrs:
        def __init__(self, accounts: Any) -> None:
            pass

        def terminate_recovery_instances(self, account: str, region: str, ids: list[str]) -> list[str]:
            calls.append((region, ids))
            return [f"job-{region}"]

    monkeypatch.setattr(dec_executions, "_find", lambda _, with_servers=False: execution)
    monkeypatch.setattr(dec_executions, "DrsGateway", FakeDrs)
    monkeypatch.setattr(dec_executions, "AccountContexts", lambda: None)
    response = dec_executions.terminate_instances(dec_api.Request("POST", "/x", {"id": "e1"}))
    assert calls == [("us-west-2", ["i-2"]), ("us-east-1", ["i-1"])]
    assert response.body["jobIds"] == ["job-us-west-2", "job-us-east-1"]
