"""Running the regression catalogue: a side with its entry's faults, and each entry's parity run and doctor verdict."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from drs_parity.diagnose.diagnosis import Diagnosis, Evidence
from drs_parity.diagnose.doctor import diagnose
from drs_parity.diagnose.evidence import collect_evidence
from drs_parity.fixtures.regressions import (
    DEFAULT_BASE, DEFAULT_SCENARIO, Regression, VariantSystem, load_regression, regressed_system,
    with_regression_faults,
)
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System, load_system
from drs_parity.gate.parity import SideRunner, run_parity
from drs_parity.gate.results import ParityResult
from drs_parity.run.capture import Timeline
from drs_parity.run.driver import prepared_world, run_side

LeftCache = dict[tuple[str, ...], Timeline]  # (system, scenario, backend, clock start) -> the left side's timeline


# -- a run_parity runner with the regression's world faults -----------------------------------------------------------
def side_runner(variant: VariantSystem | None = None) -> SideRunner:
    """A run_parity runner: every side under IAM enforcement; the variant's side also gets its world faults."""

    def run(system: System | str, scenario: Scenario | str, backend: str = "moto",
            clock_start: float | None = None) -> Timeline:
        scenario = scenario if isinstance(scenario, Scenario) else load_scenarios([scenario])[0]
        own = variant if variant is not None and getattr(system, "name", system) == variant.system.name else None
        with prepared_world(scenario, backend, clock_start, own) as world:
            return run_side(system, scenario, backend, world=world)

    return run


# -- one catalogue entry end to end: parity run and doctor on the same regressed run ----------------------------------
@dataclass
class RegressionOutcome:
    """The parity result (left vs the regressed side) and the doctor's diagnosis of that very run."""

    regression: Regression | None
    parity: ParityResult
    diagnosis: Diagnosis | None  # None: the right side failed to run (the parity result carries the error)


class _RecordingRunner:
    """A run_parity runner that keeps the right side's timeline and live evidence for the doctor.

    The left side's timelines are cached across entries: deterministic on the virtual clock, run once per scenario.
    """

    def __init__(self, right: System, variant: VariantSystem | None, cache: LeftCache) -> None:
        self.right = right
        self.variant = variant
        self.cache = cache
        self.timeline: Timeline | None = None
        self.evidence: Evidence | None = None

    def __call__(self, system: System, scenario: Scenario, backend: str = "moto",
                 clock_start: float | None = None) -> Timeline:
        if system.name != self.right.name:
            return self._left(system, scenario, backend, clock_start)
        with prepared_world(scenario, backend, clock_start, self.variant) as world:
            self.timeline = run_side(system, scenario, backend, world=world)
            self.evidence = collect_evidence(world, system)
        return self.timeline

    def _left(self, system: System, scenario: Scenario, backend: str, clock_start: float | None) -> Timeline:
        key = (system.name, scenario.name, backend, str(clock_start))
        if key not in self.cache:
            with prepared_world(scenario, backend, clock_start) as world:
                self.cache[key] = run_side(system, scenario, backend, world=world)
        return self.cache[key]


def check_regression(regression: Regression | str | None, backend: str = "moto", left: str = "monolithic",
                     cache: LeftCache | None = None) -> RegressionOutcome:
    """Parity of `left` against the regressed side (None: the unmodified base), and the doctor on the same run.

    The right side runs once and serves both answers; pass one `cache` dict to reuse the left side's runs.
    """
    if isinstance(regression, str):
        regression = load_regression(regression)
    scenario = with_regression_faults(load_scenarios([regression.scenario if regression else DEFAULT_SCENARIO])[0],
                                      regression)
    with regressed_system(regression) if regression else contextlib.nullcontext() as variant:
        right = variant.system if variant is not None else load_system(DEFAULT_BASE)
        runner = _RecordingRunner(right, variant, cache if cache is not None else {})
        parity = run_parity(load_system(left), right, [scenario], backend, calibrate=False, runner=runner)
    if runner.timeline is None:  # the right side failed to run: the parity result carries the error
        return RegressionOutcome(regression, parity, None)
    diagnosis = diagnose(runner.timeline.to_dict(), runner.evidence, right.chain)
    return RegressionOutcome(regression, parity, diagnosis)
