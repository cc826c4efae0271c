"""Calibration noise reused only while a side's inputs are unchanged: template, code folders, layers, scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.noise_cache import NoiseCache
from drs_parity.gate.parity import run_parity
from tests.harness.compare.parity_samples import timeline
from tests.harness.gate.parity_planting import patched_copy

SCENARIO = "two-wave-drill"
WOBBLING = "tables.execution-history[<executionId:1>].lastPolledTime"


class CountingSide:
    """A stand-in driver whose lastPolledTime wobbles from run to run: noise a calibration must find."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, system: Any, scenario: Any, backend: str, clock_start: int) -> dict[str, Any]:
        self.runs += 1
        data = timeline("side")
        data["steps"][2]["tables"]["execution-history"][0]["lastPolledTime"] += self.runs * 30
        return data


def calibrated(system: Any, cache: NoiseCache, side: CountingSide) -> tuple[int, list[str]]:
    before = side.runs
    result = run_parity(system, system, load_scenarios([SCENARIO]), "moto", runner=side, noise_cache=cache)
    return side.runs - before, sorted({entry.path for entry in result.scenarios[0].noise})


def test_noise_is_reused_from_disk_until_code_or_layer_changes(tmp_path: Path) -> None:
    system = patched_copy(tmp_path, "copy", "execution_poller/enrichment.py", "import", "import")
    side, folder = CountingSide(), tmp_path / "cache"
    assert calibrated(system, NoiseCache(folder), side) == (4, [WOBBLING])  # each side run twice
    assert calibrated(system, NoiseCache(folder), side) == (2, [WOBBLING])  # a new run: the noise from disk
    layer_module = tmp_path / "copy" / "layer" / "shared" / "api.py"
    layer_module.write_text(layer_module.read_text() + "\n# changed\n")
    assert calibrated(system, NoiseCache(folder), side)[0] == 4  # a layer changed: calibrated again
    handler = tmp_path / "copy" / "execution_poller" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    assert calibrated(system, NoiseCache(folder), side)[0] == 4  # a function's code folder changed
    assert calibrated(system, NoiseCache(folder), side)[0] == 2


def test_a_changed_template_or_scenario_changes_the_key(tmp_path: Path) -> None:
    system = patched_copy(tmp_path, "copy", "execution_poller/enrichment.py", "import", "import")
    [scenario] = load_scenarios([SCENARIO])
    cache = NoiseCache()
    key = cache.key(system, scenario, "copy", "moto")
    assert key == cache.key(system, scenario, "copy", "moto") and key is not None
    assert key != cache.key(system, scenario, "copy", "moto-server")
    assert key != cache.key(load_system("monolithic"), scenario, "copy", "moto")
    template = Path(system.template)
    template.write_text(template.read_text() + "\n# changed\n")
    assert cache.key(system, scenario, "copy", "moto") != key


def test_sides_that_are_not_files_are_never_reused() -> None:
    side = CountingSide()
    cache = NoiseCache()
    for _ in range(2):
        result = run_parity("monolithic", "decomposed", load_scenarios([SCENARIO]), "moto", runner=side,
                            noise_cache=cache)
        assert result.scenarios[0].noise
    assert side.runs == 8
