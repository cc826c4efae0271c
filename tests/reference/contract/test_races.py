"""No lost or doubled work on both reference systems (CONTRACT.md "Items": version; "Starting a wave": claim):
racing writers interleaved at the exact call between one writer's read and its write."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from boto3.dynamodb.types import TypeDeserializer

from drs_parity.fixtures.system import load_system
from drs_parity.world import botohooks
from drs_parity.world.world import World
from tests.reference.bench_module import bench


SYSTEMS = ("monolithic", "decomposed")
FAST = 60  # seconds a wave-0 server takes to launch
SLOW = 900  # seconds a wave-1 server takes: its wave stays LAUNCHING for a while


class Drill:
    """One reference system on moto with a two-wave execution of one server a wave; nothing polls unless asked."""

    def __init__(self, world: World, system_name: str) -> None:
        self.world = world
        self.system_name = system_name
        self.side = bench.Bench(world, load_system(system_name))
        servers = bench.source_servers(2)
        servers[0]["launch"]["seconds"], servers[1]["launch"]["seconds"] = FAST, SLOW
        world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, servers, [])
        groups = [self.side.api("POST", "/protection-groups", {
            "groupName": f"G{index}", "region": bench.REGION, "sourceServerIds": [server["sourceServerId"]]})
            for index, server in enumerate(servers)]
        self.plan = self.side.api("POST", "/recovery-plans", {"planName": "Two waves", "waves": [
            {"waveName": f"w{index}", "protectionGroupId": group["groupId"]} for index, group in enumerate(groups)]})
        self.execution_id = ""

    def function(self, logical_id: str) -> str:
        return self.side.stack.resources[logical_id]

    def api(self, method: str, path: str) -> Any:
        function = self.function(self.side.system.route(path, method))
        return self.world.host.api_request(function, method, path)

    def start(self) -> None:
        answer = self.side.api("POST", "/executions", {"planId": self.plan["planId"], "executionType": "DRILL"})
        self.execution_id = answer["executionId"]
        self.world.host.drain()

    def start_worker(self) -> Any:
        """The start worker's event, delivered (again)."""
        handler = "ApiHandlerFunction" if self.system_name == "monolithic" else "ExecutionHandlerFunction"
        return self.world.host.invoke(self.function(handler), {
            "worker": "start-execution", "executionId": self.execution_id, "planId": self.plan["planId"]})

    def poll(self) -> Any:
        """One poll of the execution: the monolith's finder polls it inline, the decomposed poller directly."""
        if self.system_name == "monolithic":
            return self.world.host.invoke(self.function("ApiHandlerFunction"), {"worker": "find-executions"})
        return self.world.host.invoke(self.function("ExecutionPollerFunction"), {
            "executionId": self.execution_id, "planId": self.plan["planId"], "executionType": "DRILL",
            "startTime": 0})

    def item(self) -> dict[str, Any]:
        """The execution item as stored (server items left out)."""
        dynamodb = self.world.client("dynamodb")
        items = dynamodb.query(TableName=self.side.table("execution-history"), KeyConditionExpression="executionId = :e",
                               ExpressionAttributeValues={":e": {"S": self.execution_id}})["Items"]
        deserializer = TypeDeserializer()
        return {key: deserializer.deserialize(value) for key, value in items[0].items()}

    def starts(self) -> list[dict[str, Any]]:
        """Every StartRecovery any function made, with its tags."""
        return [call["params"] for invocation in self.world.host.invocations for call in invocation.calls
                if call["operation"] == "StartRecovery"]


@pytest.fixture(params=SYSTEMS)
def drill(request: pytest.FixtureRequest) -> Iterator[Drill]:
    with World(backend="moto", region=bench.REGION, account_id=bench.ACCOUNT_ID) as world:
        yield Drill(world, request.param)


def before_first(operation: str, action: Callable[[], Any]) -> tuple[list[Any], Callable[[], None]]:
    """Run `action` once, just before the first `operation` call (e.g. "dynamodb.UpdateItem") any function makes
    from now on; returns what it returned (a list, filled then) and the unregister function."""
    service, _, name = operation.partition(".")
    done: list[Any] = []

    def interleave(event_name: str, **_: Any) -> None:
        if event_name.endswith(f".{name}") and not done:
            done.append(None)  # set first: the action's own calls must not run it again
            done[0] = action()

    return done, botohooks.register("before-call", interleave, service=service)


