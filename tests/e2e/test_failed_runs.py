"""As a user runs it: a taken moto-server port is one line before the run; a failed side's timeline so far is on disk."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from drs_parity.world.backends import MOTO_PORT_ENV

CLI = "import sys; from drs_parity.cli import main; sys.exit(main())"  # as the console script runs it
# the plan is deleted before the start, so the start is refused (404) and the next step has no execution to read
REFUSED_START = """\
name: refused-start
description: The plan is deleted before its start; the step after the start has no execution.
region: us-east-1
drs: {jobStartSeconds: 30, jobEndSeconds: 30}
sourceServers:
  - {sourceServerId: s-01000000000000001, hostname: app-01.corp.example, name: app-01, tags: {Tier: app},
     instanceType: m5.large, launch: {status: LAUNCHED, seconds: 120}}
protectionGroups:
  - {key: app, groupName: App tier, region: us-east-1, accountId: "123456789012",
     sourceServerIds: [s-01000000000000001]}
recoveryPlans:
  - {key: main, planName: Plan, waves: [{waveName: App, protectionGroup: app}]}
steps:
  - api: {method: DELETE, path: "/recovery-plans/{plan:main}"}
  - start: {plan: main, executionType: DRILL, initiatedBy: drill@example.com}
  - api: {method: GET, path: "/executions/{execution}"}
"""
REFUSED = "steps[2]: there is no current execution (the start step was refused; see its response in the timeline)"


def drs_parity(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *argv], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("argv", ["doctor", "side --system monolithic --scenario two-wave-drill", "smoke",
                                  "run --scenario two-wave-drill --no-calibrate"])
def test_a_taken_moto_server_port_is_one_line_and_exit_2_before_the_run(tmp_path: Path, argv: str) -> None:
    with socket.socket() as holder:  # another process's listener, on loopback
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = drs_parity(*argv.split(), "--backend", "moto-server", cwd=tmp_path, env={MOTO_PORT_ENV: str(port)})
    assert done.returncode == 2, done
    assert done.stderr == (f"drs-parity: error: backend moto-server is not available: port 127.0.0.1:{port} is taken "
                           f"(Address already in use); set {MOTO_PORT_ENV} to a free port\n")
    assert done.stdout == ""  # checked before the run: no step, no report table


@pytest.mark.slow
def test_side_json_keeps_the_timeline_the_error_points_at(tmp_path: Path) -> None:
    scenario = tmp_path / "refused-start.yaml"
    scenario.write_text(REFUSED_START)
    path = tmp_path / "timeline.json"
    done = drs_parity("side", "--system", "monolithic", "--scenario", str(scenario), "--json", str(path),
                      cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"drs-parity: error: {REFUSED} [the timeline so far (3 steps): {path}]\n"
    steps = json.loads(path.read_text())["steps"]
    assert [step["name"] for step in steps][2] == "start main DRILL"
    assert steps[2]["api"][0]["status"] == 404  # "see its response in the timeline": there it is


@pytest.mark.slow
def test_run_keeps_the_failed_sides_timeline_beside_the_reports(tmp_path: Path) -> None:
    scenario = tmp_path / "refused-start.yaml"
    scenario.write_text(REFUSED_START)
    out = tmp_path / "out"
    done = drs_parity("run", "--scenario", str(scenario), "--no-calibrate", "--out", str(out), cwd=tmp_path)
    path = out / "timelines" / "refused-start-monolithic.json"
    assert done.returncode == 2
    assert f"drs-parity: a failed side's timeline so far: {path}\n" in done.stderr
    assert json.loads(path.read_text())["steps"][2]["api"][0]["status"] == 404
    error = json.loads((out / "report.json").read_text())["scenarios"][0]["error"]
    assert error == f"monolithic: RunError: {REFUSED} [the timeline so far (3 steps): {path}]"
