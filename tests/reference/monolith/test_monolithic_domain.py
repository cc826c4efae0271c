"""Wave rules, execution rules, user actions and cadence of the monolith, pure (no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reference.code_packages import monolith

domain = monolith("domain")

NOW = 1_768_471_200


def wave(number: int, status: str = "PENDING", job: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"waveNumber": number, "waveName": f"W{number}", "status": status, "jobId": job, "region": "us-east-1",
            "accountId": "123456789012", "startTime": None, "endTime": None, "serverIds": [], "statusMessage": None,
            "serverStatuses": [], **extra}


def execution(*waves: dict[str, Any], status: str = "POLLING", current: int = 0, **extra: Any) -> dict[str, Any]:
    return {"executionId": "e-1", "planId": "p-1", "status": status, "startTime": NOW - 600, "endTime": None,
            "totalWaves": len(waves), "currentWave": current, "lastPolledTime": None, "pausedBeforeWave": None,
            "errorMessage": None, "waves": list(waves), **extra}


def never_pause(_: int) -> bool:
    return False


# -- wave rules -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("job_status, launches, outcome", [
    ("STARTED", ["LAUNCHED", "LAUNCHED"], ("COMPLETED", "All 2 servers launched")),
    ("STARTED", ["LAUNCHED", "FAILED", "IN_PROGRESS"], ("FAILED", "1 of 3 servers failed to launch")),
    ("COMPLETED", ["LAUNCHED", "TERMINATED"], ("FAILED", "1 of 2 servers failed to launch")),
    ("COMPLETED", ["LAUNCHED", "IN_PROGRESS", "PENDING"], ("FAILED", "Job completed with 2 of 3 servers not launched")),
    ("STARTED", ["LAUNCHED", "IN_PROGRESS", "PENDING"], ("LAUNCHING", "1 of 3 servers launched")),
    ("PENDING", ["PENDING", "PENDING"], ("STARTED", "Waiting for DRS job to start")),
])
def test_wave_outcome_first_match_wins(job_status: str, launches: list[str], outcome: tuple[str, str]) -> None:
    assert domain.wave_outcome(job_status, launches) == outcome


def test_apply_job_sorts_servers_and_stamps_end_only_when_final() -> None:
    launching = wave(0, "STARTED", "drsjob-1")
    servers = [{"sourceServerId": "s-2", "launchStatus": "IN_PROGRESS"}, {"sourceServerId": "s-1", "launchStatus": "LAUNCHED"}]
    domain.apply_job(launching, "STARTED", servers, NOW)
    assert [s["sourceServerId"] for s in launching["serverStatuses"]] == ["s-1", "s-2"]
    assert (launching["status"], launching["endTime"]) == ("LAUNCHING", None)
    servers[0]["launchStatus"] = "LAUNCHED"
    domain.apply_job(launching, "STARTED", servers, NOW + 60)
    assert (launching["status"], launching["endTime"], launching["statusMessage"]) == (
        "COMPLETED", NOW + 60, "All 2 servers launched")


# -- execution rules --------------------------------------------------------------------------------------------------
def test_completion_needs_every_wave_of_the_plan_not_just_the_written_ones() -> None:
    item = execution(wave(0, "COMPLETED", "j0"), wave(1), wave(2))
    assert domain.settle(item, NOW, never_pause) == 1
    assert item["status"] == "POLLING" and item["endTime"] is None
    last = execution(wave(0, "COMPLETED", "j0"), wave(1, "COMPLETED", "j1"), current=1)
    assert domain.settle(last, NOW, never_pause) is None
    assert (last["status"], last["endTime"]) == ("COMPLETED", NOW)


def test_a_failed_wave_skips_later_waves_and_fails_the_execution() -> None:
    item = execution(wave(0, "FAILED", "j0", statusMessage="1 of 2 servers failed to launch"), wave(1), wave(2))
    assert domain.settle(item, NOW, never_pause) is None
    assert [w["status"] for w in item["waves"]] == ["FAILED", "CANCELLED", "CANCELLED"]
    assert item["waves"][1]["statusMessage"] == "Skipped: an earlier wave failed"
    assert (item["status"], item["errorMessage"], item["endTime"]) == (
        "FAILED", "Wave 0 failed: 1 of 2 servers failed to launch", NOW)


def test_pause_before_next_wave_by_request_or_by_plan() -> None:
    requested = execution(wave(0, "COMPLETED", "j0"), wave(1), pausedBeforeWave=1)
    assert domain.settle(requested, NOW, never_pause) is None
    assert (requested["status"], requested["pausedBeforeWave"], requested["currentWave"]) == ("PAUSED", 1, 1)
    planned = execution(wave(0, "COMPLETED", "j0"), wave(1))
    assert domain.settle(planned, NOW, lambda number: number == 1) is None
    assert planned["status"] == "PAUSED"


def test_cancelling_finishes_only_when_no_wave_is_active() -> None:
    active = execution(wave(0, "LAUNCHING", "j0"), wave(1, "CANCELLED"), status="CANCELLING")
    domain.settle(active, NOW, never_pause)
    assert active["status"] == "CANCELLING"
    active["waves"][0]["status"] = "COMPLETED"
    domain.settle(active, NOW, never_pause)
    assert (active["status"], active["endTime"]) == ("CANCELLED", NOW)


def test_start_failure_fails_the_execution_with_the_drs_reason() -> None:
    item = execution(wave(0, "COMPLETED", "j0"), wave(1), wave(2))
    domain.record_wave_start_failure(item, 1, "ThrottlingException: slow down", NOW, ["j1a"])
    assert item["waves"][1]["statusMessage"] == "Failed to start recovery: ThrottlingException: slow down"
    assert (item["waves"][1]["jobIds"], item["waves"][1]["jobId"]) == (["j1a"], "j1a")  # the chunk started before
    assert item["errorMessage"] == "Wave 1 failed to start: ThrottlingException: slow down"
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "FAILED", "CANCELLED"]


def test_a_wave_is_started_in_chunks_of_200_sorted_servers() -> None:
    ids = [f"s-{n:017d}" for n in range(450)]
    assert [len(chunk) for chunk in domain.server_chunks({"serverIds": ids})] == [200, 200, 50]
    assert domain.server_chunks({"serverIds": ids})[1][0] == ids[200]
    assert domain.server_chunks({"serverIds": []}) == [[]]  # DRS refuses it: the wave fails to start


def test_timeout_cancels_every_unfinished_wave() -> None:
    item = execution(wave(0, "COMPLETED", "j0"), wave(1, "LAUNCHING", "j1"), wave(2), current=1)
    assert not domain.is_timed_out(item, item["startTime"] + 7199, 7200)
    assert domain.is_timed_out(item, item["startTime"] + 7200, 7200)
    domain.time_out(item, NOW, 7200)
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "CANCELLED", "CANCELLED"]
    assert (item["status"], item["errorMessage"]) == ("TIMEOUT", "Execution exceeded 7200 seconds")


# -- user actions -----------------------------------------------------------------------------------------------------
def test_cancel_with_an_active_wave_goes_through_cancelling() -> None:
    item = execution(wave(0, "STARTED", "j0"), wave(1))
    domain.cancel(item, NOW)
    assert item["status"] == "CANCELLING" and item["endTime"] is None
    assert item["waves"][1]["statusMessage"] == "Cancelled before start"
    idle = execution(wave(0), status="INITIATED")
    domain.cancel(idle, NOW)
    assert (idle["status"], idle["endTime"]) == ("CANCELLED", NOW)
    with pytest.raises(domain.RuleViolation, match="^Execution e-1 is CANCELLED; cannot cancel$"):
        domain.cancel(idle, NOW)


def test_pause_and_resume_rules() -> None:
    item = execution(wave(0, "STARTED", "j0"), wave(1))
    domain.request_pause(item)
    assert item["pausedBeforeWave"] == 1 and item["status"] == "POLLING"
    last = execution(wave(0, "STARTED", "j0"))
    with pytest.raises(domain.RuleViolation, match="^Execution e-1 has no later wave to pause before$"):
        domain.request_pause(last)
    with pytest.raises(domain.RuleViolation, match="^Execution e-1 is POLLING; cannot resume$"):
        domain.wave_to_resume(item)
    with pytest.raises(domain.RuleViolation, match="^Execution e-1 is PAUSED; cannot pause$"):
        domain.request_pause(execution(wave(0), status="PAUSED"))
    assert domain.wave_to_resume(execution(wave(0), wave(1), status="PAUSED", pausedBeforeWave=1)) == 1


def test_view_derives_final_flag_completed_waves_and_duration() -> None:
    item = execution(wave(0, "COMPLETED"), wave(1, "LAUNCHING"))
    view = domain.execution_view(item, NOW)
    assert (view["isFinal"], view["completedWaves"], view["durationSeconds"]) == (False, 1, 600)
    item.update(status="COMPLETED", endTime=NOW - 100)
    assert domain.execution_view(item, NOW)["durationSeconds"] == 500


def test_instances_grouped_by_account_and_region_in_wave_then_server_order() -> None:
    # in the order of their servers (serverStatuses are sorted by sourceServerId), not of the ids EC2 drew
    first = wave(0, serverStatuses=[{"instanceId": "i-2"}, {"instanceId": None}, {"instanceId": "i-1"}])
    second = wave(1, region="eu-west-1", serverStatuses=[{"instanceId": "i-0"}])
    third = wave(2, serverStatuses=[{"instanceId": "i-3"}])
    assert domain.instance_ids_by_location(execution(first, second, third)) == {
        ("123456789012", "us-east-1"): ["i-2", "i-1", "i-3"], ("123456789012", "eu-west-1"): ["i-0"]}


# -- cadence ----------------------------------------------------------------------------------------------------------
def test_cadence_by_phase_with_jitter() -> None:
    pending_job = execution(wave(0, "STARTED", "j0"), lastPolledTime=NOW - 109)
    assert domain.poll_interval(pending_job) == 120
    assert not domain.is_due(pending_job, NOW)
    assert domain.is_due(pending_job, NOW + 1)
    launching = execution(wave(0, "LAUNCHING", "j0"), lastPolledTime=NOW - 50)
    assert domain.poll_interval(launching) == 60 and domain.is_due(launching, NOW)
    cancelling = execution(wave(0, "STARTED", "j0"), status="CANCELLING", lastPolledTime=NOW - 49)
    assert domain.poll_interval(cancelling) == 60 and not domain.is_due(cancelling, NOW)
    assert domain.is_due(execution(wave(0, "STARTED", "j0")), NOW)


def test_tag_selection_needs_every_tag() -> None:
    servers = [{"sourceServerID": "s-1", "tags": {"Tier": "web", "Env": "prod"}},
               {"sourceServerID": "s-2", "tags": {"Tier": "web"}}, {"sourceServerID": "s-3"}]
    assert domain.servers_matching_tags(servers, {"Tier": "web", "Env": "prod"}) == ["s-1"]
