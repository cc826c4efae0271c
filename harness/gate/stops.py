"""Sides the system stopped early: the divergence one stop makes, and the scenario error when both refused alike."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from drs_parity.compare.diff import STEPS_KIND
from drs_parity.compare.divergence import Divergence
from drs_parity.run.capture import Stop

STOPPED = "stopped"  # marks the stopped side's response in a stop divergence's values
STOP_PATH = re.compile(r"^steps\[(\d+)\]\.stopped\[(.*)\]$", re.DOTALL)  # steps[N].stopped[METHOD path]
BODY_LIMIT = 80  # characters of the refusing body in the scenario's error (the timeline keeps it whole)
Response = tuple[str, dict[str, Any]]  # (`METHOD path` as normalised, {"status", "body"})


def stop_path(step: int, request: str) -> str:
    """The path of the stop divergence at `step` for `request`."""
    return f"steps[{step}].{STOPPED}[{request}]"


def stopped_request(d: Divergence) -> str | None:
    """The refused request a stop divergence names (None for any other divergence)."""
    match = STOP_PATH.match(d.path) if d.kind == STEPS_KIND else None
    return match.group(2) if match else None


def step_at(normalised: Mapping[str, Any], step: int) -> Mapping[str, Any] | None:
    """The step with index `step` of a normalised timeline (None: the side did not get that far)."""
    return next((found for found in normalised.get("steps") or [] if found.get("index") == step), None)


def response_at(normalised: Mapping[str, Any], step: int, position: int) -> Response | None:
    """The `position`-th API response captured at `step` of a normalised timeline (None: no such step or response)."""
    entries = list(((step_at(normalised, step) or {}).get("api") or {}).items())
    return entries[position] if position < len(entries) else None


def stop_divergences(scenario: str, left: Mapping[str, Any], right: Mapping[str, Any], left_stop: Stop | None,
                     right_stop: Stop | None) -> list[Divergence]:
    """For each side that stopped, one divergence at the step of the refusing response: both sides' answers to that
    request side by side, the stopped side's marked `stopped`. A stop past the other side's last step is left to the
    step-count divergence (the other side stopped earlier, its own stop divergence says why)."""
    divergences: dict[tuple[int, int], Divergence] = {}
    for stop, other in ((left_stop, right), (right_stop, left)):
        if stop is None or refused_at(stop) in divergences or step_at(other, stop.response_step) is None:
            continue
        divergences[refused_at(stop)] = stop_divergence(scenario, left, right, stop, (left_stop, right_stop))
    return list(divergences.values())


def stop_divergence(scenario: str, left: Mapping[str, Any], right: Mapping[str, Any], stop: Stop,
                    stops: tuple[Stop | None, Stop | None]) -> Divergence:
    """The stop divergence of `stop`: each side's answer at the refusing response's place, stopped ones marked."""
    responses = [response_at(side, *refused_at(stop)) for side in (left, right)]
    request = next((response[0] for response in responses if response is not None), "api")  # api not compared
    values = [None if response is None else {**response[1], **({STOPPED: True} if marks(side_stop, stop) else {})}
              for response, side_stop in zip(responses, stops)]
    name = str((step_at(left, stop.response_step) or step_at(right, stop.response_step) or {}).get("name"))
    return Divergence(scenario, STEPS_KIND, stop_path(stop.response_step, request), values[0], values[1],
                      stop.response_step, name,
                      left_absent=responses[0] is None, right_absent=responses[1] is None)


def refused_at(stop: Stop) -> tuple[int, int]:
    """Where the refusing response is: (step, position in that step's API responses)."""
    return (stop.response_step, stop.response_index)


def marks(side_stop: Stop | None, stop: Stop) -> bool:
    """Whether a side's own stop was refused at the same response as `stop`."""
    return side_stop is not None and refused_at(side_stop) == refused_at(stop)


def both_refused(left: Mapping[str, Any], right: Mapping[str, Any], left_stop: Stop | None,
                 right_stop: Stop | None) -> str | None:
    """The scenario's error when both sides stopped at the same step on equal answers: nothing was compared, so it
    is no parity; the scenario, or both systems, are wrong. None otherwise (no stop, or stops that differ)."""
    if left_stop is None or right_stop is None or (left_stop.step, refused_at(left_stop)) != (
            right_stop.step, refused_at(right_stop)):
        return None
    answers = [response_at(side, *refused_at(left_stop)) for side in (left, right)]
    if answers[0] != answers[1]:
        return None
    step = left_stop.response_step
    where = "setup" if step == 0 else f"step {step} `{(step_at(left, step) or {}).get('name')}`"
    return f"both sides refused {where}: {refusal_text(answers[0], left_stop)}: the scenario or both systems are wrong"


def refusal_text(answer: Response | None, stop: Stop) -> str:
    """`POST /x answered 500 {...}` (the body cut), normalised; the stop's own reason when the API is not compared."""
    if answer is None:
        return stop.reason
    request, value = answer
    body = json.dumps(value.get("body"), sort_keys=True, default=str)
    body = body if len(body) <= BODY_LIMIT else body[:BODY_LIMIT] + "…"
    return f"{request} answered {value.get('status')} {body}"
