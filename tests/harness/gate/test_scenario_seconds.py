"""A scenario's seconds are its whole wall time: the doctor, diffing and calibration count, in worker processes too."""

from __future__ import annotations

import re
import time
from typing import Any
from xml.etree import ElementTree

import pytest

from drs_parity.gate import noise_cache as noise_cache_module
from drs_parity.gate import parity as parity_module
from drs_parity.gate.noise_cache import NoiseCache
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.parity import run_parity
from drs_parity.report.json_report import to_json
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown
from tests.harness.gate.shard_samples import SCENARIOS, stand_in_side

DELAY = 0.2  # seconds each slowed stage sleeps, outside every side run


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def slow_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The doctor (once per side) and the diff of the two sides (once) each take DELAY longer than they would."""
    def slowed(real: Any) -> Any:
        def stage(*args: Any, **kwargs: Any) -> Any:
            time.sleep(DELAY)
            return real(*args, **kwargs)
        return stage
    monkeypatch.setattr(parity_module, "diagnose", slowed(parity_module.diagnose))
    monkeypatch.setattr(parity_module, "diff_timelines", slowed(parity_module.diff_timelines))


@pytest.mark.parametrize("jobs", [1, 2])
def test_seconds_cover_the_doctor_and_the_diff_not_only_the_side_runs(slow_stages: None, jobs: int) -> None:
    result = run_parity("monolithic", "decomposed", [Named(name) for name in SCENARIOS[:2]], "moto",
                        runner=stand_in_side, calibrate=False, jobs=jobs)
    for scenario in result.scenarios:
        assert set(scenario.timings) == {"monolithic", "decomposed"}  # each side's own run, kept apart
        # two doctors and one diff, each DELAY, all outside the side runs
        assert scenario.seconds >= sum(scenario.timings.values()) + 3 * DELAY


def test_reused_calibration_counts_too(slow_stages: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = NoiseCache()  # keyed by the sides' and the scenario's files: real ones, run by the stand-in
    args = (load_system("monolithic"), load_system("decomposed"), load_scenarios([SCENARIOS[0]]), "moto")
    run_parity(*args, runner=stand_in_side, noise_cache=cache)  # finds the noise: the next run reuses it
    real_get = noise_cache_module.NoiseCache.get

    def slow_get(self: NoiseCache, key: Any) -> Any:
        time.sleep(DELAY)
        return real_get(self, key)
    monkeypatch.setattr(noise_cache_module.NoiseCache, "get", slow_get)
    scenario = run_parity(*args, runner=stand_in_side, noise_cache=cache).scenarios[0]
    assert set(scenario.timings) == {"monolithic", "decomposed"}  # no calibration run: the noise was reused
    assert scenario.seconds >= sum(scenario.timings.values()) + 3 * DELAY + 2 * DELAY


def test_the_reports_show_the_whole_scenario_and_report_json_keeps_each_side(slow_stages: None) -> None:
    result = run_parity("monolithic", "decomposed", [Named(SCENARIOS[0])], "moto", runner=stand_in_side,
                        calibrate=False)
    (scenario,) = result.scenarios
    case = ElementTree.fromstring(to_junit(result)).find("testcase")
    assert case is not None and float(case.get("time", "0")) >= 3 * DELAY
    row = next(line for line in to_markdown(result).splitlines() if line.startswith(f"| {SCENARIOS[0]} |"))
    assert float(re.findall(r"\| ([\d.]+) \|$", row)[0]) >= 3 * DELAY
    report = to_json(result)
    assert report["timings"]["scenarios"][SCENARIOS[0]] >= 3 * DELAY
    assert report["scenarios"][0]["timings"] == {side: round(value, 3) for side, value in scenario.timings.items()}
