"""The standalone server's pieces: wall clock, scenario sections, clear one-line errors for user mistakes."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from drs_parity.errors import EnvironmentProblem
from drs_parity.world.drs import WallClock, serve_forever
from drs_parity.world.drs.standalone import load_scenario_sections


def test_wall_clock_follows_real_time() -> None:
    clock = WallClock()
    assert abs(clock.start - time.time()) < 5 and clock.now() >= clock.start


def test_scenario_sections_are_read_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ndrs: {jobStartSeconds: 5}\nsourceServers:\n  - {sourceServerId: s-000000000000000a1, "
                    "hostname: h, launch: {status: LAUNCHED, seconds: 1}}\nsteps: []\n")
    sections = load_scenario_sections(str(path))
    assert sections["drs_config"] == {"jobStartSeconds": 5}
    assert sections["source_servers"][0]["hostname"] == "h" and sections["faults"] == []


def test_servers_without_a_region_replicate_in_the_scenario_region(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nregion: us-west-2\nsourceServers:\n"
                    "  - {sourceServerId: s-000000000000000a1, hostname: h, launch: {status: LAUNCHED, seconds: 1}}\n"
                    "  - {sourceServerId: s-000000000000000a2, hostname: i, region: eu-west-1,\n"
                    "     launch: {status: LAUNCHED, seconds: 1}}\nsteps: []\n")
    servers = load_scenario_sections(str(path))["source_servers"]
    assert [server["region"] for server in servers] == ["us-west-2", "eu-west-1"]


@pytest.mark.parametrize("content, message", [
    (None, "cannot read scenario"),
    ("drs: [unclosed", "not valid YAML"),
    ("- just a list", "must be a YAML mapping"),
    ("sourceServers: [{sourceServerId: nope, hostname: h}]", "sourceServerId"),
])
def test_user_mistakes_are_one_line_value_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "scenario.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError) as info:
        serve_forever(str(path), 0)
    assert message in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_taken_port_is_one_line_and_nothing_is_announced(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: s\nsteps: []\n")
    announced: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EnvironmentProblem) as info:
            serve_forever(str(path), port, announced.append)
    assert str(info.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use" and announced == []
