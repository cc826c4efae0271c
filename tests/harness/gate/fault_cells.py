"""The fault matrix on both reference systems in the test suite: each fault on the cheapest scenario it applies to."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.fault_cases import CASES, FaultCase
from drs_parity.gate.fault_matrix import Cell, MatrixResult, run_matrix
from drs_parity.gate.parity import DEFAULT_LEFT, DEFAULT_RIGHT

# The cheapest shipped scenarios: cancel-wave-1 is the shortest run, but it is cancelled in its first wave, so a
# fault that needs a poll to start a wave runs on two-wave-drill.
SHORTEST, WITH_A_WAVE_BOUNDARY = "cancel-wave-1", "two-wave-drill"


def cases_of(*services: str) -> list[FaultCase]:
    return [case for case in CASES if case.service in services]


def cheapest_scenario(case: FaultCase) -> str:
    return WITH_A_WAVE_BOUNDARY if "waves" in case.needs else SHORTEST


def run_cells(cases: list[FaultCase]) -> dict[str, Cell]:
    """fault name -> its cell: one matrix run per scenario (its baselines shared by its faults), in this process."""
    left, right = load_system(DEFAULT_LEFT), load_system(DEFAULT_RIGHT)
    cells: dict[str, Cell] = {}
    for name in dict.fromkeys(cheapest_scenario(case) for case in cases):
        chosen = [case for case in cases if cheapest_scenario(case) == name]
        result: MatrixResult = run_matrix(left, right, load_scenarios([name]), cases=chosen, jobs=1)
        cells.update({cell.fault: cell for cell in result.cells})
    return cells


def cells_fixture(cases: list[FaultCase]) -> Callable[..., Any]:
    """A module-scoped fixture `cells` running the cases' cells once for the test module."""
    @pytest.fixture(scope="module")
    def cells() -> dict[str, Cell]:
        return run_cells(cases)
    return cells


def assert_held(cells: dict[str, Cell], case: FaultCase) -> None:
    """The case's cell applied and held on both sides; else why not."""
    cell = cells.get(case.name)
    assert cell is not None, "the fault applied to no side"
    assert cell.held, "; ".join(f"{side} {verdict.status}: {'; '.join(verdict.reasons)}"
                                for side, verdict in (("left", cell.left), ("right", cell.right)))
