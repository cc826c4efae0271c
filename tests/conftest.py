"""Fixtures shared by the whole suite: one moto server on a free loopback port for the test session."""

from typing import Iterator

import pytest

from drs_parity.world.backends import MotoServer, free_port, shared_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server on 127.0.0.1:<free port>; worlds reach it with World("moto-server", moto_server_port=...port)."""
    server = shared_moto_server(free_port())
    yield server
    server.stop()
