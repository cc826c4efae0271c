"""DRS state without any transport: scenario loading, timelines on the virtual clock, faults, pagination."""

from __future__ import annotations

import pytest

from drs_parity.world.clock import VirtualClock
from drs_parity.world.drs import DrsEmulator, DrsError, FakeLauncher, RequestContext
from drs_parity.world.drs.backend import DrsBackend
from drs_parity.world.drs.models import paginate

CTX = RequestContext("123456789012", "us-east-1")
FAST = {"sourceServerId": "s-000000000000000a1", "hostname": "fast", "launch": {"status": "LAUNCHED", "seconds": 10}}
SLOW = {"sourceServerId": "s-000000000000000a2", "hostname": "slow", "launch": {"status": "LAUNCHED", "seconds": 50}}


def backend(clock: VirtualClock, servers: list[dict], timing: dict | None = None) -> DrsBackend:  # type: ignore[type-arg]
    drs = DrsBackend(clock, FakeLauncher())
    drs.load(timing or {"jobStartSeconds": 5, "jobEndSeconds": 5}, servers, [])
    return drs


def start(drs: DrsBackend, *servers: dict) -> str:  # type: ignore[type-arg]
    request = {"sourceServers": [{"sourceServerID": s["sourceServerId"]} for s in servers], "isDrill": True}
    return drs.start_recovery(CTX, request)["job"]["jobID"]


def job_of(drs: DrsBackend, job_id: str) -> dict:  # type: ignore[type-arg]
    return drs.describe_jobs(CTX, {"filters": {"jobIDs": [job_id]}})["items"][0]


def test_settle_applies_events_at_their_scripted_times_in_order() -> None:
    clock = VirtualClock()
    drs = backend(clock, [FAST, SLOW])
    job_id = start(drs, FAST, SLOW)
    clock.advance(1000)
    drs.settle()
    job = job_of(drs, job_id)
    assert job["status"] == "COMPLETED" and job["endDateTime"] == "2026-01-15T10:01:00Z"  # 5 + 50 + 5
    instances = drs.describe_recovery_instances(CTX, {})["items"]
    launch_times = {i["sourceServerID"]: i["pointInTimeSnapshotDateTime"] for i in instances}
    assert launch_times == {FAST["sourceServerId"]: "2026-01-15T10:00:15Z",
                            SLOW["sourceServerId"]: "2026-01-15T10:00:55Z"}


def test_launcher_is_called_during_settle_not_before() -> None:
    clock = VirtualClock()
    drs = backend(clock, [FAST])
    start(drs, FAST)
    clock.advance(14)
    drs.settle()
    assert drs.launcher.launched == {}
    clock.advance(1)
    drs.settle()
    assert len(drs.launcher.launched) == 1


def test_a_failing_launcher_fails_the_launch() -> None:
    class BrokenLauncher(FakeLauncher):
        def launch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("InsufficientInstanceCapacity")

    clock = VirtualClock()
    drs = DrsBackend(clock, BrokenLauncher())
    drs.load({}, [FAST], [])
    job_id = start(drs, FAST)
    clock.advance(1000)
    drs.settle()
    assert job_of(drs, job_id)["participatingServers"][0]["launchStatus"] == "FAILED"
    log = drs.describe_job_log_items(CTX, {"jobID": job_id})["items"]
    failed = [item for item in log if item["event"] == "LAUNCH_FAILED"]
    assert "InsufficientInstanceCapacity" in failed[0]["eventData"]["rawError"]


def test_default_timing_is_thirty_seconds_each_way() -> None:
    clock = VirtualClock()
    drs = DrsBackend(clock, FakeLauncher())
    drs.load(None, [FAST], None)
    job_id = start(drs, FAST)
    clock.advance(29)
    drs.settle()
    assert job_of(drs, job_id)["status"] == "PENDING"
    clock.advance(1)
    drs.settle()
    assert job_of(drs, job_id)["status"] == "STARTED"


def test_job_ids_are_deterministic_per_account_and_region() -> None:
    first, second = backend(VirtualClock(), [FAST]), backend(VirtualClock(), [FAST])
    assert start(first, FAST) == start(second, FAST)
    assert start(first, FAST) != start(first, FAST)  # a second job gets a new id
    elsewhere = RequestContext("123456789012", "eu-west-1")
    other = DrsBackend(VirtualClock(), FakeLauncher())
    other.load({}, [{**FAST, "region": "eu-west-1"}], [])
    request = {"sourceServers": [{"sourceServerID": FAST["sourceServerId"]}]}
    assert other.start_recovery(elsewhere, request)["job"]["jobID"] != start(backend(VirtualClock(), [FAST]), FAST)


def test_describe_jobs_date_filter() -> None:
    clock = VirtualClock()
    drs = backend(clock, [FAST])
    early = start(drs, FAST)
    clock.advance(3600)
    late = start(drs, FAST)
    found = drs.describe_jobs(CTX, {"filters": {"fromDate": "2026-01-15T10:30:00Z"}})["items"]
    assert [job["jobID"] for job in found] == [late]
    found = drs.describe_jobs(CTX, {"filters": {"toDate": "2026-01-15T10:30:00Z"}})["items"]
    assert [job["jobID"] for job in found] == [early]


