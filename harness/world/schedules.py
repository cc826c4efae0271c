"""EventBridge schedules: rate and cron expressions, ticks on the virtual clock, scripted late, skipped or doubled."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from drs_parity.world.clock import TimerHandle, VirtualClock
from drs_parity.world.fault_window import Window
from drs_parity.world.functions import ScheduleRule

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_WEEKDAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
# (name, lowest, highest, names) for cron's six fields: minutes hours day-of-month month day-of-week year
_CRON_FIELDS = (("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
                ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _WEEKDAYS), ("year", 1970, 2199, {}))


class Schedule:
    """A parsed EventBridge schedule expression: `next_after(t)` is the first firing strictly after t."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._period: int | None = None
        self._fields: list[set[int] | None] = []
        if (rate := _RATE.match(expression)) is not None:
            self._period = _rate_period(expression, int(rate.group(1)), rate.group(2))
        elif (cron := _CRON.match(expression)) is not None:
            self._fields = _cron_fields(expression, cron.group(1).split())
        else:
            raise ValueError(f"invalid schedule expression {expression!r}: expected rate(N unit) or cron(6 fields)")

    def next_after(self, when: float) -> float:
        if self._period is not None:
            return when + self._period
        return _next_cron_minute(self._fields, when, self.expression)


def _rate_period(expression: str, value: int, unit: str) -> int:
    singular = unit.rstrip("s")
    if value <= 0:
        raise ValueError(f"invalid schedule expression {expression!r}: the rate must be positive")
    if (value == 1) != (unit == singular):  # EventBridge: "1 minute" but "5 minutes"
        raise ValueError(f"invalid schedule expression {expression!r}: use '{singular}' for 1, '{singular}s' above")
    return value * _UNIT_SECONDS[singular]


def _cron_fields(expression: str, parts: list[str]) -> list[set[int] | None]:
    if len(parts) != 6:
        raise ValueError(f"invalid schedule expression {expression!r}: cron needs 6 fields, got {len(parts)}")
    fields = [_cron_field(expression, part, spec) for part, spec in zip(parts, _CRON_FIELDS)]
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ValueError(f"invalid schedule expression {expression!r}: exactly one of day-of-month and "
                         "day-of-week must be '?'")
    return fields


def _cron_field(expression: str, text: str, spec: tuple[str, int, int, dict[str, int]]) -> set[int] | None:
    """The allowed values of one field; None means any value ('*' or '?')."""
    name, low, high, names = spec
    if text in ("*", "?"):
        return None
    allowed: set[int] = set()
    for item in text.split(","):
        allowed |= _cron_item(expression, item, name, low, high, names)
    return allowed


def _cron_item(expression: str, item: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    def number(token: str) -> int:
        value = names.get(token.upper()) if token.upper() in names else (int(token) if token.isdigit() else None)
        if value is None or not low <= value <= high:
            raise ValueError(f"invalid schedule expression {expression!r}: {name} value {token!r} "
                             f"is not in {low}-{high}")
        return value

    base, _, step_text = item.partition("/")
    step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
    if step_text and step is None:
        raise ValueError(f"invalid schedule expression {expression!r}: bad step in {name} {item!r}")
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, last = base.split("-", 1)
        start, end = number(first), number(last)
    else:
        start = number(base)
        end = high if step else start
    return set(range(start, end + 1, step or 1))


def _cron_allows(fields: list[set[int] | None], moment: dt.datetime) -> tuple[bool, bool, bool, bool]:
    """Whether (year+month, day, hour, minute) of `moment` are allowed."""
    minutes, hours, days, months, weekdays, years = fields
    weekday = (moment.weekday() + 1) % 7 + 1  # EventBridge: 1 = SUN
    month_ok = (months is None or moment.month in months) and (years is None or moment.year in years)
    day_ok = (days is None or moment.day in days) and (weekdays is None or weekday in weekdays)
    return month_ok, day_ok, hours is None or moment.hour in hours, minutes is None or moment.minute in minutes


def _next_cron_minute(fields: list[set[int] | None], when: float, expression: str) -> float:
    moment = dt.datetime.fromtimestamp((int(when) // 60 + 1) * 60, tz=dt.timezone.utc)
    for _ in range(200_000):  # jumps by month/day/hour, so this covers far more than a century
        month_ok, day_ok, hour_ok, minute_ok = _cron_allows(fields, moment)
        if not month_ok:
            moment = (moment.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
        elif not day_ok:
            moment = moment.replace(hour=0, minute=0) + dt.timedelta(days=1)
        elif not hour_ok:
            moment = moment.replace(minute=0) + dt.timedelta(hours=1)
        elif not minute_ok:
            moment += dt.timedelta(minutes=1)
        else:
            return moment.timestamp()
        if moment.year > 2199:
            break
    raise ValueError(f"schedule expression {expression!r} never fires")


# -- ticks on the clock ------------------------------------------------------------------------------------------------
TickDelivery = Callable[[ScheduleRule, float, int], None]  # (rule, the tick's scheduled time, deliveries of it)
TICK_FAULTS = ("late", "skip", "double")


@dataclass
class _TickFault:
    kind: str  # late | skip | double
    window: Window  # of rule names
    delay: float = 0.0  # late: seconds after the tick's time


class ScheduleRunner:
    """Every ENABLED rule ticking on the clock; a tick is delivered on time, or late, skipped or twice as scripted."""

    def __init__(self, clock: VirtualClock, deliver: TickDelivery) -> None:
        self._clock = clock
        self._deliver = deliver
        self._faults: list[_TickFault] = []
        self._timers: list[TimerHandle] = []

    def add_fault(self, kind: str, window: Window, delay: float = 0.0) -> None:
        if kind not in TICK_FAULTS:
            raise ValueError(f"unknown tick fault {kind!r}: valid are {', '.join(TICK_FAULTS)}")
        self._faults.append(_TickFault(kind, window, delay))

    def start(self, rules: list[ScheduleRule]) -> None:
        """The first tick is one period (or the next cron minute) away; ValueError naming a rule that cannot tick."""
        for rule in rules:
            if rule.state == "ENABLED":
                try:
                    schedule = Schedule(rule.expression)
                except ValueError as exc:
                    raise ValueError(f"rule {rule.name}: {exc}") from exc
                self._arm(rule, schedule, schedule.next_after(self._clock.now()))

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def _arm(self, rule: ScheduleRule, schedule: Schedule, when: float) -> None:
        def tick() -> None:
            self._arm(rule, schedule, schedule.next_after(when))
            self._tick(rule, when)

        self._timers.append(self._clock.call_at(when, tick, name=f"rule:{rule.name}"))

    def _tick(self, rule: ScheduleRule, when: float) -> None:
        fault = next((fault for fault in self._faults if fault.window.take(rule.name, when)), None)
        if fault is None:
            self._deliver(rule, when, 1)
        elif fault.kind == "late":
            self._timers.append(self._clock.call_at(when + fault.delay, lambda: self._deliver(rule, when, 1),
                                                    name=f"late:{rule.name}"))
        elif fault.kind == "double":
            self._deliver(rule, when, 2)
