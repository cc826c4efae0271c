"""The diff: differences planted in synthetic timelines come out with exact path, values, first step, persistence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drs_parity.compare.diff import diff_timelines, level_differences, raw_differences, readable_path
from drs_parity.compare.divergence import Divergence
from drs_parity.compare.normalise import CONTRACT_LIST_KEYS, normalise_timeline
from tests.harness.compare.parity_samples import SERVER_A, START, timeline

SERVER_NAME_PATH = f"tables.execution-history[<executionId:1>].waves[0].serverStatuses[{SERVER_A}].serverName"


def diverge(left: dict[str, Any], right: dict[str, Any]) -> list[Divergence]:
    return diff_timelines(normalise_timeline(left, START), normalise_timeline(right, START))


def by_path(divergences: list[Divergence]) -> dict[str, Divergence]:
    return {d.path: d for d in divergences}


def test_alike_sides_have_no_divergence() -> None:
    assert diverge(timeline("monolithic"), timeline("decomposed")) == []


def test_a_missing_server_name_is_reported_in_table_and_api_with_its_first_step() -> None:
    found = by_path(diverge(timeline("monolithic"), timeline("decomposed", server_name=None)))
    table = found[SERVER_NAME_PATH]
    assert (table.kind, table.left, table.right, table.step_index, table.step_name) == (
        "tables", "web-01", None, 2, "advance 2m")
    api_path = f"api[GET /executions/<executionId:1>].body.waves[0].serverStatuses[{SERVER_A}].serverName"
    assert (found[api_path].kind, found[api_path].left, found[api_path].right) == ("api", "web-01", None)
    assert set(found) == {SERVER_NAME_PATH, api_path}


def test_a_persisting_difference_is_reported_once_with_its_first_step_and_count() -> None:
    right = timeline("decomposed")
    for step in right["steps"]:
        step["tables"]["protection-groups"][0]["groupName"] = "web-renamed"
    found = [d for d in diverge(timeline("monolithic"), right) if d.kind == "tables"]
    assert [(d.path, d.left, d.right, d.step_index, d.steps) for d in found] == [
        ("tables.protection-groups[<groupId:1>].groupName", "web", "web-renamed", 0, 3)]


def test_a_different_final_status() -> None:
    found = by_path(diverge(timeline("monolithic"), timeline("decomposed", final_status="POLLING")))
    status = found["tables.execution-history[<executionId:1>].status"]
    assert (status.left, status.right, status.step_index) == ("COMPLETED", "POLLING", 2)


def test_a_missing_outbound_call() -> None:
    right = timeline("decomposed")
    right["steps"][2]["calls"] = [c for c in right["steps"][2]["calls"] if c["operation"] != "DescribeInstances"]
    [divergence] = diverge(timeline("monolithic"), right)
    assert (divergence.kind, divergence.path, divergence.step_index) == ("calls", "calls[ec2.DescribeInstances]", 2)
    assert divergence.left == [{"region": "us-east-1", "params": {"InstanceIds": ["<instanceId:1>"]}, "error": None}]
    assert divergence.right_absent and divergence.right is None


def test_a_call_to_another_region_is_a_divergence() -> None:
    right = timeline("decomposed")
    describe_jobs = next(c for c in right["steps"][2]["calls"] if c["operation"] == "DescribeJobs")
    describe_jobs["region"] = "us-west-2"
    [divergence] = diverge(timeline("monolithic"), right)
    assert (divergence.kind, divergence.step_index) == ("calls", 2)
    assert divergence.path.startswith("calls[drs.DescribeJobs]")
    assert "us-east-1" in str(divergence.left) and "us-west-2" in str(divergence.right)


def test_a_changed_call_parameter_has_a_precise_path() -> None:
    right = timeline("decomposed")
    right["steps"][1]["calls"][0]["params"]["isDrill"] = False
    [divergence] = diverge(timeline("monolithic"), right)
    assert (divergence.path, divergence.left, divergence.right) == (
        "calls[drs.StartRecovery][0].params.isDrill", True, False)


def test_a_call_made_twice_instead_of_once_is_a_repetition() -> None:
    right = timeline("decomposed")
    right["steps"][2]["calls"].append(dict(right["steps"][2]["calls"][0]))
    [divergence] = diverge(timeline("monolithic"), right)
    assert divergence.path == "calls[drs.DescribeJobs]"
    assert (len(divergence.left), len(divergence.right)) == (1, 2)


def test_internal_plumbing_calls_are_not_compared() -> None:
    right = timeline("decomposed")
    right["steps"][2]["calls"].append({"function": "finder", "service": "lambda", "operation": "Invoke",
                                       "params": {"FunctionName": "poller"}, "error": None})
    assert diverge(timeline("monolithic"), right) == []


def test_a_changed_log_line_and_a_changed_level() -> None:
    right = timeline("decomposed")
    right["steps"][2]["logs"][2]["message"] = right["steps"][2]["logs"][2]["message"].replace("2 waves", "1 waves")
    right["steps"][2]["logs"][0]["level"] = "WARNING"
    found = by_path(diverge(timeline("monolithic"), right))
    assert found["logs[Updated 2 waves for execution <executionId:1>]"].right_absent
    assert found["logs[Updated 1 waves for execution <executionId:1>]"].left_absent
    level = found["logs[Found 1 executions in POLLING status][0].level"]
    assert (level.left, level.right, level.step_index) == ("INFO", "WARNING", 2)


def test_the_function_attribution_is_not_compared() -> None:
    right = timeline("decomposed")
    for step in right["steps"]:
        for record in step["calls"] + step["logs"]:
            record["function"] = "api"
    assert diverge(timeline("monolithic"), right) == []


def test_a_side_with_fewer_steps_is_a_divergence() -> None:
    right = timeline("decomposed")
    del right["steps"][2]
    [divergence] = diverge(timeline("monolithic"), right)
    assert (divergence.kind, divergence.path, divergence.left, divergence.right) == ("steps", "steps", 3, 2)
    assert (divergence.step_index, divergence.step_name) == (2, "advance 2m")


def test_readable_paths_bracket_record_keys_and_dot_field_names() -> None:
    assert readable_path("tables", ["execution-history", "<executionId:1>", "waves", "1", "status"]) == \
        "tables.execution-history[<executionId:1>].waves[1].status"
    assert readable_path("api", ["GET /health", "body", "items", 3, "name"]) == "api[GET /health].body.items[3].name"


def _one_step(kind: str, content: Any) -> dict[str, Any]:
    return {"scenario": "s", "steps": [{"index": 0, "name": "setup", kind: content}]}


def test_equal_subtrees_are_skipped_but_values_equal_only_by_python_still_differ() -> None:
    # 1 == 1.0 == True in Python; the diff must still report them as deepdiff does (a type change)
    left = _one_step("tables", {"t": {"k": {"a": 1, "b": {"c": [1, 2]}, "same": {"x": "y"}}}})
    right = _one_step("tables", {"t": {"k": {"a": 1.0, "b": {"c": [1, True]}, "same": {"x": "y"}}}})
    paths = {d.path: (d.left, d.right) for d in diff_timelines(left, right)}
    assert paths == {"tables.t[k].a": (1, 1.0), "tables.t[k].b.c[1]": (2, True)}


def test_a_key_on_one_side_only_is_absent_on_the_other_with_its_value() -> None:
    left = _one_step("api", {"GET /x": {"status": 200, "body": {"only": {"n": 1}}}})
    right = _one_step("api", {"GET /x": {"status": 200, "body": {}}})
    [divergence] = diff_timelines(left, right)
    assert (divergence.path, divergence.left, divergence.right) == ("api[GET /x].body.only", {"n": 1}, None)
    assert divergence.right_absent and not divergence.left_absent


def test_identical_multisets_in_another_order_have_no_divergence() -> None:
    left = _one_step("logs", {"m": [{"level": "INFO"}, {"level": "ERROR"}]})
    right = _one_step("logs", {"m": [{"level": "ERROR"}, {"level": "INFO"}]})
    assert diff_timelines(left, right) == []


def test_a_mapping_whose_keys_mostly_changed_is_one_change_as_deepdiff_reports_it() -> None:
    left = _one_step("tables", {"t": {"k": {"servers": {"s1": {"x": 1}, "s2": {"x": 2}}, "n": 1}}})
    right = _one_step("tables", {"t": {"k": {"servers": {}, "n": 1}}})
    [divergence] = diff_timelines(left, right)
    assert (divergence.path, divergence.left, divergence.right) == (
        "tables.t[k].servers", {"s1": {"x": 1}, "s2": {"x": 2}}, {})


SNAPSHOTS = Path(__file__).resolve().parents[2] / "e2e" / "__snapshots__" / "test_parity_moto"


def _snapshot_steps(name: str) -> list[dict[str, Any]]:
    return json.loads((SNAPSHOTS / name).read_text(encoding="utf-8"))["steps"]


def test_key_by_key_diff_finds_exactly_what_one_deepdiff_of_the_whole_kind_finds() -> None:
    # real normalised timelines of different scenarios: many differences of every shape, at every depth (a scale
    # scenario's snapshot is a compact digest, not a timeline: tests/e2e/test_parity_moto.py)
    names = sorted(path.name for path in SNAPSHOTS.glob("*-monolithic*.json")
                   if "steps" in json.loads(path.read_text(encoding="utf-8")))
    pairs = list(zip(names, names[1:] + names[:1]))
    compared = 0
    for left_name, right_name in pairs:
        for left_step, right_step in zip(_snapshot_steps(left_name), _snapshot_steps(right_name)):
            for kind in ("api", "tables"):
                left, right = left_step.get(kind, {}), right_step.get(kind, {})
                whole = level_differences(kind, [], left, right, False, CONTRACT_LIST_KEYS)
                assert sorted(raw_differences(kind, left, right, CONTRACT_LIST_KEYS), key=repr) == \
                    sorted(whole, key=repr), (left_name, right_name, left_step.get("name"), kind)
                compared += len(whole)
    assert compared > 100
