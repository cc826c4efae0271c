"""One side run on one scenario and diagnosed with the live world's evidence: `drs-parity doctor` without a timeline."""

from __future__ import annotations

import contextlib

from drs_parity.diagnose.diagnosis import Diagnosis
from drs_parity.diagnose.doctor import diagnose
from drs_parity.diagnose.evidence import collect_evidence
from drs_parity.fixtures.regressions import Regression, regressed_system, with_regression_faults
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System, load_system
from drs_parity.run.driver import prepared_world, run_side


def doctor_side(system: System | str, scenario: Scenario | str, backend: str = "moto",
                regression: Regression | str | None = None) -> Diagnosis:
    """Run `scenario` on one side (IAM enforced; a catalogue regression switched on if named) and diagnose it."""
    scenario = scenario if isinstance(scenario, Scenario) else load_scenarios([scenario])[0]
    with regressed_system(regression) if regression is not None else contextlib.nullcontext() as variant:
        system = variant.system if variant is not None else load_system(system) if isinstance(system, str) else system
        scenario = with_regression_faults(scenario, variant.regression if variant is not None else None)
        with prepared_world(scenario, backend, variant=variant) as world:
            timeline = run_side(system, scenario, backend, world=world)
            evidence = collect_evidence(world, system)
    return diagnose(timeline.to_dict(), evidence, system.chain)
