"""Retry and Catch as Step Functions applies them: which handler matches an error, and the backoff before a retry."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from drs_parity.world.stepfunctions.errors import ALL, RUNTIME, TASK_FAILED, TIMEOUT

DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
# Terminal errors: no retrier or catcher takes them, the execution fails (AWS: "always cause the execution to fail").
TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})
DEFAULT_INTERVAL = 1
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0


def matches(error: str, error_equals: Sequence[str]) -> bool:
    """Whether a handler's ErrorEquals takes `error`: by name, States.ALL, or States.TaskFailed (all but Timeout)."""
    if error in TERMINAL:
        return False
    if ALL in error_equals or error in error_equals:
        return True
    return TASK_FAILED in error_equals and error != TIMEOUT


def find_handler(handlers: Sequence[Mapping[str, Any]], error: str) -> int | None:
    """The index of the first handler (retrier or catcher) that takes `error`, or None."""
    for index, handler in enumerate(handlers):
        if matches(error, handler["ErrorEquals"]):
            return index
    return None


def max_attempts(retrier: Mapping[str, Any]) -> int:
    return int(retrier.get("MaxAttempts", DEFAULT_ATTEMPTS))


def retry_delay(retrier: Mapping[str, Any], retries_done: int) -> float:
    """Seconds before retry number `retries_done + 1`: IntervalSeconds × BackoffRate^retries_done, capped.

    JitterStrategy is ignored: a FULL jitter would make the schedule random, and runs must be reproducible.
    """
    delay = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL)) * float(
        retrier.get("BackoffRate", DEFAULT_BACKOFF)
    ) ** retries_done
    cap = retrier.get("MaxDelaySeconds")
    return min(delay, float(cap)) if cap is not None else delay


def error_output(error: str, cause: str) -> dict[str, str]:
    """What a catcher hands on: {"Error": ..., "Cause": ...}, an empty string for either one not given, as AWS does."""
    return {"Error": error, "Cause": cause}
