"""Normalisation: stable references across kinds, numbering, relative times, canonical numbers, keyed records."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal

import pytest

from drs_parity.compare.normalise import NormaliseOptions, canonical_number, normalise_timeline
from tests.harness.compare.parity_samples import SERVER_A, START, new_ids, timeline


def normalised(side: str = "left", **kwargs) -> dict:
    return normalise_timeline(timeline(side, **kwargs), START)


def test_two_runs_with_different_generated_ids_normalise_identically() -> None:
    first, second = normalised("x"), normalised("x")
    assert first["steps"] == second["steps"]


def test_execution_id_gets_one_reference_in_responses_tables_calls_and_logs() -> None:
    ids = new_ids()
    steps = normalise_timeline(timeline("m", ids), START)["steps"]
    start = steps[1]
    assert start["api"]["POST /executions"]["body"]["executionId"] == "<executionId:1>"
    assert "GET /executions/<executionId:1>" in start["api"]
    assert "<executionId:1>" in start["tables"]["execution-history"]
    tags = start["calls"]["drs.StartRecovery"][0]["params"]["tags"]
    assert tags == {"drs-orchestration:executionId": "<executionId:1>"}
    assert list(start["logs"]) == ["Started wave 0 for execution <executionId:1>: job <jobId:1>"]
    assert ids["execution"] not in json.dumps(steps)


def test_relations_survive_a_group_id_in_a_plan_wave_is_the_groups_reference() -> None:
    setup = normalised()["steps"][0]
    plan = setup["tables"]["recovery-plans"]["<planId:1>"]
    assert plan["waves"]["0"]["protectionGroupId"] == "<groupId:1>"
    assert "<groupId:1>" in setup["tables"]["protection-groups"]


def test_emulator_ids_ips_and_dns_names_become_references() -> None:
    server = normalised()["steps"][2]["tables"]["execution-history"]["<executionId:1>"]["waves"]["0"][
        "serverStatuses"][SERVER_A]
    assert (server["instanceId"], server["privateIp"], server["hostname"]) == ("<instanceId:1>", "<ip:1>", "<dns:1>")
    assert server["sourceServerId"] == SERVER_A  # fixture ids are stable: kept as they are


def test_references_are_numbered_by_first_appearance_in_step_order() -> None:
    data = timeline("m")
    other = str(__import__("uuid").uuid4())
    # A second execution id that first appears in the last step's API body gets number 2.
    data["steps"][2]["api"][0]["body"]["related"] = {"executionId": other}
    data["steps"][1]["logs"][0]["message"] += f" (see {other})"  # but free text earlier does not claim it
    steps = normalise_timeline(data, START)["steps"]
    assert steps[2]["api"]["GET /executions/<executionId:1>"]["body"]["related"] == {"executionId": "<executionId:2>"}
    assert any("(see <executionId:2>)" in message for message in steps[1]["logs"])


def test_a_uuid_is_named_by_its_field() -> None:
    data = timeline("m")
    data["steps"][2]["api"][0]["body"]["previousExecutionId"] = new_ids()["execution"]
    body = normalise_timeline(data, START)["steps"][2]["api"]["GET /executions/<executionId:1>"]["body"]
    assert body["previousExecutionId"] == "<previousExecutionId:1>"


def test_a_uuid_only_in_free_text_gets_a_uuid_reference() -> None:
    data = timeline("m")
    data["steps"][2]["logs"].append({"function": "poller", "level": "INFO", "message": f"token {new_ids()['plan']}"})
    logs = normalise_timeline(data, START)["steps"][2]["logs"]
    assert "token <uuid:1>" in logs


def test_names_cloudformation_generates_become_their_logical_id() -> None:
    data = timeline("m")
    denied = ("User: arn:aws:sts::123456789012:assumed-role/drs-parity-decomposed-two-wave-drill-"
              "ExecutionFinderRole-N29F9XTZ47V8/drs-orchestration-execution-finder-test is not authorized")
    data["steps"][2]["logs"].append({"function": "finder", "level": "ERROR", "message": denied})
    logs = normalise_timeline(data, START)["steps"][2]["logs"]
    assert ("User: arn:aws:sts::123456789012:assumed-role/<ExecutionFinderRole>/drs-orchestration-execution-"
            "finder-test is not authorized") in logs


def test_timestamps_in_the_window_are_relative_to_the_clock_start_and_iso_strings_too() -> None:
    data = timeline("m")
    data["steps"][2]["api"][0]["body"]["eventDateTime"] = "2026-01-15T10:02:30+00:00"
    data["steps"][2]["api"][0]["body"]["farFuture"] = START + 10 * 86400
    body = normalise_timeline(data, START)["steps"][2]["api"]["GET /executions/<executionId:1>"]["body"]
    assert (body["startTime"], body["lastPolledTime"], body["eventDateTime"]) == ("<t+10>", "<t+130>", "<t+150>")
    assert body["farFuture"] == START + 10 * 86400 and body["totalWaves"] == 2


def test_a_real_timing_difference_stays_visible() -> None:
    late = timeline("m")
    late["steps"][2]["tables"]["execution-history"][0]["lastPolledTime"] = START + 190
    item = normalise_timeline(late, START)["steps"][2]["tables"]["execution-history"]["<executionId:1>"]
    assert item["lastPolledTime"] == "<t+190>"


@pytest.mark.parametrize(("raw", "expected"), [(Decimal("1.0"), 1), (Decimal("2.50"), 2.5), (3.0, 3), (True, True),
                                               (Decimal("-0.125"), -0.125), ("1.0", "1.0")])
def test_dynamodb_numbers_are_canonical(raw: object, expected: object) -> None:
    result = canonical_number(raw)
    assert result == expected and type(result) is type(expected)


def test_decimal_and_int_items_normalise_the_same() -> None:
    assert normalised()["steps"][0]["tables"]["protection-groups"]["<groupId:1>"]["version"] == 1


def test_table_scan_order_is_irrelevant() -> None:
    ids = new_ids()
    data = timeline("m", ids)
    extra = copy.deepcopy(data["steps"][0]["tables"]["protection-groups"][0])
    extra.update(groupId=str(__import__("uuid").uuid4()), groupName="db")
    for step in data["steps"]:
        step["tables"]["protection-groups"].append(extra)
    shuffled = copy.deepcopy(data)
    for step in shuffled["steps"]:
        step["tables"]["protection-groups"].reverse()
    assert normalise_timeline(data, START) == normalise_timeline(shuffled, START)


def test_calls_and_logs_are_order_insensitive_per_step() -> None:
    data = timeline("m")
    shuffled = copy.deepcopy(data)
    for step in shuffled["steps"]:
        random.Random(7).shuffle(step["logs"])
        step["calls"].reverse()
    assert normalise_timeline(data, START)["steps"] == normalise_timeline(shuffled, START)["steps"]


def test_waves_keyed_by_wave_number_and_servers_by_source_server_id() -> None:
    item = normalised()["steps"][2]["tables"]["execution-history"]["<executionId:1>"]
    assert list(item["waves"]) == ["0", "1"]
    assert list(item["waves"]["0"]["serverStatuses"]) == [SERVER_A]


def test_only_drs_ec2_sts_calls_and_their_params_are_compared_by_default() -> None:
    step = normalised()["steps"][2]
    assert set(step["calls"]) == {"drs.DescribeJobs", "ec2.DescribeInstances"}
    assert step["calls"]["ec2.DescribeInstances"] == [{"region": "us-east-1", "params": {"InstanceIds": ["<instanceId:1>"]},
                                                   "error": None}]
    assert step["functions"]["calls"]["drs.DescribeJobs"] == [{"function": "poller"}]  # kept for display


def test_compared_kinds_and_services_are_configurable() -> None:
    options = NormaliseOptions(kinds=("tables", "calls"), call_services=("dynamodb",))
    step = normalise_timeline(timeline("m"), START, options)["steps"][2]
    assert "api" not in step and "logs" not in step
    assert set(step["calls"]) == {"dynamodb.Query"}


def test_log_lines_keep_level_message_and_execution_id_only() -> None:
    logs = normalised()["steps"][2]["logs"]
    assert logs["Polling execution: <executionId:1>"] == [{"level": "INFO", "executionId": "<executionId:1>"}]


def test_lists_of_generated_ids_are_ordered_by_reference_not_by_raw_value() -> None:
    data = timeline("m")
    first, second = "i-ffffffffffffffff0", "i-00000000000000001"  # raw order is the reverse of first appearance
    data["steps"][2]["api"][0]["body"]["instanceIds"] = [first, second]
    data["steps"][2]["calls"][1]["params"]["InstanceIds"] = sorted([first, second])
    step = normalise_timeline(data, START)["steps"][2]
    expected = ["<instanceId:2>", "<instanceId:3>"]  # <instanceId:1> is the enriched server's, seen earlier
    assert step["api"]["GET /executions/<executionId:1>"]["body"]["instanceIds"] == expected
    assert step["calls"]["ec2.DescribeInstances"][0]["params"]["InstanceIds"] == expected