@pytest.mark.parametrize("server, problem", [
    ({"sourceServerId": "s-123", "hostname": "h"}, "sourceServers[0].sourceServerId"),
    ({"sourceServerId": "s-000000000000000a1", "launch": {"status": "EXPLODED", "seconds": 1}},
     "sourceServers[0].launch.status"),
])
def test_bad_scenario_servers_name_the_field(server: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        DrsEmulator(VirtualClock()).load({}, [server], [])


@pytest.mark.parametrize("fault, problem", [
    ({"operation": "DescribeJob", "error": "ThrottlingException"}, "faults[0].operation"),
    ({"operation": "DescribeJobs", "error": "SlowDown"}, "faults[0].error"),
])
def test_bad_faults_name_the_field(fault: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        DrsEmulator(VirtualClock()).load({}, [], [fault])


def test_fault_fires_count_times_from_its_time_on() -> None:
    clock = VirtualClock()
    drs = DrsBackend(clock, FakeLauncher())
    drs.load({}, [], [{"operation": "StartRecovery", "error": "InternalServerException", "afterSeconds": 60,
                       "count": 2}])
    assert drs.take_fault("StartRecovery") is None
    clock.advance(60)
    assert drs.take_fault("DescribeJobs") is None
    assert [drs.take_fault("StartRecovery").code for _ in range(2)] == ["InternalServerException"] * 2
    assert drs.take_fault("StartRecovery") is None


def test_fault_answers_with_the_models_status_code() -> None:
    clock = VirtualClock()
    emulator = DrsEmulator(clock)
    emulator.load({}, [], [{"operation": "DescribeSourceServers", "error": "AccessDeniedException"}])
    status, headers, body = emulator.handle("POST", "/DescribeSourceServers", "", {}, b"{}")
    assert (status, headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")
    assert emulator.requests[-1]["error"] == "AccessDeniedException"


def test_pagination_tokens_are_bound_to_their_operation() -> None:
    page, token = paginate(list(range(5)), {"maxResults": 2}, "DescribeJobs")
    assert page == [0, 1] and token
    assert paginate(list(range(5)), {"maxResults": 2, "nextToken": token}, "DescribeJobs")[0] == [2, 3]
    with pytest.raises(DrsError) as info:
        paginate(list(range(5)), {"nextToken": token}, "DescribeSourceServers")
    assert info.value.code == "ValidationException"
    assert paginate([], {}, "DescribeJobs") == ([], None)


def test_region_and_account_come_from_the_sigv4_scope() -> None:
    seen: list[str] = []
    emulator = DrsEmulator(VirtualClock(), account_resolver=lambda key: seen.append(key) or "999999999999")
    auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260115/eu-west-2/drs/aws4_request, SignedHeaders=host, Signature=x"
    emulator.handle("POST", "/DescribeJobs", "", {"Authorization": auth}, b"")
    emulator.handle("POST", "/DescribeJobs", "", {"Host": "drs.ap-south-1.amazonaws.com"}, b"")
    assert [(r["account"], r["region"]) for r in emulator.requests] == [
        ("999999999999", "eu-west-2"), ("999999999999", "ap-south-1")]
    assert seen == ["AKIDEXAMPLE", ""]


class ManualClock:
    """A clock without timers (like the standalone WallClock): only lazy settling moves jobs."""

    def __init__(self, start: float) -> None:
        self.start = self._now = start

    def now(self) -> float:
        return self._now


def test_lazy_settle_without_timers_dates_events_at_their_scripted_time() -> None:
    clock = ManualClock(1768471200.0)
    drs = backend(clock, [FAST, SLOW])  # type: ignore[arg-type]
    job_id = start(drs, FAST, SLOW)
    clock._now += 10_000  # nobody asked in between
    drs.settle()
    log = drs.describe_job_log_items(CTX, {"jobID": job_id})["items"]
    assert [(item["event"], item["logDateTime"]) for item in log][::len(log) - 1] == [
        ("JOB_START", "2026-01-15T10:00:05Z"), ("JOB_END", "2026-01-15T10:01:00Z")]


def test_an_emulator_bug_answers_500_with_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = DrsEmulator(VirtualClock())

    def broken(ctx: RequestContext, params: dict) -> dict:  # type: ignore[type-arg]
        raise RuntimeError("boom")

    monkeypatch.setattr(emulator.backend, "describe_jobs", broken)
    status, headers, body = emulator.handle("POST", "/DescribeJobs", "", {}, b"{}")
    assert (status, headers["x-amzn-ErrorType"]) == (500, "InternalServerException") and b"boom" in body


def test_responses_are_checked_against_the_output_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = DrsEmulator(VirtualClock())
    monkeypatch.setattr(emulator.backend, "describe_jobs", lambda ctx, params: {"items": [{"status": "DONE"}]})
    status, _, body = emulator.handle("POST", "/DescribeJobs", "", {}, b"{}")
    assert status == 500 and b"items[0].jobID is required" in body and b"items[0].status" in body


def test_close_cancels_clock_timers_so_a_shared_clock_no_longer_calls_in() -> None:
    clock = VirtualClock()
    emulator = DrsEmulator(clock)
    emulator.load({}, [FAST], [])
    start(emulator.backend, FAST)
    emulator.close()
    clock.advance(1000)
    assert emulator.launcher.launched == {}
    emulator.settle()  # an explicit settle still applies what is due
    assert len(emulator.launcher.launched) == 1
