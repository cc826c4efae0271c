"""The fixture scenarios the reference tests run by default: all but the scale ones, each a few minutes long."""

from __future__ import annotations

from pathlib import Path

from drs_parity.fixtures.scenario import list_scenarios

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
# Kept in fixtures/scenarios/scale/ (not listed by name) and run on demand:
# `drs-parity run --scenario fixtures/scenarios/scale/thousand-servers.yaml`; a side takes minutes, mostly in moto's EC2
# (five-hundred-servers: about 25 CPU-seconds a side).
SCALE_SCENARIOS = frozenset({"thousand-servers", "five-hundred-servers"})


def everyday_scenario_names() -> list[str]:
    return [name for name in list_scenarios() if name not in SCALE_SCENARIOS]


def everyday_scenario_paths() -> list[Path]:
    return [path for path in sorted(SCENARIOS_DIR.glob("*.yaml")) if path.stem not in SCALE_SCENARIOS]
