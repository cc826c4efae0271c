"""Failed AWS calls of any service are compared; opaque pagination tokens become stable references."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.normalise import normalise_timeline
from drs_parity.gate.regressions import check_regression
from tests.harness.compare.parity_samples import START, new_ids, timeline

POLL = 2  # the sample timeline's poll step


def call(service: str, operation: str, params: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    return {"function": "poller", "service": service, "operation": operation, "params": params, "error": error,
            "region": "us-east-1"}


def with_calls(side: str, *calls: dict[str, Any], ids: dict[str, str] | None = None) -> dict[str, Any]:
    data = timeline(side, ids)
    data["steps"][POLL]["calls"] += list(calls)
    return data


def divergences(left: dict[str, Any], right: dict[str, Any]) -> list[Any]:
    return diff_timelines(normalise_timeline(left, START), normalise_timeline(right, START))


def test_a_failed_dynamodb_query_is_a_divergence_even_when_the_other_side_queries_fine() -> None:
    monolith = with_calls("monolithic", call("dynamodb", "Query", {"IndexName": "planIdIndex"}))
    decomposed = with_calls("decomposed", call("dynamodb", "Query", {"IndexName": "PlanIdIndex"},
                                                "ValidationException"))
    [divergence] = divergences(monolith, decomposed)
    assert (divergence.kind, divergence.path, divergence.left_absent) == ("calls", "calls[dynamodb.Query]", True)
    assert divergence.right == [{"error": "ValidationException", "params": {"IndexName": "PlanIdIndex"},
                                 "region": "us-east-1"}]
    assert divergence.step_index == POLL


def test_successful_calls_of_other_services_stay_uncompared() -> None:
    left = with_calls("left", call("dynamodb", "Query", {"IndexName": "planIdIndex"}),
                      call("lambda", "Invoke", {"FunctionName": "poller"}))
    right = with_calls("right", call("dynamodb", "GetItem", {"Key": {"planId": "p"}}))
    assert divergences(left, right) == []
    assert "dynamodb.Query" not in normalise_timeline(left, START)["steps"][POLL]["calls"]


def test_a_failed_invoke_is_compared_as_its_own_record() -> None:
    denied = with_calls("right", call("lambda", "Invoke", {"FunctionName": "poller"}, "AccessDeniedException"))
    step = normalise_timeline(denied, START)["steps"][POLL]
    assert step["calls"]["lambda.Invoke"] == [{"error": "AccessDeniedException",
                                               "params": {"FunctionName": "poller"}, "region": "us-east-1"}]
    assert step["functions"]["calls"]["lambda.Invoke"] == [{"function": "poller"}]
    assert [d.path for d in divergences(timeline("left"), denied)] == ["calls[lambda.Invoke]"]


def test_a_failed_step_functions_call_is_compared_with_the_calls_even_beside_machines() -> None:
    # the other side may have no state machine, and then no stateMachines section is compared at all
    data = with_calls("left", call("sfn", "SendTaskSuccess", {"output": "{}"}, "TaskTimedOut"),
                      call("sfn", "StartExecution", {"input": "{}"}))
    for step in data["steps"]:
        step["stateMachines"] = {"WaveMachine": []}
    step = normalise_timeline(data, START)["steps"][POLL]
    assert "sfn.SendTaskSuccess" in step["calls"] and "sfn.SendTaskSuccess" not in step["stateMachines"]
    assert "sfn.StartExecution" in step["stateMachines"] and "sfn.StartExecution" not in step["calls"]


def describe_pages(tokens: list[str]) -> list[dict[str, Any]]:
    """DescribeInstances in pages, as the poller pages through moto (its NextToken: a random reservation id)."""
    return [call("ec2", "DescribeInstances", {"MaxResults": 5, **({"NextToken": token} if token else {})})
            for token in [None, *tokens]]


def paged(side: str, first_poll: list[str], second_poll: list[str]) -> dict[str, Any]:
    """Two polls paging through the same reservations (moto's tokens come back poll after poll)."""
    data = timeline(side)
    data["steps"][1]["calls"] += describe_pages(first_poll)
    data["steps"][POLL]["calls"] += describe_pages(second_poll)
    return data


def reservation() -> str:
    return f"r-{uuid.uuid4().hex[:17]}"


def test_ec2_next_tokens_become_token_references_numbered_alike_on_both_sides() -> None:
    left = with_calls("left", *describe_pages([reservation(), reservation()]))
    pages = normalise_timeline(left, START)["steps"][POLL]["calls"]["ec2.DescribeInstances"]
    assert sorted(filter(None, (page["params"].get("NextToken") for page in pages))) == ["<token:1>", "<token:2>"]
    assert divergences(left, with_calls("right", *describe_pages([reservation(), reservation()]))) == []
    longer = with_calls("right", *describe_pages([reservation(), reservation(), reservation()]))
    assert {d.path.split("]")[0] for d in divergences(left, longer)} == {"calls[ec2.DescribeInstances"}


def test_tokens_number_in_page_order_not_by_their_random_values() -> None:
    # the raw tokens sort in opposite orders on the two sides; the second poll sees the second page's token only
    left = paged("left", ["r-0bbbbbbbbbbbbbbbb", "r-0aaaaaaaaaaaaaaaa"], ["r-0aaaaaaaaaaaaaaaa"])
    right = paged("right", ["r-0aaaaaaaaaaaaaaaa", "r-0cccccccccccccccc"], ["r-0cccccccccccccccc"])
    assert divergences(left, right) == []
    second = normalise_timeline(left, START)["steps"][POLL]["calls"]["ec2.DescribeInstances"]
    assert [page["params"].get("NextToken") for page in second if "NextToken" in page["params"]] == ["<token:2>"]


def test_a_token_that_is_a_known_id_keeps_the_ids_reference() -> None:
    ids = new_ids()
    data = with_calls("left", call("drs", "DescribeJobs", {"NextToken": ids["job"]}),
                      call("drs", "DescribeJobs", {"nextToken": ids["execution"]}), ids=ids)
    tokens = sorted(str(page["params"]) for page in
                    normalise_timeline(data, START)["steps"][POLL]["calls"]["drs.DescribeJobs"])
    assert "{'NextToken': '<jobId:1>'}" in tokens and "{'nextToken': '<executionId:1>'}" in tokens


def test_a_token_repeated_in_a_response_body_gets_the_same_reference() -> None:
    token = "eyJwYWdlIjogMn0="
    data = with_calls("left", call("dynamodb", "Scan", {"TableName": "t", "ExclusiveStartKey": token}, "Throttled"))
    data["steps"][POLL]["api"][0]["body"]["cursor"] = token
    step = normalise_timeline(data, START)["steps"][POLL]
    assert step["calls"]["dynamodb.Scan"][0]["params"]["ExclusiveStartKey"] == "<token:1>"
    assert step["api"]["GET /executions/<executionId:1>"]["body"]["cursor"] == "<token:1>"


@pytest.mark.slow
def test_end_to_end_a_finder_whose_index_is_missing_shows_its_failed_query() -> None:
    # the catalogue's decomposed finder queries StatusIndex on a table without it; the monolith's query succeeds
    scenario = check_regression("status-index-missing").parity.scenarios[0]
    [query] = [d for d in scenario.divergences if d.path == "calls[dynamodb.Query]"]
    assert query.left_absent and {call["error"] for call in query.right} == {"ResourceNotFoundException"}
    assert {call["params"]["IndexName"] for call in query.right} == {"StatusIndex"}
