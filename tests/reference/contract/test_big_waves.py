"""CONTRACT.md "Starting a wave" for waves of more than 200 servers, on both reference systems: one DRS job per
chunk of 200 sorted servers, the wave rules over all its jobs, a chunk that fails, and an interrupted start taken up."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest

from drs_parity.fixtures.system import load_system
from drs_parity.world import botohooks
from drs_parity.world.world import World
from tests.reference.bench_module import bench
from tests.reference.code_packages import decomposed, monolith

SYSTEMS = ("monolithic", "decomposed")
CHUNK_TAG = "drs-orchestration:chunk"


class BigWave:
    """One reference system on moto with a one-wave plan whose tag group selects `count` servers."""

    def __init__(self, world: World, system_name: str, count: int) -> None:
        self.world = world
        self.side = bench.Bench(world, load_system(system_name))
        world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, bench.source_servers(count), [])
        group = self.side.api("POST", "/protection-groups", {
            "groupName": "Wide", "region": bench.REGION, "serverSelectionTags": {"Bench": "yes"}})
        self.plan = self.side.api("POST", "/recovery-plans", {
            "planName": "Wide", "waves": [{"waveName": "all", "protectionGroupId": group["groupId"]}]})
        self.execution_id = ""

    def start(self) -> None:
        answer = self.side.api("POST", "/executions", {"planId": self.plan["planId"], "executionType": "DRILL"})
        self.execution_id = answer["executionId"]
        self.world.host.drain()

    def redeliver_start(self) -> None:
        """The start worker's event again, as Lambda retries an asynchronous event whose run failed."""
        [first] = [i for i in self.world.host.invocations if (i.event or {}).get("worker") == "start-execution"]
        self.world.host.invoke(first.function, dict(first.event))

    def poll_after_launch(self) -> None:
        self.world.clock.advance(bench.SETTLE_SECONDS)
        self.side.fire_schedules_once()
        self.world.host.drain()

    def execution(self) -> dict[str, Any]:
        return self.side.api("GET", f"/executions/{self.execution_id}")

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [call["params"] for invocation in self.world.host.invocations for call in invocation.calls
                if call["operation"] == operation]

    def messages(self) -> list[str]:
        return [line["message"] for invocation in self.world.host.invocations for line in invocation.logs]

    def jobs_by_chunk(self) -> dict[str, str]:
        """Chunk tag -> job id, of every job DRS holds for this execution."""
        return {job.tags[CHUNK_TAG]: job.job_id for job in self.world.drs.backend.jobs.values()
                if job.tags.get("drs-orchestration:executionId") == self.execution_id}


def big_wave(system_name: str, count: int) -> Iterator[BigWave]:
    with World(backend="moto", region=bench.REGION, account_id=bench.ACCOUNT_ID) as world:
        yield BigWave(world, system_name, count)


@pytest.fixture(params=SYSTEMS)
def wave_of_250(request: pytest.FixtureRequest) -> Iterator[BigWave]:
    yield from big_wave(request.param, 250)


@pytest.fixture(params=SYSTEMS)
def wave_of_450(request: pytest.FixtureRequest) -> Iterator[BigWave]:
    yield from big_wave(request.param, 450)


def refuse_start_recovery(number: int, answer: Callable[[], Any]) -> Callable[[], None]:
    """A botocore hook on the `number`-th StartRecovery from now on (1-based): `answer()` replaces its sending."""
    seen: list[None] = []

    def hook(event_name: str, **_: Any) -> Any:
        if not event_name.endswith(".StartRecovery"):
            return None
        seen.append(None)
        return answer() if len(seen) == number else None

    return botohooks.register("before-call", hook, service="drs")


def test_a_wave_of_250_servers_is_two_jobs_followed_as_one_wave(wave_of_250: BigWave) -> None:
    wave_of_250.start()
    starts = wave_of_250.calls("StartRecovery")
    assert [len(start["sourceServers"]) for start in starts] == [200, 50]
    assert [start["tags"][CHUNK_TAG] for start in starts] == ["0", "1"]
    ids = [server["sourceServerID"] for start in starts for server in start["sourceServers"]]
    assert ids == sorted(ids) and len(set(ids)) == 250
    jobs = wave_of_250.jobs_by_chunk()
    wave = wave_of_250.execution()["waves"][0]
    assert (wave["status"], wave["jobIds"], wave["jobId"]) == ("STARTED", [jobs["0"], jobs["1"]], jobs["0"])
    assert (f"Started wave 0 for execution {wave_of_250.execution_id}: jobs {jobs['0']}, {jobs['1']}"
            in wave_of_250.messages())

    wave_of_250.poll_after_launch()
    assert wave_of_250.calls("DescribeJobs") == [{"filters": {"jobIDs": sorted(jobs.values())}}]
    execution = wave_of_250.execution()
    wave = execution["waves"][0]
    assert (execution["status"], wave["status"], wave["statusMessage"]) == (
        "COMPLETED", "COMPLETED", "All 250 servers launched")
    assert len(wave["serverStatuses"]) == 250 and all(server["instanceId"] for server in wave["serverStatuses"])

    logs = wave_of_250.side.api("GET", f"/executions/{wave_of_250.execution_id}/job-logs")["jobLogs"]
    assert [(log["waveNumber"], log["jobId"]) for log in logs] == [(0, jobs["0"]), (0, jobs["1"])]
    terminated = wave_of_250.side.api("POST", f"/executions/{wave_of_250.execution_id}/terminate-instances")
    # chunks of the instances in server order (not in the order of the ids EC2 drew), each chunk sorted
    in_server_order = [server["instanceId"] for server in wave["serverStatuses"]]
    assert [call["recoveryInstanceIDs"] for call in wave_of_250.calls("TerminateRecoveryInstances")] == [
        sorted(in_server_order[:200]), sorted(in_server_order[200:])]
    assert terminated["terminatedInstanceIds"] == sorted(in_server_order) and len(terminated["jobIds"]) == 2


