"""The botocore-shape walker that checks DRS requests and responses."""

from __future__ import annotations

from drs_parity.world.drs.validation import drs_service_model, validate


def shape(name: str):  # type: ignore[no-untyped-def]
    return drs_service_model().shape_for(name)


def names(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.name for p in problems]


def test_valid_request_has_no_problems() -> None:
    request = {"sourceServers": [{"sourceServerID": "s-1234567890abcdef0"}], "isDrill": True, "tags": {"a": "b"}}
    assert validate(shape("StartRecoveryRequest"), request) == []


def test_required_member_missing() -> None:
    assert names(validate(shape("StartRecoveryRequest"), {"isDrill": True})) == ["sourceServers"]


def test_list_length_limits_both_ways() -> None:
    assert names(validate(shape("StartRecoveryRequest"), {"sourceServers": []})) == ["sourceServers"]
    too_many = {"filters": {"sourceServerIDs": [f"s-{n:017x}" for n in range(201)]}}
    problems = validate(shape("DescribeSourceServersRequest"), too_many)
    assert names(problems) == ["filters.sourceServerIDs"] and "at most 200" in problems[0].message


def test_pattern_is_matched_on_the_whole_value() -> None:
    bad = {"filters": {"sourceServerIDs": ["s-1234567890abcdef0", "x-1234567890abcdef0"]}}
    assert names(validate(shape("DescribeSourceServersRequest"), bad)) == ["filters.sourceServerIDs[1]"]
    assert names(validate(shape("TerminateRecoveryInstancesRequest"), {"recoveryInstanceIDs": ["xi-12345678"]}))


def test_enum_checked_in_nested_output() -> None:
    job = {"jobID": "drsjob-1234567890abcdef0", "status": "RUNNING",
           "participatingServers": [{"sourceServerID": "s-1234567890abcdef0", "launchStatus": "DONE"}]}
    problems = validate(shape("DescribeJobsResponse"), {"items": [job]})
    assert names(problems) == ["items[0].status", "items[0].participatingServers[0].launchStatus"]
    assert "PENDING, STARTED, COMPLETED" in problems[0].message


def test_integer_range_and_types() -> None:
    assert names(validate(shape("DescribeJobsRequest"), {"maxResults": 0})) == ["maxResults"]
    assert names(validate(shape("DescribeJobsRequest"), {"maxResults": True})) == ["maxResults"]
    assert names(validate(shape("StartRecoveryRequest"),
                          {"sourceServers": [{"sourceServerID": "s-1234567890abcdef0"}], "isDrill": 1})) == ["isDrill"]


def test_unknown_member_and_date_format() -> None:
    assert names(validate(shape("DescribeJobsRequest"), {"filter": {}})) == ["filter"]
    bad_date = {"filters": {"fromDate": "2026-01-15 10:00:00"}}
    assert names(validate(shape("DescribeJobsRequest"), bad_date)) == ["filters.fromDate"]
    good_date = {"filters": {"fromDate": "2026-01-15T10:00:00Z"}}
    assert validate(shape("DescribeJobsRequest"), good_date) == []


def test_map_keys_and_values_are_checked() -> None:
    long_value = {"sourceServers": [{"sourceServerID": "s-1234567890abcdef0"}], "tags": {"k": "v" * 257}}
    assert names(validate(shape("StartRecoveryRequest"), long_value)) == ["tags['k']"]