def interleaved(drill: Drill, operation: str, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """`first` runs, and `second` runs whole just before `first`'s first `operation` call."""
    nested, unregister = before_first(operation, second)
    try:
        outer = first()
    finally:
        unregister()
    assert nested, f"{operation} was never called"
    return outer, nested[0]


def messages(invocation: Any) -> list[str]:
    return [line["message"] for line in invocation.logs]


def at_the_wave_boundary(drill: Drill) -> None:
    """Wave 0 started and its job over in DRS: the next poll completes it and starts wave 1."""
    drill.start()
    drill.world.clock.advance(bench.SETTLE_SECONDS)


def test_two_polls_at_a_wave_boundary_start_the_next_wave_once(drill: Drill) -> None:
    at_the_wave_boundary(drill)
    first, second = interleaved(drill, "dynamodb.UpdateItem", drill.poll, drill.poll)  # both read before a write
    assert first.error is None and second.error is None
    assert [start["tags"]["drs-orchestration:wave"] for start in drill.starts()] == ["0", "1"]
    assert f"Execution {drill.execution_id} changed during poll; update skipped" in messages(first)
    item = drill.item()
    assert [wave["status"] for wave in item["waves"]] == ["COMPLETED", "STARTED"]
    assert item["currentWave"] == 1 and item["waves"][1]["jobId"]


def test_the_start_event_delivered_twice_starts_wave_0_once(drill: Drill) -> None:
    def redeliver() -> Any:
        """The start worker's event again (as Lambda may deliver an async event twice), while the first runs."""
        [running] = [i for i in drill.world.host.invocations if (i.event or {}).get("worker") == "start-execution"]
        return drill.world.host.invoke(running.function, dict(running.event))

    _, second = interleaved(drill, "dynamodb.UpdateItem", drill.start, redeliver)  # both read INITIATED
    assert second.error is None
    assert len(drill.starts()) == 1
    item = drill.item()
    assert item["status"] == "POLLING" and item["waves"][0]["status"] == "STARTED" and item["waves"][0]["jobId"]


def test_a_pause_between_a_polls_read_and_write_is_kept(drill: Drill) -> None:
    drill.start()
    drill.world.clock.advance(45)  # wave 0's job started, its server launching
    pause = f"/executions/{drill.execution_id}/pause"
    poll, paused = interleaved(drill, "dynamodb.UpdateItem", drill.poll, lambda: drill.api("POST", pause))
    assert paused.status == 200 and poll.error is None
    assert f"Execution {drill.execution_id} changed during poll; update skipped" in messages(poll)
    assert drill.item()["pausedBeforeWave"] == 1  # the poll, which read it null, did not write it back
    drill.world.clock.advance(bench.SETTLE_SECONDS)
    drill.poll()
    assert drill.item()["status"] == "PAUSED" and len(drill.starts()) == 1


def test_a_cancel_between_a_polls_read_and_its_claim_starts_nothing(drill: Drill) -> None:
    at_the_wave_boundary(drill)
    cancel = f"/executions/{drill.execution_id}/cancel"
    poll, cancelled = interleaved(drill, "dynamodb.UpdateItem", drill.poll, lambda: drill.api("POST", cancel))
    assert cancelled.body == {"executionId": drill.execution_id, "status": "CANCELLING"}  # wave 0 read STARTED
    assert f"Execution {drill.execution_id} changed during poll; update skipped" in messages(poll)
    assert len(drill.starts()) == 1  # wave 0 only: the poll's claim of wave 1 lost to the cancel
    drill.poll()
    item = drill.item()
    assert item["status"] == "CANCELLED" and [wave["status"] for wave in item["waves"]] == ["COMPLETED", "CANCELLED"]


def test_a_cancel_between_a_wave_start_and_its_record_follows_the_job(drill: Drill) -> None:
    at_the_wave_boundary(drill)
    cancel = f"/executions/{drill.execution_id}/cancel"
    poll, cancelled = interleaved(drill, "drs.StartRecovery", drill.poll, lambda: drill.api("POST", cancel))
    assert cancelled.body == {"executionId": drill.execution_id, "status": "CANCELLING"}  # wave 1 is being started
    assert poll.error is None and len(drill.starts()) == 2
    item = drill.item()
    assert item["status"] == "CANCELLING" and item["waves"][1]["status"] == "STARTED" and item["waves"][1]["jobId"]
    drill.world.clock.advance(SLOW + bench.SETTLE_SECONDS)
    drill.poll()
    item = drill.item()
    assert item["status"] == "CANCELLED" and item["waves"][1]["status"] == "COMPLETED"  # followed to its end


def test_a_resume_that_loses_to_a_cancel_still_records_the_wave_it_started(drill: Drill) -> None:
    drill.start()
    drill.api("POST", f"/executions/{drill.execution_id}/pause")
    drill.world.clock.advance(bench.SETTLE_SECONDS)
    drill.poll()
    assert drill.item()["status"] == "PAUSED"
    cancel, resume = f"/executions/{drill.execution_id}/cancel", f"/executions/{drill.execution_id}/resume"
    resumed, cancelled = interleaved(drill, "drs.StartRecovery", lambda: drill.api("POST", resume),
                                     lambda: drill.api("POST", cancel))
    assert cancelled.body["status"] == "CANCELLING"
    assert (resumed.status, resumed.body["message"]) == (
        409, f"Execution {drill.execution_id} is CANCELLING; cannot resume")
    item = drill.item()
    assert len(drill.starts()) == 2 and item["waves"][1]["status"] == "STARTED" and item["waves"][1]["jobId"]


def test_a_start_interrupted_after_start_recovery_is_taken_up_not_repeated(drill: Drill) -> None:
    at_the_wave_boundary(drill)
    state: list[str] = []

    def arm(event_name: str, **_: Any) -> None:
        if event_name.endswith(".StartRecovery") and not state:
            state.append("started")

    def stop_at_the_record(event_name: str, **_: Any) -> None:  # as a function timeout ends it: nothing more runs
        if event_name.endswith(".UpdateItem") and state == ["started"]:
            state.append("stopped")
            raise RuntimeError("Task timed out")

    unregister = [botohooks.register("after-call", arm, service="drs"),
                  botohooks.register("before-call", stop_at_the_record, service="dynamodb")]
    try:
        interrupted = drill.poll()
    finally:
        for remove in unregister:
            remove()
    assert interrupted.error is not None and state == ["started", "stopped"]
    claimed = drill.item()["waves"][1]
    assert claimed["status"] == "PENDING" and claimed["startTime"] and not claimed["jobId"]
    drill.poll()
    wave_1_jobs = [job.job_id for job in drill.world.drs.backend.jobs.values()
                   if job.tags.get("drs-orchestration:wave") == "1"]
    item = drill.item()
    assert len(wave_1_jobs) == 1 and len(drill.starts()) == 2  # the second poll found the job, started none
    assert item["waves"][1]["status"] == "STARTED" and item["waves"][1]["jobId"] == wave_1_jobs[0]
    assert item["waves"][1]["startTime"] == claimed["startTime"]
