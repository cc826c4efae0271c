"""What a step repeats is normalised once, and sharing never hides a change `==` cannot see (True == 1 == 1.0)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.normalise import normalise_timeline
from drs_parity.compare.sharing import shared_steps

START = 1768471200


def flagged(side: str, *flags: Any) -> dict[str, Any]:
    """One table item per step whose `enabled` flag takes the given values, step by step."""
    steps = [{"index": index, "name": f"advance {index}m", "kind": "advance", "time": START + 60 * index,
              "tables": {"settings": [{"name": "poller", "enabled": flag, "limits": {"pages": 2}}]}}
             for index, flag in enumerate(flags)]
    return {"side": side, "scenario": "flags", "backend": "moto", "steps": steps}


def test_a_subtree_a_step_repeats_is_the_same_object_after_normalising() -> None:
    steps = normalise_timeline(flagged("left", 1, 1, 2), START)["steps"]
    first, second, third = (step["tables"]["settings"]["#0"] for step in steps)
    assert first is second and third is not second
    assert third["limits"] is second["limits"]


def test_a_flag_that_turns_from_1_to_true_is_not_shared_with_the_step_before() -> None:
    [step_0, step_1] = shared_steps(flagged("left", 1, True)["steps"])
    assert step_1["tables"]["settings"][0]["enabled"] is True
    divergences = diff_timelines(normalise_timeline(flagged("left", 1, True), START),
                                 normalise_timeline(flagged("right", 1, 1), START))
    assert [(d.path, d.left, d.right, d.step_index) for d in divergences] == [
        ("tables.settings[#0].enabled", True, 1, 1)]


def test_numbers_equal_to_the_step_before_are_still_made_canonical() -> None:
    steps = shared_steps(flagged("left", 1, Decimal("1.0"), 1.0, Decimal("2.5"))["steps"])
    flags = [step["tables"]["settings"][0]["enabled"] for step in steps]
    assert flags == [1, 1, 1, 2.5] and [type(flag) for flag in flags] == [int, int, int, float]


def test_the_diff_tells_true_from_1_in_records_otherwise_equal() -> None:
    left = normalise_timeline(flagged("left", True, True), START)
    right = normalise_timeline(flagged("right", 1, 1), START)
    assert [(d.path, d.steps) for d in diff_timelines(left, right)] == [("tables.settings[#0].enabled", 2)]
    assert diff_timelines(left, copy.deepcopy(left)) == []
