"""Poll rules of the decomposed poller: wave rules, execution rules, timeout, enrichment (no AWS)."""

import datetime as dt

import pytest

from tests.reference.code_packages import decomposed

enrichment = decomposed("ExecutionPollerFunction", "enrichment")
rules = decomposed("ExecutionPollerFunction", "rules")

NOW = 1_768_471_800


def wave(number, status="PENDING", job_id=None, message=None):
    return {"waveNumber": number, "waveName": f"w{number}", "status": status, "jobId": job_id, "region": "us-east-1",
            "accountId": "123456789012", "startTime": None, "endTime": None, "serverIds": [],
            "statusMessage": message, "serverStatuses": []}


def execution(waves, status="POLLING", current=0, paused=None):
    return {"executionId": "e1", "planId": "p1", "status": status, "startTime": NOW - 600, "endTime": None,
            "totalWaves": len(waves), "currentWave": current, "pausedBeforeWave": paused, "errorMessage": None,
            "executionType": "DRILL", "waves": waves}


def servers(*launch_statuses):
    return [{"sourceServerId": f"s-{n:017x}", "launchStatus": status} for n, status in enumerate(launch_statuses)]


@pytest.mark.parametrize("job_status, launch, expected_status, expected_message", [
    ("STARTED", ["LAUNCHED", "LAUNCHED"], "COMPLETED", "All 2 servers launched"),
    ("STARTED", ["LAUNCHED", "FAILED", "IN_PROGRESS"], "FAILED", "1 of 3 servers failed to launch"),
    ("STARTED", ["TERMINATED", "LAUNCHED"], "FAILED", "1 of 2 servers failed to launch"),
    ("COMPLETED", ["LAUNCHED", "PENDING", "IN_PROGRESS"], "FAILED", "Job completed with 2 of 3 servers not launched"),
    ("STARTED", ["LAUNCHED", "IN_PROGRESS", "PENDING"], "LAUNCHING", "1 of 3 servers launched"),
    ("PENDING", ["PENDING", "PENDING"], "STARTED", "Waiting for DRS job to start"),
])
def test_wave_rules_first_match_wins(job_status, launch, expected_status, expected_message):
    target = wave(0, "STARTED", "j1")
    rules.apply_jobs(target, [{"jobID": "j1", "status": job_status}], servers(*launch), NOW)
    assert (target["status"], target["statusMessage"]) == (expected_status, expected_message)
    assert target["endTime"] == (NOW if expected_status in ("COMPLETED", "FAILED") else None)
    assert len(target["serverStatuses"]) == len(launch)


def test_last_wave_completed_completes_the_execution():
    item = execution([wave(0, "COMPLETED"), wave(1, "COMPLETED")], current=1)
    assert rules.next_step(item, lambda n: False, NOW) is None
    assert (item["status"], item["endTime"]) == ("COMPLETED", NOW)


def test_execution_is_not_final_while_plan_waves_remain():
    # Every wave written so far is final, but the plan has a later wave: start it, do not complete.
    item = execution([wave(0, "COMPLETED"), wave(1)], current=0)
    assert rules.next_step(item, lambda n: False, NOW) == 1
    assert item["status"] == "POLLING" and item["endTime"] is None


@pytest.mark.parametrize("paused_before, plan_pause", [(1, False), (None, True)])
def test_pause_before_next_wave(paused_before, plan_pause):
    item = execution([wave(0, "COMPLETED"), wave(1)], current=0, paused=paused_before)
    assert rules.next_step(item, lambda n: plan_pause and n == 1, NOW) is None
    assert (item["status"], item["pausedBeforeWave"], item["currentWave"]) == ("PAUSED", 1, 1)


def test_failed_wave_skips_later_pending_waves_and_fails_execution():
    item = execution([wave(0, "FAILED", "j", "1 of 2 servers failed to launch"), wave(1), wave(2)])
    assert rules.next_step(item, lambda n: False, NOW) is None
    assert [w["status"] for w in item["waves"]] == ["FAILED", "CANCELLED", "CANCELLED"]
    assert item["waves"][1]["statusMessage"] == "Skipped: an earlier wave failed"
    assert item["status"] == "FAILED"
    assert item["errorMessage"] == "Wave 0 failed: 1 of 2 servers failed to launch"


def test_failed_wave_waits_for_active_waves():
    item = execution([wave(0, "FAILED", "j", "x"), wave(1, "LAUNCHING", "k")])
    rules.next_step(item, lambda n: False, NOW)
    assert item["status"] == "POLLING" and item["endTime"] is None


def test_cancelling_ends_cancelled_when_nothing_is_active():
    item = execution([wave(0, "COMPLETED"), wave(1, "CANCELLED")], status="CANCELLING")
    assert rules.next_step(item, lambda n: False, NOW) is None
    assert (item["status"], item["endTime"]) == ("CANCELLED", NOW)


def test_cancelling_stays_while_a_wave_is_active():
    item = execution([wave(0, "LAUNCHING", "j"), wave(1, "CANCELLED")], status="CANCELLING")
    assert rules.next_step(item, lambda n: False, NOW) is None
    assert item["status"] == "CANCELLING"


def test_timeout_cancels_non_final_waves():
    item = execution([wave(0, "COMPLETED"), wave(1, "LAUNCHING", "j"), wave(2)])
    item["startTime"] = NOW - 7200
    assert rules.time_out_if_due(item, 7200, NOW)
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "CANCELLED", "CANCELLED"]
    assert item["waves"][1]["statusMessage"] == "Execution timed out"
    assert (item["status"], item["errorMessage"]) == ("TIMEOUT", "Execution exceeded 7200 seconds")
    not_yet = execution([wave(0, "STARTED", "j")])
    not_yet["startTime"] = NOW - 7199
    assert not rules.time_out_if_due(not_yet, 7200, NOW) and not_yet["status"] == "POLLING"


def test_server_status_enrichment_prefers_name_tag_and_instance_facts():
    job = {"participatingServers": [
        {"sourceServerID": "s-2", "launchStatus": "IN_PROGRESS"},
        {"sourceServerID": "s-1", "launchStatus": "LAUNCHED", "recoveryInstanceID": "i-1"}]}
    sources = {
        "s-1": {"tags": {"Name": "web-01"}, "sourceProperties": {"identificationHints": {"hostname": "web-01.corp"}}},
        "s-2": {"tags": {}, "sourceProperties": {"identificationHints": {"hostname": "db-01.corp"}}}}
    launched = dt.datetime(2026, 1, 15, 10, 5, tzinfo=dt.timezone.utc)
    instances = {"i-1": {"PrivateDnsName": "ip-10-0-0-1.ec2.internal", "PrivateIpAddress": "10.0.0.1",
                         "InstanceType": "t3.medium", "LaunchTime": launched}}
    assert enrichment.server_statuses([job], sources, instances) == [
        {"sourceServerId": "s-1", "serverName": "web-01", "hostname": "ip-10-0-0-1.ec2.internal",
         "launchStatus": "LAUNCHED", "launchTime": int(launched.timestamp()), "instanceId": "i-1",
         "privateIp": "10.0.0.1", "instanceType": "t3.medium"},
        {"sourceServerId": "s-2", "serverName": "db-01.corp", "hostname": "db-01.corp", "launchStatus": "IN_PROGRESS",
         "launchTime": None, "instanceId": None, "privateIp": None, "instanceType": None},
    ]
    assert enrichment.recovery_instance_ids([job]) == ["i-1"]
    assert enrichment.participating_server_ids([job]) == ["s-1", "s-2"]
