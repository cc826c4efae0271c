"""`serve_forever` as the CLI runs it: a separate process serving a scenario's DRS until Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from drs_parity.cli.main import main

SCENARIO = """
name: standalone
drs: {jobStartSeconds: 1, jobEndSeconds: 1}
sourceServers:
  - {sourceServerId: s-000000000000000a1, hostname: web-01, name: web, launch: {status: LAUNCHED, seconds: 1}}
steps: []
"""


REPO = Path(__file__).resolve().parents[3]
CLI = "import sys; from drs_parity.cli.main import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def interrupt(process: subprocess.Popen[str]) -> int:
    """Ctrl-C the server; its exit code (it is killed, and the test fails, if it has not stopped within 10 s)."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_standalone_server_answers_boto3_and_stops_on_interrupt(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    code = f"from drs_parity.world.drs import serve_forever; serve_forever({str(scenario)!r}, 0)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        banner = process.stdout.readline()
        url = banner.split("listening on ")[1].split()[0]
        client = boto3.client("drs", region_name="us-east-1", endpoint_url=url, aws_access_key_id="a",
                              aws_secret_access_key="b", config=Config(retries={"total_max_attempts": 1}))
        assert [s["tags"]["Name"] for s in client.describe_source_servers()["items"]] == ["web"]
        job = client.start_recovery(sourceServers=[{"sourceServerID": "s-000000000000000a1"}])["job"]
        assert job["status"] == "PENDING"
    finally:
        assert interrupt(process) == 0


def test_the_cli_says_serving_only_once_the_port_is_bound() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", CLI, "drs-emulator", "--port", str(port),
                                "--scenario", "two-wave-drill"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert process.stdout.readline() == f"Serving the DRS of scenario two-wave-drill at http://127.0.0.1:{port}\n"
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # no retry: it listens already
    finally:
        assert interrupt(process) == 0


def test_the_cli_on_a_taken_port_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["drs-emulator", "--port", str(port), "--scenario", "two-wave-drill"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"drs-parity: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
