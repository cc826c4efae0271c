"""Lambda runtime failures of each side (import errors, unhandled exceptions, timeouts), from the status tracks."""

from __future__ import annotations

from typing import Any

from drs_parity.gate.results import ScenarioResult
from drs_parity.report.swimlane import tracks_of

MESSAGE_LIMIT = 160  # characters of an error message on the terminal


def runtime_failures(result: ScenarioResult, left: str, right: str) -> list[dict[str, Any]]:
    """Every failed invocation of both sides: side, step, function, trigger, error type, message, last trace line."""
    return [{"side": side, "step": step["index"], "stepName": step["name"], **failure}
            for side, track in zip((left, right), tracks_of(result))
            for step in track for failure in step["failures"]]


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message on one line, cut at `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def failure_text(failure: dict[str, Any]) -> str:
    """`function (trigger): Type: message`."""
    return f"{failure['function']} ({failure['trigger']}): {failure['type']}: {one_line(failure['message'])}"


def failure_items(result: ScenarioResult, left: str, right: str) -> list[str | tuple[str, list[str]]]:
    """The report's list: one item per failure, its last traceback line beneath."""
    items: list[str | tuple[str, list[str]]] = []
    for failure in runtime_failures(result, left, right):
        text = (f"{failure['side']}, step {failure['step']} `{failure['stepName']}`: `{failure['function']}` "
                f"(trigger `{failure['trigger']}`) — **{failure['type']}**: `{one_line(failure['message'], 300)}`")
        items.append((text, [f"last traceback line: `{failure['trace']}`"]) if failure["trace"] else text)
    return items


def failure_line(result: ScenarioResult, left: str, right: str) -> str | None:
    """The terminal's line for a scenario with failed invocations: how many, by side, and the first failure."""
    failures = runtime_failures(result, left, right)
    if not failures:
        return None
    sides = ", ".join(f"{side} {sum(1 for f in failures if f['side'] == side)}"
                      for side in dict.fromkeys(f["side"] for f in failures))
    first = failures[0]
    return (f"{result.scenario}: Lambda runtime failures ({sides}); first: {first['side']} step {first['step']} "
            f"{failure_text(first)}")
