"""`serve_forever` as the CLI runs it: a separate process serving a scenario's DRS until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config

SCENARIO = """
name: standalone
drs: {jobStartSeconds: 1, jobEndSeconds: 1}
sourceServers:
  - {sourceServerId: s-000000000000000a1, hostname: web-01, name: web, launch: {status: LAUNCHED, seconds: 1}}
steps: []
"""


def test_standalone_server_answers_boto3_and_stops_on_interrupt(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    code = f"from drs_parity.world.drs import serve_forever; serve_forever({str(scenario)!r}, 0)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[3])
    try:
        banner = process.stdout.readline()
        url = banner.split("listening on ")[1].split()[0]
        client = boto3.client("drs", region_name="us-east-1", endpoint_url=url, aws_access_key_id="a",
                              aws_secret_access_key="b", config=Config(retries={"total_max_attempts": 1}))
        assert [s["tags"]["Name"] for s in client.describe_source_servers()["items"]] == ["web"]
        job = client.start_recovery(sourceServers=[{"sourceServerID": "s-000000000000000a1"}])["job"]
        assert job["status"] == "PENDING"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
