"""The monolith's inline polling on a moto World: batching per poll, DRS errors, timeout, finder cadence logs."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from drs_parity.fixtures.system import load_system
from drs_parity.world.world import World
from tests.reference.bench_module import bench


FUNCTION = "drs-orchestration-api-handler-test"
AWS_CALLS = ("drs:", "ec2:", "sts:")


def drs_and_ec2(counts: dict[str, int]) -> dict[str, int]:
    return {operation: count for operation, count in counts.items() if operation.startswith(AWS_CALLS)}


def describe_instances_requests(measure: Any) -> list[list[str]]:
    """The instance-id chunks asked for (a NextToken page of the same chunk is the same request)."""
    chunks: list[list[str]] = []
    for params in measure.params.get("ec2:DescribeInstances", []):
        if not params.get("NextToken"):
            chunks.append(params["InstanceIds"])
    return chunks


def test_one_poll_of_200_launched_servers_is_three_bulk_requests() -> None:
    measure = bench.measure_poll("monolithic", 200)
    calls = drs_and_ec2(measure.calls)
    assert (calls["drs:DescribeJobs"], calls["drs:DescribeSourceServers"]) == (1, 1)
    assert [len(chunk) for chunk in describe_instances_requests(measure)] == [200]
    # moto pages DescribeInstances by 100 reservations even with InstanceIds (AWS answers them in one page)
    assert calls["ec2:DescribeInstances"] == 2
    assert set(calls) == {"drs:DescribeJobs", "drs:DescribeSourceServers", "ec2:DescribeInstances"}
    assert measure.enriched == 200
    assert measure.calls["dynamodb:UpdateItem"] == 1


@pytest.mark.slow  # ~45 s: the emulator's EC2 launcher starts the 1,000 recovery instances one by one
def test_one_poll_of_1000_launched_servers_chunks_source_servers_by_200() -> None:
    measure = bench.measure_poll("monolithic", 1000)
    calls = drs_and_ec2(measure.calls)
    assert (calls["drs:DescribeJobs"], calls["drs:DescribeSourceServers"]) == (1, 5)
    assert [len(params["filters"]["sourceServerIDs"]) for params in measure.params["drs:DescribeSourceServers"]] == [
        200] * 5
    assert [len(chunk) for chunk in describe_instances_requests(measure)] == [1000]
    assert measure.enriched == 1000


# -- one execution driven tick by tick ----------------------------------------------------------------------------------
class Run:
    """A deployed monolith with one started two-wave execution; ticks run the worker like the schedule does."""

    def __init__(self, world: World, faults: list[dict[str, Any]]) -> None:
        self.world = world
        self.bench = bench.Bench(world, load_system("monolithic"))
        servers = bench.source_servers(2)
        world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, servers, faults)
        ids = [server["sourceServerId"] for server in servers]
        group = self.bench.api("POST", "/protection-groups", {"groupName": "G", "region": bench.REGION,
                                                               "sourceServerIds": ids})
        plan = self.bench.api("POST", "/recovery-plans", {"planName": "P", "waves": [
            {"waveName": "A", "protectionGroupId": group["groupId"]},
            {"waveName": "B", "protectionGroupId": group["groupId"]}]})
        self.execution_id = self.bench.api("POST", "/executions", {"planId": plan["planId"],
                                                                   "executionType": "RECOVERY"})["executionId"]

    def tick(self, seconds: int = 60) -> Any:
        self.world.clock.advance(seconds)
        return self.world.host.invoke(FUNCTION, {"worker": "find-executions"})

    def details(self) -> dict[str, Any]:
        return self.bench.api("GET", f"/executions/{self.execution_id}")


@pytest.fixture
def world() -> Iterator[World]:
    with World(backend="moto", region=bench.REGION, account_id=bench.ACCOUNT_ID) as started:
        yield started


def lines(invocation: Any) -> list[tuple[str, str]]:
    return [(line["level"], line["message"]) for line in invocation.logs]


def test_a_drs_error_is_logged_and_only_last_polled_time_is_written(world: World) -> None:
    run = Run(world, [{"operation": "DescribeJobs", "error": "AccessDeniedException", "count": 1}])
    before = run.details()
    invocation = run.tick()
    execution_id = run.execution_id
    assert lines(invocation) == [
        ("INFO", "Found 1 executions in POLLING status"),
        ("INFO", f"Invoking poller for execution {execution_id}"),
        ("INFO", f"Polling execution: {execution_id}"),
        ("ERROR", "Error querying DRS: AccessDeniedException: User is not authorized to perform this action"),
    ]
    assert all(line.get("executionId") == execution_id for line in invocation.logs[1:])
    after = run.details()
    assert after["lastPolledTime"] == world.clock.now_int()
    assert after["waves"] == before["waves"] and after["status"] == "POLLING"
    recovered = run.tick(120)
    assert ("INFO", f"Updated 2 waves for execution {execution_id}") in lines(recovered)
    assert run.details()["waves"][0]["status"] == "COMPLETED"  # servers launched at +90 s, the job ended at +120 s


def test_finder_skips_executions_polled_recently(world: World) -> None:
    run = Run(world, [])
    run.tick()  # the job started at +30 s: the wave is LAUNCHING, polled every 60 s
    skipped = run.tick(40)
    assert lines(skipped) == [
        ("INFO", "Found 1 executions in POLLING status"),
        ("INFO", f"Skipping execution {run.execution_id}: polled 40s ago, interval 60s"),
    ]
    assert skipped.calls and all(call["service"] == "dynamodb" for call in skipped.calls)


def test_timeout_cancels_unfinished_waves_without_calling_drs(world: World) -> None:
    run = Run(world, [])
    world.host.functions[FUNCTION].environment["EXECUTION_TIMEOUT_SECONDS"] = "90"
    invocation = run.tick(90)
    execution_id = run.execution_id
    assert lines(invocation)[-3:] == [
        ("INFO", f"Updated 2 waves for execution {execution_id}"),
        ("INFO", f"Execution {execution_id} status POLLING -> TIMEOUT"),
        ("INFO", f"Execution {execution_id} timed out"),
    ]
    assert not [call for call in invocation.calls if call["service"] in {"drs", "ec2"}]
    details = run.details()
    assert (details["status"], details["errorMessage"]) == ("TIMEOUT", "Execution exceeded 90 seconds")
    assert [(w["status"], w["statusMessage"]) for w in details["waves"]] == [("CANCELLED", "Execution timed out")] * 2


def test_a_cancelled_execution_is_finished_by_the_next_polls(world: World) -> None:
    run = Run(world, [])
    cancel = run.bench.api("POST", f"/executions/{run.execution_id}/cancel")
    assert cancel["status"] == "CANCELLING"
    invocation = run.tick()
    assert ("INFO", "Found 0 executions in POLLING status") in lines(invocation)
    assert ("INFO", "Found 1 executions in CANCELLING status") in lines(invocation)
    for _ in range(5):
        run.tick()
    details = run.details()
    assert details["status"] == "CANCELLED"
    assert [w["status"] for w in details["waves"]] == ["COMPLETED", "CANCELLED"]
