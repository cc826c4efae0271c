"""Side runs for the reuse tests: with `seeded`, generated ids and moto's random draws repeat, so two runs compare byte
for byte; each run keeps the host's trace of invocations and the next request id."""

from __future__ import annotations

import random
import sys
import uuid
from typing import Callable

import pytest

from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import load_system
from drs_parity.run.driver import SideRun, prepared_world


def seeded_uuid4() -> Callable[[], uuid.UUID]:
    """uuid.uuid4 from seeded streams: one for the code's ids, one for botocore's invocation ids (a header of every
    request, never captured), so a console read reused instead of made leaves the code's later ids as they were."""
    streams = {True: random.Random(13), False: random.Random(17)}

    def uuid4() -> uuid.UUID:
        from_botocore = sys._getframe(1).f_globals.get("__name__", "").startswith("botocore")
        return uuid.UUID(int=streams[not from_botocore].getrandbits(128), version=4)

    return uuid4


def side_run(system: str, scenario: Scenario, reuse: bool, monkeypatch: pytest.MonkeyPatch | None = None) -> SideRun:
    """One side run, reads reused or not; with `monkeypatch`, seeded."""
    if monkeypatch is not None:
        from moto.moto_api._internal import mock_random  # moto's ids and addresses

        random.seed(13)
        mock_random.seed(13)
        monkeypatch.setattr(uuid, "uuid4", seeded_uuid4())
    with prepared_world(scenario) as world:
        run = SideRun(world, load_system(system), scenario, reuse_reads=reuse)
        run.run()
        run.trace = [(i.function, i.trigger, i.started, i.ended, [c["operation"] for c in i.calls])
                     for i in world.host.invocations]
        run.next_id = world.host.request_ids.issued
    return run
