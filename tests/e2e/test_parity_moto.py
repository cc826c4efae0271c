"""End to end on moto: the reference pair is in parity on every fixture scenario; snapshots of each side's timeline."""

from __future__ import annotations

import hashlib
import json
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
# A scale scenario's timeline (more servers than one DRS job takes) is megabytes of server records: its snapshot is
# the compact form below, a digest of the whole timeline and every small part verbatim.
SCALE_SERVERS = 200
SMALL = 400  # characters of canonical JSON a part may have and still be kept verbatim
FEW = 40  # entries a large mapping or list may have and still be kept entry by entry


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
    # changed timeline shows as a diff of that one file (a scale scenario's holds its compact form, below).
    parity_of(scenario, results, recorder)
    timeline = normalise_timeline(recorder.timelines[(side, scenario)], DEFAULT_START)
    if len(load_scenarios([scenario])[0].source_servers) > SCALE_SERVERS:
        timeline = {"digest": _digest(timeline), "compact": compact(timeline)}
    assert timeline == snapshot.use_extension(JSONSnapshotExtension)


def compact(value: Any) -> Any:
    """`value` with every large collection of many entries (a table's 521 records, a wave's 260 server ids) replaced
    by its size, its digest and its first and last entries, compacted: a changed record still shows as a changed
    digest under its step, kind and record, and the shape of what it holds stays readable."""
    if len(_canonical(value)) <= SMALL or not isinstance(value, (dict, list)):
        return value
    if len(value) <= FEW:
        return {key: compact(item) for key, item in value.items()} if isinstance(value, dict) else \
            [compact(item) for item in value]
    entries = [[key, item] for key, item in value.items()] if isinstance(value, dict) else value
    return {"<entries>": len(value), "<digest>": _digest(value),
            "<first>": compact(entries[0]), "<last>": compact(entries[-1])}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:16]


def test_compact_keeps_small_parts_and_digests_large_collections() -> None:
    records = {f"<executionId:1>/0/s-{n:017d}": {"launchStatus": "LAUNCHED"} for n in range(100)}
    timeline = {"steps": [{"name": "advance 5m", "tables": {"execution-history": records}}]}
    shown = compact(timeline)["steps"][0]
    table = shown["tables"]["execution-history"]
    assert shown["name"] == "advance 5m"
    assert table["<entries>"] == 100 and table["<first>"] == ["<executionId:1>/0/s-00000000000000000",
                                                             {"launchStatus": "LAUNCHED"}]
    records["<executionId:1>/0/s-00000000000000042"] = {"launchStatus": "FAILED"}
    assert compact(timeline)["steps"][0]["tables"]["execution-history"]["<digest>"] != table["<digest>"]