def test_a_wave_of_450_servers_is_three_jobs(wave_of_450: BigWave) -> None:
    wave_of_450.start()
    assert [len(start["sourceServers"]) for start in wave_of_450.calls("StartRecovery")] == [200, 200, 50]
    jobs = wave_of_450.jobs_by_chunk()
    assert wave_of_450.execution()["waves"][0]["jobIds"] == [jobs["0"], jobs["1"], jobs["2"]]
    wave_of_450.poll_after_launch()
    wave = wave_of_450.execution()["waves"][0]
    assert (wave["status"], wave["statusMessage"]) == ("COMPLETED", "All 450 servers launched")
    assert len(wave_of_450.calls("DescribeJobs")) == 1
    assert [len(call["filters"]["sourceServerIDs"]) for call in wave_of_450.calls("DescribeSourceServers")
            if "filters" in call] == [200, 200, 50]


def test_a_failing_second_chunk_fails_the_wave_and_keeps_the_first_job(wave_of_250: BigWave) -> None:
    throttled = (SimpleNamespace(status_code=400, headers={}),
                 {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}})
    unregister = refuse_start_recovery(2, lambda: throttled)
    try:
        wave_of_250.start()
    finally:
        unregister()
    jobs = wave_of_250.jobs_by_chunk()
    assert list(jobs) == ["0"]
    execution = wave_of_250.execution()
    wave = execution["waves"][0]
    assert (execution["status"], execution["errorMessage"]) == (
        "FAILED", "Wave 0 failed to start: ThrottlingException: Rate exceeded")
    assert (wave["status"], wave["statusMessage"], wave["startTime"]) == (
        "FAILED", "Failed to start recovery: ThrottlingException: Rate exceeded", None)
    assert (wave["jobIds"], wave["jobId"]) == ([jobs["0"]], jobs["0"])
    assert not any(message.startswith("Started wave") for message in wave_of_250.messages())


def test_an_interrupted_start_starts_only_the_chunks_without_a_job(wave_of_450: BigWave) -> None:
    def time_out() -> Any:  # as a function timeout ends the start worker after its first job
        raise RuntimeError("Task timed out")

    unregister = refuse_start_recovery(2, time_out)
    try:
        wave_of_450.start()
    finally:
        unregister()
    assert wave_of_450.execution()["waves"][0]["jobIds"] == []  # claimed, one job started, nothing recorded
    wave_of_450.redeliver_start()
    starts = wave_of_450.calls("StartRecovery")
    assert [start["tags"][CHUNK_TAG] for start in starts] == ["0", "1", "2"]  # chunk 0 found, not started again
    jobs = wave_of_450.jobs_by_chunk()
    assert len(jobs) == len(wave_of_450.world.drs.backend.jobs) == 3
    assert list(wave_of_450.calls("DescribeJobs")[0]["filters"]) == ["fromDate"]
    wave = wave_of_450.execution()["waves"][0]
    assert (wave["status"], wave["jobIds"]) == ("STARTED", [jobs["0"], jobs["1"], jobs["2"]])


@pytest.mark.parametrize("job_statuses, expected", [
    (["COMPLETED", "COMPLETED", "COMPLETED"], "COMPLETED"),
    (["PENDING", "PENDING"], "PENDING"),
    (["COMPLETED", "PENDING"], "STARTED"),
    (["PENDING", "STARTED"], "STARTED"),
    (["COMPLETED", "STARTED"], "STARTED"),
])
def test_a_waves_jobs_read_as_one_status_on_both_sides(job_statuses: list[str], expected: str) -> None:
    """Poll step 4: COMPLETED when every job is, PENDING when every job is, else STARTED."""
    assert monolith("domain").combined_job_status(job_statuses) == expected
    poll_rules = decomposed("ExecutionPollerFunction", "rules")
    assert poll_rules.jobs_status([{"status": status} for status in job_statuses]) == expected
