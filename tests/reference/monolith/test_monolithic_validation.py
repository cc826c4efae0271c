"""Request validation of the monolith: the contract's check order and exact messages, without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reference.code_packages import monolith

validation = monolith("validation")
ApiError = monolith("errors").ApiError

ACCOUNT = "123456789012"
SERVER_A = "s-0123456789abcdef0"
SERVER_B = "s-0123456789abcdef1"


def group(**overrides: Any) -> dict[str, Any]:
    body = {"groupName": "  Web tier ", "region": "us-east-1", "sourceServerIds": [SERVER_B, SERVER_A]}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def refusal(check: Any, *args: Any) -> str:
    with pytest.raises(ApiError) as caught:
        check(*args)
    assert (caught.value.status, caught.value.code) == (400, "VALIDATION_ERROR")
    return caught.value.message


def test_valid_group_is_stripped_defaulted_and_keeps_only_the_given_selection() -> None:
    fields = validation.validate_group(group(), ACCOUNT)
    assert fields == {"groupName": "Web tier", "description": "", "region": "us-east-1", "accountId": ACCOUNT,
                      "sourceServerIds": [SERVER_B, SERVER_A]}
    tagged = validation.validate_group(group(sourceServerIds=..., serverSelectionTags={"Tier": "web"}), ACCOUNT)
    assert "sourceServerIds" not in tagged and tagged["serverSelectionTags"] == {"Tier": "web"}


@pytest.mark.parametrize("overrides, message", [
    ({"groupName": ...}, "groupName is required"),
    ({"groupName": 7}, "groupName must be a string"),
    ({"groupName": "   "}, "groupName must not be empty"),
    ({"groupName": "x" * 129}, "groupName must be at most 128 characters"),
    ({"description": ["x"]}, "description must be a string"),
    ({"description": "x" * 1025}, "description must be at most 1024 characters"),
    ({"region": ...}, "region is required"),
    ({"region": "US-EAST-1"}, "region must be a valid AWS region"),
    ({"accountId": "12345"}, "accountId must be a 12-digit AWS account id"),
    ({"accountId": 123456789012}, "accountId must be a string"),
    ({"sourceServerIds": ...}, "sourceServerIds or serverSelectionTags is required"),
    ({"serverSelectionTags": {"a": "b"}}, "sourceServerIds and serverSelectionTags are mutually exclusive"),
    ({"sourceServerIds": []}, "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": "s-0123456789abcdef0"}, "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": [SERVER_A] * 201}, "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": [SERVER_A, "s-XYZ", "bad"]}, "sourceServerIds contains an invalid id: s-XYZ"),
    ({"sourceServerIds": [SERVER_A, SERVER_A]}, "sourceServerIds contains duplicates"),
    ({"sourceServerIds": ..., "serverSelectionTags": {}}, "serverSelectionTags must be a non-empty object of string values"),
    ({"sourceServerIds": ..., "serverSelectionTags": {"a": 1}}, "serverSelectionTags must be a non-empty object of string values"),
])
def test_group_checks_answer_the_first_failure(overrides: dict[str, Any], message: str) -> None:
    assert refusal(validation.validate_group, group(**overrides), ACCOUNT) == message


def test_group_checks_run_in_contract_order() -> None:
    body = {"groupName": "", "region": "nowhere", "accountId": "x"}
    assert refusal(validation.validate_group, body, ACCOUNT) == "groupName must not be empty"
    body["groupName"] = "ok"
    assert refusal(validation.validate_group, body, ACCOUNT) == "region must be a valid AWS region"


def test_merge_group_replaces_the_server_selection_and_ignores_unknown_fields() -> None:
    stored = {"groupId": "g", "groupName": "Web", "description": "d", "region": "us-east-1", "accountId": ACCOUNT,
              "sourceServerIds": [SERVER_A], "createdDate": 1, "version": 3}
    merged = validation.merge_group(stored, {"serverSelectionTags": {"Tier": "web"}, "groupId": "other", "x": 1})
    assert merged == {"groupName": "Web", "description": "d", "region": "us-east-1", "accountId": ACCOUNT,
                      "sourceServerIds": None, "serverSelectionTags": {"Tier": "web"}}


def test_version_must_be_an_integer_not_a_boolean() -> None:
    assert refusal(validation.version_of, {}) == "version is required"
    assert refusal(validation.version_of, {"version": True}) == "version must be an integer"
    assert refusal(validation.version_of, {"version": "1"}) == "version must be an integer"
    assert validation.version_of({"version": 4}) == 4


def test_plan_waves_are_numbered_by_position() -> None:
    fields = validation.validate_plan({"planName": " P ", "waves": [
        {"waveName": "A", "protectionGroupId": "g1", "waveNumber": 9},
        {"waveName": "B", "protectionGroupId": "g2", "pauseBeforeWave": True}]})
    assert fields["planName"] == "P" and fields["description"] == ""
    assert [(w["waveNumber"], w["waveName"], w["pauseBeforeWave"]) for w in fields["waves"]] == [
        (0, "A", False), (1, "B", True)]


@pytest.mark.parametrize("waves, message", [
    (None, "waves is required"),
    ([], "waves must be a list of 1 to 20 waves"),
    ({"waveName": "A"}, "waves must be a list of 1 to 20 waves"),
    ([{"waveName": "A", "protectionGroupId": "g"}] * 21, "waves must be a list of 1 to 20 waves"),
    (["A"], "waves[0] must be an object"),
    ([{"waveName": "A", "protectionGroupId": "g"}, {"protectionGroupId": "g"}], "waves[1].waveName is required"),
    ([{"waveName": " ", "protectionGroupId": "g"}], "waves[0].waveName must not be empty"),
    ([{"waveName": "A"}], "waves[0].protectionGroupId is required"),
    ([{"waveName": "A", "protectionGroupId": 5}], "waves[0].protectionGroupId must be a string"),
    ([{"waveName": "A", "protectionGroupId": "g", "pauseBeforeWave": "yes"}], "waves[0].pauseBeforeWave must be a boolean"),
])
def test_plan_wave_checks(waves: Any, message: str) -> None:
    assert refusal(validation.validate_plan, {"planName": "P", "waves": waves}) == message


def test_execution_start_fields_and_initiator_default() -> None:
    assert validation.validate_execution_start({"planId": "p", "executionType": "DRILL"}, "a@b.c") == (
        "p", "DRILL", "a@b.c")
    assert validation.validate_execution_start({"planId": "p", "executionType": "RECOVERY"}, None)[2] == "unknown"
    assert refusal(validation.validate_execution_start, {"executionType": "DRILL"}, None) == "planId is required"
    assert refusal(validation.validate_execution_start, {"planId": "p"}, None) == "executionType is required"
    assert refusal(validation.validate_execution_start, {"planId": "p", "executionType": "drill"}, None) == (
        "executionType must be one of DRILL, RECOVERY")
    assert refusal(validation.validate_execution_start,
                   {"planId": "p", "executionType": "DRILL", "initiatedBy": 3}, None) == "initiatedBy must be a string"


@pytest.mark.parametrize("limit", ["0", "101", "abc", "1.5", "-1", ""])
def test_page_limit_bounds(limit: str) -> None:
    assert refusal(validation.page_request, {"limit": limit}) == "limit must be an integer between 1 and 100"


def test_page_defaults() -> None:
    assert validation.page_request({}) == (20, None)
    assert validation.page_request({"limit": "100", "nextToken": "e"}) == (100, "e")
