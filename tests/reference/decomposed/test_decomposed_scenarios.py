"""The decomposed system over moto's server (every scenario runs in-process in tests/reference/contract)."""

import pytest

from drs_parity.run.driver import check_expectations, run_side
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.world.world import World
from tests.reference.scenarios import everyday_scenario_paths

SCENARIOS = everyday_scenario_paths()


@pytest.mark.moto_server
@pytest.mark.parametrize("name", ["two-wave-drill", "cross-account"])
def test_scenario_on_moto_server(moto_server, name):
    scenario = load_scenarios([p for p in SCENARIOS if p.stem == name])[0]
    with World("moto-server", moto_server_port=moto_server.port, region=scenario.region) as world:
        timeline = run_side(load_system("decomposed"), scenario, world=world)
    assert check_expectations(scenario, timeline) == []
