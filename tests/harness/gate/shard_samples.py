"""Stand-in sides for sharded runs and merges: the sample timeline, one scenario divergent, one with a failure."""

from __future__ import annotations

from typing import Any

from drs_parity.compare.divergence import Rule
from drs_parity.compare.rules import RuleSet
from tests.harness.compare.parity_samples import SERVER_A, timeline

SCENARIOS = ("two-wave-drill", "cancel-wave-1", "api-contract")  # three shipped scenarios, of different lengths
DIVERGENT = "cancel-wave-1"  # the right side loses the server's name here
FAILING = "api-contract"  # the right side's poller cannot import here (and the sides still agree)
IMPORT_ERROR = {"type": "Runtime.ImportModuleError",
                "message": "Unable to import module 'index': No module named 'shared'"}
SERVER_NAME = f"tables.execution-history[<executionId:1>].waves[0].serverStatuses[{SERVER_A}].serverName"
ACCEPT_NAME = Rule(path=f"*serverStatuses[{SERVER_A}].serverName", reason="names arrive a poll later",
                   scenario=DIVERGENT, step="*", kind="tables", source="rules.yaml: rules[0]")
NEVER_USED = Rule(path="logs[Nothing like this]", reason="kept for an old bug", source="rules.yaml: rules[1]")
RULES = RuleSet([ACCEPT_NAME, NEVER_USED], "rules.yaml")


def stand_in_side(system: Any, scenario: Any, *, backend: str, clock_start: int) -> dict[str, Any]:
    """A side's captured timeline without a world: the same for both sides but where DIVERGENT and FAILING say."""
    side, name = str(getattr(system, "name", system)), str(getattr(scenario, "name", scenario))
    right = side != "monolithic"
    data = timeline(side, server_name=None if right and name == DIVERGENT else "web-01")
    data["scenario"] = name
    if right and name == FAILING:
        data["steps"][2]["invocations"] = [{"function": "poller", "trigger": "schedule", "error": IMPORT_ERROR,
                                            "console": False}]
    return data
