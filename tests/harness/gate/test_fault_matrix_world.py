"""The fault matrix's DRS, DynamoDB and EventBridge faults on the reference pair: each cell holds on both sides
(its own file, so that `pytest -n 2 --dist loadfile` runs it beside the Lambda faults' file)."""

from __future__ import annotations

import pytest

from drs_parity.gate.fault_cases import FaultCase
from drs_parity.gate.fault_matrix import Cell
from tests.harness.gate.fault_cells import assert_held, cases_of, cells_fixture

CASES = cases_of("drs", "dynamodb", "events")
cells = cells_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_both_reference_systems_hold_under_the_fault(case: FaultCase, cells: dict[str, Cell]) -> None:
    assert_held(cells, case)
