"""The virtual clock: the one notion of time that the world, DRS, the function host and the code under test share."""

from __future__ import annotations

import contextlib
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

import time_machine

# 2026-01-15T10:00:00Z: a fixed, recognisable start so runs are reproducible.
DEFAULT_START = 1768471200


@dataclass(order=True)
class _Timer:
    when: float
    seq: int
    name: str = field(compare=False)
    callback: Callable[[], None] = field(compare=False)
    period: float | None = field(compare=False, default=None)
    cancelled: bool = field(compare=False, default=False)


class TimerHandle:
    """Lets the owner of a timer cancel it."""

    def __init__(self, timer: _Timer) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer.cancelled = True

    @property
    def name(self) -> str:
        return self._timer.name


class VirtualClock:
    """Time that only moves when told to; timers fire in (time, registration) order, so runs are deterministic."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self.start = float(start)
        self._now = float(start)
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._traveller: time_machine.Coordinates | None = None
        self.fired: list[str] = []  # the name of every timer fired, in order (who may have changed the world)

    # -- reading -------------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self._now

    def now_int(self) -> int:
        return int(self._now)

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return self._now - self.start

    def isoformat(self, when: float | None = None) -> str:
        moment = self._now if when is None else when
        return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    # -- timers --------------------------------------------------------------------------------------------------
    def call_at(self, when: float, callback: Callable[[], None], name: str = "") -> TimerHandle:
        timer = _Timer(float(when), next(self._seq), name, callback)
        heapq.heappush(self._timers, timer)
        return TimerHandle(timer)

    def call_every(
        self, period: float, callback: Callable[[], None], first: float | None = None, name: str = ""
    ) -> TimerHandle:
        if period <= 0:
            raise ValueError("period must be positive")
        when = self._now + period if first is None else float(first)
        timer = _Timer(when, next(self._seq), name, callback, period=float(period))
        heapq.heappush(self._timers, timer)
        return TimerHandle(timer)

    def forget_timers(self) -> None:
        """Drop every pending timer (its world stopped): their callbacks hold the world's parts, which then hold
        the clock, a cycle only the cycle collector would free."""
        for timer in self._timers:
            timer.cancelled = True
        self._timers.clear()

    # -- moving ----------------------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock never goes backwards")
        self.advance_to(self._now + seconds)

    def advance_to(self, when: float) -> None:
        """Move to `when`, firing every timer due on the way at its own time."""
        if when < self._now:
            raise ValueError("the clock never goes backwards")
        while True:
            self._drop_cancelled()
            if not self._timers or self._timers[0].when > when:
                break
            timer = heapq.heappop(self._timers)
            self._set(timer.when)
            self.fired.append(timer.name)
            if timer.period is not None:
                timer.when += timer.period
                timer.seq = next(self._seq)
                heapq.heappush(self._timers, timer)
            timer.callback()
        self._set(when)

    def _drop_cancelled(self) -> None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)

    def _set(self, when: float) -> None:
        self._now = max(self._now, when)
        if self._traveller is not None:
            self._traveller.move_to(self._now)

    # -- making the process see it -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def installed(self) -> Iterator["VirtualClock"]:
        """While active, time.time(), datetime.now() and friends report virtual time (nothing really sleeps)."""
        if self._traveller is not None:
            yield self
            return
        travel = time_machine.travel(self._now, tick=False)
        self._traveller = travel.start()
        try:
            yield self
        finally:
            travel.stop()
            self._traveller = None
