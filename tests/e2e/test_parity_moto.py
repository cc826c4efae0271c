"""End to end on moto: the reference pair is in parity on every fixture scenario; snapshots of each side's timeline."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from drs_parity.world.clock import DEFAULT_START
from drs_parity.run.driver import run_side
from drs_parity.compare.normalise import normalise_timeline
from drs_parity.gate.parity import run_parity
from drs_parity.gate.results import ParityResult
from drs_parity.fixtures.scenario import list_scenarios, load_scenarios
from drs_parity.fixtures.system import load_system

pytestmark = pytest.mark.slow
SIDES = ("monolithic", "decomposed")


class RecordingRunner:
    """The driver's run_side, keeping each side's raw timeline so snapshots reuse the parity run's captures."""

    def __init__(self) -> None:
        self.timelines: dict[tuple[str, str], dict[str, Any]] = {}

    def __call__(self, system: Any, scenario: Any, **kwargs: Any) -> dict[str, Any]:
        timeline = run_side(system, scenario, **kwargs).to_dict()
        self.timelines[(system.name, scenario.name)] = timeline
        return timeline


@pytest.fixture(scope="module")
def recorder() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture(scope="module")
def results(recorder: RecordingRunner) -> dict[str, ParityResult]:
    return {}


def parity_of(name: str, results: dict[str, ParityResult], recorder: RecordingRunner) -> ParityResult:
    if name not in results:
        left, right = (load_system(side) for side in SIDES)
        results[name] = run_parity(left, right, load_scenarios([name]), "moto", calibrate=False, runner=recorder)
    return results[name]


@pytest.mark.parametrize("scenario", list_scenarios())
def test_reference_pair_is_in_parity(scenario: str, results: dict, recorder: RecordingRunner) -> None:
    result = parity_of(scenario, results, recorder)
    outcome = result.scenarios[0]
    assert outcome.error is None
    assert [(d.path, d.left, d.right) for d in outcome.active] == []
    assert result.exit_code == 0
    assert outcome.left_final == outcome.right_final and outcome.left_final is not None


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("scenario", list_scenarios())
def test_normalised_timeline_snapshot(scenario: str, side: str, results: dict, recorder: RecordingRunner,
                                      snapshot: SnapshotAssertion) -> None:
    # One JSON file per scenario and side (__snapshots__/test_parity_moto/...[<scenario>-<side>].json): a
    # changed timeline shows as a diff of that one file.
    parity_of(scenario, results, recorder)
    timeline = normalise_timeline(recorder.timelines[(side, scenario)], DEFAULT_START)
    assert timeline == snapshot.use_extension(JSONSnapshotExtension)
