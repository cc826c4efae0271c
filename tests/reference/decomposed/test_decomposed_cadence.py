"""The finder's cadence: an execution is polled at its phase's interval, not at every one-minute tick."""

import pytest

from tests.reference.code_packages import decomposed

cadence = decomposed("ExecutionFinderFunction", "cadence")

START = 1_768_471_200


def execution(status="POLLING", wave_status="STARTED", last_polled=None):
    return {"executionId": "e", "status": status, "currentWave": 0, "lastPolledTime": last_polled,
            "waves": [{"status": wave_status}]}


@pytest.mark.parametrize("status, wave_status, interval", [
    ("POLLING", "STARTED", 120), ("POLLING", "LAUNCHING", 60), ("CANCELLING", "STARTED", 60),
    ("CANCELLING", "LAUNCHING", 60)])
def test_interval_by_phase(status, wave_status, interval):
    assert cadence.poll_interval(execution(status, wave_status)) == interval


def test_never_polled_is_due():
    assert cadence.is_due(execution(), START)


@pytest.mark.parametrize("wave_status, elapsed, due", [
    ("STARTED", 109, False), ("STARTED", 110, True), ("STARTED", 60, False),
    ("LAUNCHING", 49, False), ("LAUNCHING", 50, True), ("LAUNCHING", 60, True)])
def test_due_with_tick_jitter(wave_status, elapsed, due):
    assert cadence.is_due(execution(wave_status=wave_status, last_polled=START), START + elapsed) is due


@pytest.mark.parametrize("wave_status, tick_jitter, expected_gaps", [
    ("STARTED", 0, [120, 120, 120]),
    ("STARTED", 3, [120, 120, 120]),   # ticks a few seconds late still poll every second tick
    ("LAUNCHING", 0, [60, 60, 60]),
])
def test_simulated_ticks_poll_at_the_stated_interval(wave_status, tick_jitter, expected_gaps):
    item = execution(wave_status=wave_status)
    polls = []
    for tick in range(1, 8):
        now = START + tick * 60 + (tick % 2) * tick_jitter
        if cadence.is_due(item, now):
            polls.append(now)
            item["lastPolledTime"] = now
    gaps = [b - a for a, b in zip(polls, polls[1:])][:3]
    assert [round(gap, -1) for gap in gaps] == expected_gaps


def test_polling_order_is_start_time_then_id():
    items = [{"executionId": "b", "startTime": 2}, {"executionId": "c", "startTime": 1},
             {"executionId": "a", "startTime": 2}]
    assert [item["executionId"] for item in cadence.polling_order(items)] == ["c", "a", "b"]
