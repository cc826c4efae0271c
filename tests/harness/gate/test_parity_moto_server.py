"""End to end on moto's server (loopback HTTP): the reference pair is in parity over the wire.

The backend is what is under test here (every scenario runs in-process in tests/e2e): these scenarios between them
reach every service the pair calls, two accounts (STS), two regions, pauses and conditional writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from drs_parity.gate.parity import run_parity
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.world.backends import MOTO_PORT_ENV

pytestmark = [pytest.mark.slow, pytest.mark.moto_server]
OVER_THE_WIRE = ("cross-account", "three-wave-two-regions", "pause-resume", "drill-launch-failure")


@pytest.mark.parametrize("scenario", OVER_THE_WIRE)
def test_reference_pair_is_in_parity_on_moto_server(scenario: str, moto_server: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MOTO_PORT_ENV, str(moto_server.port))  # worlds the driver creates find the session's server
    loaded = load_scenarios([scenario])
    result = run_parity(load_system("monolithic"), load_system("decomposed"), loaded, "moto-server", calibrate=False)
    outcome = result.scenarios[0]
    assert outcome.error is None
    assert [(d.path, d.left, d.right) for d in outcome.active] == []
    assert result.exit_code == 0 and outcome.left_final == outcome.right_final
    # in parity, and right: the current execution ends as the scenario expects (final statuses are listed in order)
    assert outcome.left_final.split(",")[-1] == loaded[0].expect.status
