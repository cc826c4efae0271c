"""Validation rules of the decomposed data-management function and the shared field checks."""

import pytest

from tests.reference.code_packages import decomposed

rules = decomposed("DataManagementFunction", "rules")
ApiError = decomposed("DataManagementFunction", "shared.errors").ApiError
ValidationError = decomposed("DataManagementFunction", "shared.errors").ValidationError
execution_rules = decomposed("ExecutionHandlerFunction", "rules")
# the execution handler's own copy of the shared layer: its ValidationError is another class than the above
ExecutionValidationError = decomposed("ExecutionHandlerFunction", "shared.errors").ValidationError

ACCOUNT = "123456789012"
IDS = ["s-00000000000000001", "s-00000000000000002"]


def group(**overrides):
    body = {"groupName": "  App tier ", "region": "us-east-1", "sourceServerIds": list(IDS)}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def message(call, *args, error=ValidationError):
    with pytest.raises(error) as caught:
        call(*args)
    return caught.value.message


def test_valid_group_is_normalised_with_defaults():
    assert rules.validate_group(group(), ACCOUNT) == {
        "groupName": "App tier", "description": "", "region": "us-east-1", "accountId": ACCOUNT,
        "sourceServerIds": IDS,
    }


@pytest.mark.parametrize("overrides, expected", [
    ({"groupName": ...}, "groupName is required"),
    ({"groupName": None}, "groupName is required"),
    ({"groupName": 5}, "groupName must be a string"),
    ({"groupName": "   "}, "groupName must not be empty"),
    ({"groupName": "x" * 129}, "groupName must be at most 128 characters"),
    ({"description": 3}, "description must be a string"),
    ({"description": "d" * 1025}, "description must be at most 1024 characters"),
    ({"region": ...}, "region is required"),
    ({"region": "useast1"}, "region must be a valid AWS region"),
    ({"accountId": "12345"}, "accountId must be a 12-digit AWS account id"),
    ({"accountId": 123456789012}, "accountId must be a string"),
    ({"sourceServerIds": ...}, "sourceServerIds or serverSelectionTags is required"),
    ({"serverSelectionTags": {"a": "b"}}, "sourceServerIds and serverSelectionTags are mutually exclusive"),
    ({"sourceServerIds": []}, "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": "s-00000000000000001"}, "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": [f"s-{n:017x}" for n in range(201)]},
     "sourceServerIds must be a list of 1 to 200 source server ids"),
    ({"sourceServerIds": [IDS[0], "s-XYZ", "bad"]}, "sourceServerIds contains an invalid id: s-XYZ"),
    ({"sourceServerIds": [IDS[0], IDS[0]]}, "sourceServerIds contains duplicates"),
    ({"sourceServerIds": ..., "serverSelectionTags": {}},
     "serverSelectionTags must be a non-empty object of string values"),
    ({"sourceServerIds": ..., "serverSelectionTags": {"Tier": 1}},
     "serverSelectionTags must be a non-empty object of string values"),
])
def test_group_field_messages_in_contract_order(overrides, expected):
    assert message(rules.validate_group, group(**overrides), ACCOUNT) == expected


def test_group_update_merge_switches_server_selection():
    stored = {"groupId": "g", "groupName": "A", "description": "", "region": "us-east-1", "accountId": ACCOUNT,
              "sourceServerIds": IDS, "createdDate": 1, "version": 1}
    merged = rules.merge_group_update(stored, {"serverSelectionTags": {"Tier": "web"}, "groupId": "other"})
    assert merged["sourceServerIds"] is None and merged["serverSelectionTags"] == {"Tier": "web"}
    assert "groupId" not in merged and "createdDate" not in merged
    assert "sourceServerIds" not in rules.validate_group(merged, ACCOUNT)


@pytest.mark.parametrize("waves, expected", [
    (None, "waves is required"),
    ({"waveName": "w"}, "waves must be a list of 1 to 20 waves"),
    ([], "waves must be a list of 1 to 20 waves"),
    ([{"waveName": "w", "protectionGroupId": "g"}] * 21, "waves must be a list of 1 to 20 waves"),
    ([{"waveName": "w", "protectionGroupId": "g"}, "x"], "waves[1] must be an object"),
    ([{"protectionGroupId": "g"}], "waves[0].waveName is required"),
    ([{"waveName": " ", "protectionGroupId": "g"}], "waves[0].waveName must not be empty"),
    ([{"waveName": "w"}], "waves[0].protectionGroupId is required"),
    ([{"waveName": "w", "protectionGroupId": 7}], "waves[0].protectionGroupId must be a string"),
    ([{"waveName": "w", "protectionGroupId": "g", "pauseBeforeWave": "yes"}],
     "waves[0].pauseBeforeWave must be a boolean"),
])
def test_plan_wave_messages(waves, expected):
    assert message(rules.validate_plan, {"planName": "P", "waves": waves}) == expected


def test_plan_waves_are_numbered_by_position_ignoring_input():
    plan = rules.validate_plan({"planName": " P ", "waves": [
        {"waveName": "a", "protectionGroupId": "g1", "waveNumber": 7},
        {"waveName": "b", "protectionGroupId": "g2", "pauseBeforeWave": True}]})
    assert plan["planName"] == "P"
    assert [(w["waveNumber"], w["pauseBeforeWave"]) for w in plan["waves"]] == [(0, False), (1, True)]


def test_duplicate_names_are_case_insensitive_and_ignore_self():
    existing = [{"groupId": "g1", "groupName": "App Tier"}]
    with pytest.raises(ApiError) as caught:
        rules.ensure_unique_name(existing, "groupName", "groupId", "app tier", None, "protection group")
    assert (caught.value.status, caught.value.code) == (409, "DUPLICATE_NAME")
    assert caught.value.message == "A protection group named app tier already exists"
    rules.ensure_unique_name(existing, "groupName", "groupId", "app tier", "g1", "protection group")


def test_version_mismatch_is_a_conflict():
    with pytest.raises(ApiError) as caught:
        rules.ensure_version(1, 2)
    assert caught.value.message == "Version 1 does not match current version 2"


@pytest.mark.parametrize("value, expected", [
    (None, "executionType is required"), ("drill", "executionType must be one of DRILL, RECOVERY"),
    (1, "executionType must be one of DRILL, RECOVERY")])
def test_execution_type(value, expected):
    assert message(execution_rules.execution_type, value, error=ExecutionValidationError) == expected


@pytest.mark.parametrize("value", ["0", "101", "abc", "-1", "1.5", ""])
def test_page_size_rejects_out_of_range(value):
    assert message(execution_rules.page_size, value, error=ExecutionValidationError) == \
        "limit must be an integer between 1 and 100"
