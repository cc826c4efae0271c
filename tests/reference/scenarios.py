"""The fixture scenarios the reference tests run by default: all but the scale ones, each a few minutes long."""

from __future__ import annotations

from pathlib import Path

from drs_parity.fixtures.scenario import list_scenarios

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
# thousand-servers is kept in fixtures/scenarios/scale/ (not listed by name) and run on demand (`drs-parity run
# --scenario fixtures/scenarios/scale/thousand-servers.yaml`, ~15 CPU-seconds a side). five-hundred-servers is in
# the default matrix (the gate and tests/e2e run it, ~2.5 CPU-seconds a side); the reference tests, which run every
# scenario they list once per check, leave it to them.
SCALE_SCENARIOS = frozenset({"thousand-servers", "five-hundred-servers"})


def everyday_scenario_names() -> list[str]:
    return [name for name in list_scenarios() if name not in SCALE_SCENARIOS]


def everyday_scenario_paths() -> list[Path]:
    return [path for path in sorted(SCENARIOS_DIR.glob("*.yaml")) if path.stem not in SCALE_SCENARIOS]
