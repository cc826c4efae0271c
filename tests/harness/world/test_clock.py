"""The virtual clock: timers fire at their own time in order, repeat, cancel, and the process sees virtual time."""

import datetime as dt
import time

import pytest

from drs_parity.world.clock import DEFAULT_START, VirtualClock


def test_timers_fire_at_their_own_time_in_time_then_registration_order() -> None:
    clock = VirtualClock()
    fired: list[tuple[str, float]] = []
    clock.call_at(DEFAULT_START + 30, lambda: fired.append(("b", clock.now())))
    clock.call_at(DEFAULT_START + 10, lambda: fired.append(("a", clock.now())))
    clock.call_at(DEFAULT_START + 30, lambda: fired.append(("c", clock.now())))

    clock.advance(60)

    assert fired == [("a", DEFAULT_START + 10), ("b", DEFAULT_START + 30), ("c", DEFAULT_START + 30)]
    assert clock.now() == DEFAULT_START + 60 and clock.elapsed() == 60


def test_a_repeating_timer_fires_every_period_until_cancelled() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    handle = clock.call_every(60, lambda: fired.append(clock.elapsed()), name="tick")

    clock.advance(185)
    handle.cancel()
    clock.advance(600)

    assert fired == [60, 120, 180] and handle.name == "tick"


def test_a_timer_scheduled_by_a_timer_fires_in_the_same_advance() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    clock.call_at(DEFAULT_START + 5, lambda: clock.call_at(clock.now() + 5, lambda: fired.append(clock.elapsed())))

    clock.advance(20)

    assert fired == [10]


def test_the_clock_never_goes_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance_to(DEFAULT_START - 1)
    with pytest.raises(ValueError):
        clock.call_every(0, lambda: None)


def test_installed_the_process_sees_virtual_time_and_nothing_sleeps() -> None:
    clock = VirtualClock(DEFAULT_START)
    with clock.installed():
        assert time.time() == DEFAULT_START
        clock.advance(3600)
        assert time.time() == DEFAULT_START + 3600
        assert dt.datetime.now(dt.timezone.utc) == dt.datetime.fromtimestamp(DEFAULT_START + 3600, dt.timezone.utc)
    assert abs(time.time() - DEFAULT_START) > 3600  # back to real time outside
    assert clock.isoformat(DEFAULT_START) == "2026-01-15T10:00:00Z"
