"""Catalogue entries with `faults:`: the world misbehaves on both sides, and only under it is the entry caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drs_parity.fixtures.faults import DynamoDbFault
from drs_parity.fixtures.regressions import (
    RegressionError, load_regression, parse_regression, regressed_system, with_regression_faults,
)
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.fault_cases import fault_case
from drs_parity.gate.fault_matrix import BROKEN, HELD, run_matrix
from drs_parity.gate.regressions import check_regression

FINDER = "finder-ignores-last-evaluated-key"
ENTRY = {"title": "t", "realWorld": "r", "link": "poller-invoked", "divergence": ["x"],
         "environment": {"POLLER_FUNCTION_NAME": "elsewhere"}}


def test_an_entrys_faults_are_added_to_its_scenario_and_its_scenario_file_lies_beside_it() -> None:
    entry = load_regression(FINDER)
    scenario = with_regression_faults(load_scenarios([entry.scenario])[0], entry)
    assert scenario.name == "drill-after-drill" and Path(entry.scenario).parent.name == "scenarios"
    assert scenario.faults == (DynamoDbFault(table="execution-history", fault="small-pages", page_size=1),)
    assert with_regression_faults(scenario, load_regression("poller-name-wrong")) is scenario  # no faults: as is


@pytest.mark.parametrize(("extra", "message"), [
    ({"faults": [{"service": "lambda", "function": "poller", "fault": "nope"}]}, "faults[0].fault"),
    ({"scenario": "scenarios/missing.yaml"}, "scenario: no scenario file scenarios/missing.yaml beside the entry"),
])
def test_a_bad_fault_or_scenario_file_is_one_line_naming_the_field(tmp_path: Path, extra: dict[str, object],
                                                                  message: str) -> None:
    with pytest.raises(RegressionError, match=message.replace("[", "\\[").replace("]", "\\]")):
        parse_regression({**ENTRY, **extra}, tmp_path / "entry.yaml")


def test_the_finder_that_ignores_last_evaluated_key_is_at_parity_without_small_pages() -> None:
    outcome = check_regression(dataclasses.replace(load_regression(FINDER), faults=()))
    assert outcome.parity.exit_code == 0, [d.path for d in outcome.parity.scenarios[0].divergences][:5]


def test_the_fault_matrix_catches_the_finder_under_small_pages() -> None:
    entry = load_regression(FINDER)
    with regressed_system(entry) as variant:
        result = run_matrix(load_system("monolithic"), variant.system, load_scenarios([entry.scenario]),
                            cases=[fault_case("history-small-pages")], variant=variant)
    cell = result.cells[0]
    assert (cell.left.status, cell.right.status) == (HELD, BROKEN)
    assert cell.right.reasons[0].startswith("execution 2 ended POLLING, COMPLETED without the fault")
