"""A scenario's `expect` and until conditions checked against a side's timeline: every way the run missed them."""

from __future__ import annotations

from typing import Any, Iterator

from drs_parity.fixtures.fields import format_duration
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.run.capture import Timeline


def check_expectations(scenario: Scenario, timeline: Timeline) -> list[str]:
    """Every way the run missed the scenario's `expect` (or an until condition); empty when all were met."""
    problems = list(_unmet_until_steps(timeline))
    expect = scenario.expect
    if expect.status is None and expect.waves is None and not expect.servers:
        return problems
    item = _final_execution_item(timeline)
    if item is None:
        return problems + ["no execution was started (or its item is missing from execution-history)"]
    if expect.status is not None and item.get("status") != expect.status:
        problems.append(f"execution status is {item.get('status')}, expected {expect.status}")
    waves = item.get("waves") or []
    if expect.waves is not None:
        problems.extend(_wave_problems(waves, expect.waves))
    problems.extend(_server_problems(waves, expect.servers))
    return problems


def _unmet_until_steps(timeline: Timeline) -> Iterator[str]:
    for step in timeline.steps:
        if step.until is not None and step.until["outcome"] != "met":
            yield (f"step {step.index} ({step.name}): not met after {format_duration(step.until['waited'])}, "
                   f"status {step.until['status']}")


def _final_execution_item(timeline: Timeline) -> dict[str, Any] | None:
    """The current execution at the last step as users see it (the console's GET /executions/{id}, whose waves hold
    their serverStatuses), else its item in execution-history."""
    if not timeline.steps or timeline.current_execution is None:
        return None
    details = f"/executions/{timeline.current_execution}"
    seen = [record["body"] for record in timeline.steps[-1].api
            if record.get("method") == "GET" and record.get("path") == details and record.get("status") == 200]
    if seen and isinstance(seen[-1], dict):
        return seen[-1]
    items = timeline.steps[-1].tables.get("execution-history", [])
    return next((item for item in items if item.get("executionId") == timeline.current_execution
                 and "waves" in item), None)  # not one of its server items


def _wave_problems(waves: list[dict[str, Any]], expected: tuple[str, ...]) -> Iterator[str]:
    if len(waves) != len(expected):
        yield f"the execution has {len(waves)} waves, expected {len(expected)}"
    for number, (wave, status) in enumerate(zip(waves, expected)):
        if wave.get("status") != status:
            yield f"wave {number} ({wave.get('waveName')}) is {wave.get('status')}, expected {status}"


def _server_problems(waves: list[dict[str, Any]], expected: dict[str, str]) -> Iterator[str]:
    actual = {server.get("sourceServerId"): server.get("launchStatus")
              for wave in waves for server in wave.get("serverStatuses") or ()}
    for server_id, status in expected.items():
        if actual.get(server_id) != status:
            yield f"server {server_id} launchStatus is {actual.get(server_id) or 'absent'}, expected {status}"


