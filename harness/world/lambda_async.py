"""Lambda's async event queue as AWS runs it: retries, throttled events put back, event age, destination records."""

from __future__ import annotations

import collections
import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from drs_parity.world.clock import TimerHandle, VirtualClock
from drs_parity.world.functions import Invocation
from drs_parity.world.invoke import error_payload
from drs_parity.world.lambda_faults import LambdaFaults
from drs_parity.world.runtime import RuntimeFailure, marshal

# AWS Lambda developer guide, "How Lambda handles errors and retries with asynchronous invocation": two more
# attempts, one minute after the first and two minutes after the second; throttled events go back to the queue
# and are retried from 1 second on, the interval doubling up to 5 minutes, for up to 6 hours by default.
RETRY_DELAYS = (60.0, 120.0)
THROTTLE_FIRST_BACKOFF, THROTTLE_MAX_BACKOFF = 1.0, 300.0
DEFAULT_MAX_EVENT_AGE = 21600

SUCCESS, RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = "Success", "RetriesExhausted", "EventAgeExceeded"


@dataclass(frozen=True)
class AsyncConfig:
    """A function's AWS::Lambda::EventInvokeConfig (its defaults when it has none)."""

    max_retry_attempts: int = 2
    max_event_age: int = DEFAULT_MAX_EVENT_AGE
    on_success: str | None = None  # destination ARNs
    on_failure: str | None = None

    def destination(self, condition: str) -> str | None:
        return self.on_success if condition == SUCCESS else self.on_failure


@dataclass
class AsyncEvent:
    """One event in the queue: every attempt to run it is an invocation with the event's request id."""

    function: str
    payload: Any
    request_id: str
    trigger: str
    queued_at: float
    duplicate: bool = False  # a second delivery of an event Lambda already delivered
    runs: int = 0  # attempts that ran the function
    throttles: int = 0  # attempts that were throttled
    last: Invocation | None = None  # the last attempt that ran
    prepared: Invocation | None = None  # the first attempt's invocation, made when the event was queued

    def delivery(self) -> Invocation:
        """The invocation of the event's next attempt, with its own copy of the payload: Lambda deserialises the
        event for every delivery, so a handler that mutates its event never sees that on a retry or a duplicate."""
        invocation = self.prepared or Invocation(function=self.function, trigger=self.trigger, event=None,
                                                 request_id=self.request_id)
        self.prepared = None
        invocation.event = delivered_payload(self.payload)
        invocation.attempt, invocation.duplicate = self.runs + 1, self.duplicate
        return invocation


def delivered_payload(payload: Any) -> Any:
    """A payload as one delivery hands it to the handler: through JSON, as Lambda sends it (a deep copy where the
    harness itself queued something JSON cannot carry)."""
    try:
        return marshal(payload)
    except RuntimeFailure:
        return copy.deepcopy(payload)


def throttle_backoff(throttles: int) -> float:
    """The wait before the next attempt of an event throttled `throttles` times."""
    return min(THROTTLE_FIRST_BACKOFF * 2 ** (throttles - 1), THROTTLE_MAX_BACKOFF)


def invocation_record(event: AsyncEvent, condition: str, function_arn: str, timestamp: str) -> dict[str, Any]:
    """What a destination receives (the developer guide's "invocation record"); an event that never ran has no
    response."""
    record: dict[str, Any] = {
        "version": "1.0", "timestamp": timestamp,
        "requestContext": {"requestId": event.request_id, "functionArn": f"{function_arn}:$LATEST",
                           "condition": condition, "approximateInvokeCount": event.runs},
        "requestPayload": event.payload,
    }
    if event.last is not None:
        failed = event.last.error is not None
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST",
                                     **({"functionError": "Unhandled"} if failed else {})}
        record["responsePayload"] = error_payload(event.last) if failed else event.last.result
    return record


Runner = Callable[[AsyncEvent], Invocation]  # runs one attempt of the event, returns its invocation
Action = Callable[[Callable[[], None]], None]  # does something as a top-level action (the queue drained after)
Finisher = Callable[[AsyncEvent, str, AsyncConfig], None]  # the event is done: its condition and its config


class AsyncQueue:
    """The asynchronous events of one world: ready ones run first in first out; retries wait on the clock."""

    def __init__(self, clock: VirtualClock, run: Runner, action: Action, faults: LambdaFaults,
                 finish: Finisher) -> None:
        self.configs: dict[str, AsyncConfig] = {}  # function name -> its EventInvokeConfig
        self._clock = clock
        self._run = run
        self._action = action
        self._faults = faults
        self._finish = finish
        self._ready: collections.deque[AsyncEvent] = collections.deque()
        self._timers: list[TimerHandle] = []

    def __len__(self) -> int:
        return len(self._ready)

    def next_function(self) -> str | None:
        return self._ready[0].function if self._ready else None

    def submit(self, event: AsyncEvent) -> None:
        """Queue `event` now, and the copies of it a duplicate-delivery fault makes."""
        now = self._clock.now()
        self._ready.append(event)
        for delay in self._faults.copy_delays(event.function, now):
            copy = dataclasses.replace(event, duplicate=True, prepared=None)
            if delay > 0:
                self._later(copy, now + delay)
            else:
                self._ready.append(copy)

    def run_next(self) -> bool:
        """Attempt the first ready event; False when none is ready."""
        if not self._ready:
            return False
        event = self._ready.popleft()
        now = self._clock.now()
        if self._faults.throttled(event.function, now):
            event.throttles += 1
            self._later(event, now + throttle_backoff(event.throttles))
            return True
        event.last = self._run(event)
        event.runs += 1
        config = self.configs.get(event.function, AsyncConfig())
        if event.last.error is None:
            self._finish(event, SUCCESS, config)
        elif event.runs <= min(config.max_retry_attempts, len(RETRY_DELAYS)):
            self._later(event, now + RETRY_DELAYS[event.runs - 1])
        else:
            self._finish(event, RETRIES_EXHAUSTED, config)
        return True

    def _later(self, event: AsyncEvent, when: float) -> None:
        """Queue `event` again at `when`, or discard it at its maximum age if that comes first."""
        config = self.configs.get(event.function, AsyncConfig())
        expiry = event.queued_at + config.max_event_age
        if when > expiry:
            self._at(expiry, lambda: self._finish(event, EVENT_AGE_EXCEEDED, config), f"expire:{event.function}")
        else:
            self._at(when, lambda: self._ready.append(event), f"retry:{event.function}")

    def _at(self, when: float, callback: Callable[[], None], name: str) -> None:
        self._timers.append(self._clock.call_at(max(when, self._clock.now()), lambda: self._action(callback), name))

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        self._ready.clear()
