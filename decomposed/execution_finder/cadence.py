"""When an execution is due for a poll (pure): adaptive intervals on a once-a-minute schedule."""

from typing import Any

from shared.domain.lifecycle import CANCELLING, LAUNCHING

# Launching servers and cancellations change quickly: poll every minute (every schedule tick).
FAST_POLL_INTERVAL_SECONDS = 60
# A wave STARTED whose DRS job is still PENDING: snapshot conversion takes minutes.
SLOW_POLL_INTERVAL_SECONDS = 120
# Schedule ticks do not arrive exactly on the minute; a poll a few seconds early still counts as due.
TICK_JITTER_SECONDS = 10


def poll_interval(execution: dict[str, Any]) -> int:
    if execution.get("status") == CANCELLING or _current_wave_status(execution) == LAUNCHING:
        return FAST_POLL_INTERVAL_SECONDS
    return SLOW_POLL_INTERVAL_SECONDS


def _current_wave_status(execution: dict[str, Any]) -> str | None:
    waves = execution.get("waves") or []
    current = execution.get("currentWave")
    if current is None or not 0 <= int(current) < len(waves):
        return None
    return waves[int(current)].get("status")


def seconds_since_poll(execution: dict[str, Any], now: int) -> int | None:
    last = execution.get("lastPolledTime")
    return None if last is None else now - int(last)


def is_due(execution: dict[str, Any], now: int) -> bool:
    elapsed = seconds_since_poll(execution, now)
    return elapsed is None or elapsed >= poll_interval(execution) - TICK_JITTER_SECONDS


def polling_order(executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(executions, key=lambda item: (item.get("startTime") or 0, item["executionId"]))
