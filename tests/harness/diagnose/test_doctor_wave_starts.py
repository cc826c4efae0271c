"""The doctor's `wave-started-once` link: a wave of one execution started by two successful StartRecovery calls."""

from __future__ import annotations

from typing import Any

from drs_parity.diagnose.diagnosis import FAIL, PASS, Evidence
from drs_parity.diagnose.doctor import diagnose
from tests.harness.diagnose.test_doctor import EXECUTION, call, check, healthy, status_index

LINK = "wave-started-once"
WAVE_0, WAVE_1 = ("start", 1), ("until COMPLETED", 3)  # (name, index) of the healthy timeline's steps


def start_recovery(wave: int, execution: str | None = EXECUTION, chunk: int | None = None, function: str = "poller",
                   error: str | None = None) -> dict[str, Any]:
    tags = {} if execution is None else {"drs-orchestration:executionId": execution,
                                         "drs-orchestration:wave": str(wave)}
    if chunk is not None:
        tags["drs-orchestration:chunk"] = str(chunk)
    return call("drs", "StartRecovery", error, function, isDrill=True, tags=tags,
                sourceServers=[{"sourceServerID": f"s-{wave}"}])


def two_waves(*extra: tuple[int, dict[str, Any], dict[str, Any] | None]) -> dict[str, Any]:
    """The healthy timeline with its two waves started once each, plus (step index, call, invocation) `extra`."""
    timeline = healthy()
    steps = timeline["steps"]
    steps[WAVE_0[1]]["calls"].append(start_recovery(0, function="executions"))
    steps[WAVE_0[1]]["invocations"].append({"function": "executions", "trigger": "event", "error": None})
    steps[WAVE_1[1]]["calls"].append(start_recovery(1))
    for index, started, invocation in extra:
        steps[index]["calls"].append(started)
        if invocation is not None:
            steps[index]["invocations"].append(invocation)
    return timeline


def duplicate_run() -> dict[str, Any]:
    return {"function": "poller", "trigger": "event", "error": None, "attempt": 1, "duplicate": True}


def test_a_healthy_two_wave_run_started_each_wave_once() -> None:
    diagnosis = diagnose(two_waves(), status_index())
    result = check(two_waves(), LINK)
    assert result.status == PASS and result.evidence == "waves 0, 1 started once each"
    assert diagnosis.exit_code == 0, diagnosis.render()


def test_a_wave_started_twice_is_the_broken_link_with_each_calls_time_and_invocation() -> None:
    timeline = two_waves((WAVE_1[1], start_recovery(1), duplicate_run()))
    diagnosis = diagnose(timeline, status_index())
    assert diagnosis.first_broken is not None and diagnosis.first_broken.link == LINK, diagnosis.render()
    assert diagnosis.first_broken.evidence == (
        "wave 1 started 2 times: StartRecovery "
        "at t+600s by poller during step 3 (until COMPLETED; its runs: event, event duplicate), "
        "at t+600s by poller during step 3 (until COMPLETED; its runs: event, event duplicate)")


def test_live_evidence_names_each_calls_invocation_by_request_id_attempt_and_duplicate() -> None:
    start = healthy()["steps"][0]["time"]
    params = start_recovery(1)["params"]
    made = [{"time": start + 180, "function": "poller", "requestId": "r-7", "trigger": "event", "attempt": 1,
             "duplicate": False, "params": params},
            {"time": start + 240, "function": "poller", "requestId": "r-7", "trigger": "event", "attempt": 2,
             "duplicate": True, "params": params}]
    result = check(two_waves(), LINK, Evidence(wave_starts=made))
    assert result.status == FAIL
    assert result.evidence == ("wave 1 started 2 times: StartRecovery at t+180s by poller (event, request r-7), "
                               "at t+240s by poller (event, request r-7, attempt 2, duplicate delivery)")


def test_failed_calls_another_executions_tags_and_the_chunks_of_one_wave_are_no_second_start() -> None:
    timeline = two_waves((WAVE_1[1], start_recovery(1, error="ThrottlingException"), None),
                         (WAVE_1[1], start_recovery(1, execution="e-other"), None),
                         (WAVE_1[1], start_recovery(1, chunk=1), None))
    result = check(timeline, LINK)
    assert result.status == PASS and result.evidence == "waves 0, 1, 1 chunk 1 started once each"


def test_without_tags_the_waves_servers_name_it_while_the_execution_is_active() -> None:
    timeline = two_waves()
    for each in timeline["steps"]:
        for made in each["calls"]:
            made["params"].pop("tags", None)
    assert check(timeline, LINK).status == PASS
    timeline["steps"][WAVE_1[1]]["calls"].append(start_recovery(1, execution=None))
    result = check(timeline, LINK)
    assert result.status == FAIL and result.evidence.startswith("wave 1 started 2 times: StartRecovery at t+600s")
    timeline["steps"][0]["calls"].append(start_recovery(0, execution=None))  # before this execution existed
    assert "wave 0" not in check(timeline, LINK).evidence
