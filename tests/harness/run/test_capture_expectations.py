"""Capture helpers (plain DynamoDB values, records) and the expectation check over a captured timeline."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from drs_parity.run.capture import InvocationCapture, StepCapture, Timeline, plain_item
from drs_parity.run.driver import check_expectations
from drs_parity.fixtures.scenario import load_scenarios


def test_plain_item_turns_dynamodb_json_into_plain_python() -> None:
    item = plain_item({"executionId": {"S": "e-1"}, "startTime": {"N": "1768471200"}, "ratio": {"N": "0.5"},
                       "waves": {"L": [{"M": {"waveNumber": {"N": "0"}, "jobId": {"NULL": True}}}]},
                       "ids": {"SS": ["b", "a"]}, "paused": {"BOOL": False}})
    assert item == {"executionId": "e-1", "startTime": 1768471200, "ratio": 0.5,
                    "waves": [{"waveNumber": 0, "jobId": None}], "ids": ["a", "b"], "paused": False}
    assert type(item["startTime"]) is int and not any(isinstance(v, Decimal) for v in item.values())


def test_invocation_capture_names_functions_by_role_and_marks_console_reads() -> None:
    invocation = SimpleNamespace(
        function="drs-orchestration-execution-poller-test", trigger="event", error=None,
        calls=[{"service": "drs", "operation": "DescribeJobs", "params": {}, "error": None, "region": "us-east-1",
                "function": "drs-orchestration-execution-poller-test"}],
        logs=[{"level": "INFO", "message": "Polling execution: e-1", "executionId": "e-1"}])
    capture = InvocationCapture()
    capture.add([invocation], {"drs-orchestration-execution-poller-test": "poller"}.__getitem__, console=True)
    assert capture.invocations == [{"function": "poller", "trigger": "event", "error": None, "console": True}]
    assert capture.calls[0]["function"] == "poller" and capture.calls[0]["operation"] == "DescribeJobs"
    assert capture.logs == [{"function": "poller", "level": "INFO", "message": "Polling execution: e-1",
                             "executionId": "e-1", "console": True}]


def timeline_with(item: dict | None, until: dict | None = None) -> Timeline:
    tables = {"execution-history": [item] if item else []}
    steps = [StepCapture(index=1, name="until COMPLETED", kind="until", time=1, tables=tables, until=until)]
    return Timeline(side="monolithic", scenario="drill-launch-failure", backend="moto", steps=steps,
                    current_execution="e-1" if item else None)


def wave(status: str, *servers: tuple[str, str]) -> dict:
    return {"waveName": "W", "status": status,
            "serverStatuses": [{"sourceServerId": sid, "launchStatus": launch} for sid, launch in servers]}


SCENARIO = load_scenarios(["drill-launch-failure"])[0]
FAILED_SERVER = "s-03000000000000002"


def test_expectations_met_gives_no_problems() -> None:
    item = {"executionId": "e-1", "status": "FAILED",
            "waves": [wave("COMPLETED"), wave("FAILED", (FAILED_SERVER, "FAILED")), wave("CANCELLED")]}
    timeline = timeline_with(item, {"outcome": "met", "at": 1, "waited": 600, "status": "FAILED"})
    assert check_expectations(SCENARIO, timeline) == []
    json.dumps(timeline.to_dict())  # JSON-serialisable as promised


def test_each_unmet_expectation_is_reported() -> None:
    item = {"executionId": "e-1", "status": "POLLING",
            "waves": [wave("COMPLETED"), wave("LAUNCHING", (FAILED_SERVER, "IN_PROGRESS")), wave("PENDING")]}
    timeline = timeline_with(item, {"outcome": "unmet", "at": None, "waited": 1800, "status": "POLLING"})
    problems = check_expectations(SCENARIO, timeline)
    assert problems == [
        "step 1 (until COMPLETED): not met after 30m, status POLLING",
        "execution status is POLLING, expected FAILED",
        "wave 1 (W) is LAUNCHING, expected FAILED",
        "wave 2 (W) is PENDING, expected CANCELLED",
        f"server {FAILED_SERVER} launchStatus is IN_PROGRESS, expected FAILED",
    ]


@pytest.mark.parametrize("item, problem", [
    (None, "no execution was started"),
    ({"executionId": "e-1", "status": "FAILED", "waves": [wave("COMPLETED")]}, "the execution has 1 waves, expected 3"),
])
def test_missing_execution_or_waves_are_problems(item: dict | None, problem: str) -> None:
    assert problem in " | ".join(check_expectations(SCENARIO, timeline_with(item)))


def test_in_process_table_read_equals_a_scan_through_the_api() -> None:
    import boto3
    from moto import mock_aws

    from drs_parity.run.capture import scan_tables

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="history", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "executionId", "AttributeType": "S"},
                                  {"AttributeName": "planId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "executionId", "KeyType": "HASH"},
                       {"AttributeName": "planId", "KeyType": "RANGE"}])
        for execution, plan in (("e-2", "p-1"), ("e-1", "p-2"), ("e-1", "p-1")):
            dynamodb.put_item(TableName="history", Item={
                "executionId": {"S": execution}, "planId": {"S": plan}, "startTime": {"N": "1768471200"},
                "waves": {"L": [{"M": {"status": {"S": "PENDING"}, "jobId": {"NULL": True}}}]}})
        through_api = scan_tables(dynamodb, {"execution-history": "history"})
        direct = scan_tables(dynamodb, {"execution-history": "history"}, in_process=("123456789012", "us-east-1"))
    assert direct == through_api
    assert [(i["executionId"], i["planId"]) for i in direct["execution-history"]] == [
        ("e-1", "p-1"), ("e-1", "p-2"), ("e-2", "p-1")]
