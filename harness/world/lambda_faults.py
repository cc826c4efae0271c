"""Lambda's scripted faults: async events delivered twice, invocations throttled, and timeouts as Lambda ends them."""

from __future__ import annotations

from dataclasses import dataclass, field

from drs_parity.world.fault_window import Window
from drs_parity.world.functions import Invocation

TIMEOUT_ERROR_TYPE = "Sandbox.Timedout"  # what Lambda reports for an invocation it ended at the function's timeout


class FunctionTimedOut(BaseException):
    """Raised into a handler at its first AWS call past its scripted timeout point, so nothing after it runs.

    A BaseException: Lambda's timeout ends the runtime, the handler's own `except Exception` cannot catch it.
    """


def stop_at_timeout_point(invocation: Invocation) -> None:
    """Before `invocation` makes an AWS call: past its scripted timeout point, the call never reaches AWS."""
    if invocation.timeout_after_calls is not None and len(invocation.calls) >= invocation.timeout_after_calls:
        raise FunctionTimedOut()


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, str]:
    """The error of an invocation Lambda ended at the function's timeout, as the runtime reports it."""
    return {"type": TIMEOUT_ERROR_TYPE,
            "message": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds"}


@dataclass
class _Duplicates:
    window: Window
    delay: float  # seconds after the original that the copy is delivered


@dataclass
class _Timeouts:
    targets: frozenset[str]
    start: float
    first: int  # the first invocation (1-based, counted from `start`) that times out
    count: int  # how many in a row
    after_calls: int  # AWS calls each completes before Lambda ends it
    triggers: frozenset[str] | None  # the invocations counted, by trigger; None: all
    seen: dict[str, int] = field(default_factory=dict)  # function -> invocations counted so far

    def point(self, function: str, trigger: str, now: float) -> int | None:
        if function not in self.targets or now < self.start or self.triggers and trigger not in self.triggers:
            return None
        number = self.seen[function] = self.seen.get(function, 0) + 1
        return self.after_calls if self.first <= number < self.first + self.count else None


class LambdaFaults:
    """The Lambda faults of one world, by physical function name; an empty one changes nothing."""

    def __init__(self) -> None:
        self._duplicates: list[_Duplicates] = []
        self._throttles: list[Window] = []
        self._timeouts: list[_Timeouts] = []

    def add_duplicates(self, window: Window, delay: float) -> None:
        """The next asynchronous events of the window's functions are each delivered a second time."""
        self._duplicates.append(_Duplicates(window, delay))

    def add_throttle(self, window: Window) -> None:
        """The window's next requests to run its functions are throttled (each attempt is one request)."""
        self._throttles.append(window)

    def add_timeouts(self, functions: frozenset[str], start: float, first: int, count: int, after_calls: int,
                     triggers: frozenset[str] | None = None) -> None:
        """Invocations `first` .. `first + count - 1` of the functions from `start` on (of `triggers`, None: any)
        time out after `after_calls` AWS calls."""
        self._timeouts.append(_Timeouts(functions, start, first, count, after_calls, triggers))

    def copy_delays(self, function: str, now: float) -> list[float]:
        """For an asynchronous event queued now: the delay of each extra copy Lambda delivers."""
        return [duplicates.delay for duplicates in self._duplicates if duplicates.window.take(function, now)]

    def throttle_pending(self, function: str, now: float) -> bool:
        return any(window.hits(function, now) for window in self._throttles)

    def throttled(self, function: str, now: float) -> bool:
        """Whether a request to run `function` now is throttled (it uses one throttled request up)."""
        return any(window.take(function, now) for window in self._throttles)

    def timeout_point(self, function: str, trigger: str, now: float) -> int | None:
        """For an invocation starting now: the AWS calls it completes before Lambda ends it, or None."""
        points = [timeouts.point(function, trigger, now) for timeouts in self._timeouts]
        return min((point for point in points if point is not None), default=None)
