"""As a user runs it: a taken moto-server port is one line before the run; a side the system stopped is a result
(side: exit 1; run: a divergence, or exit 2 when both refused alike) and its timeline so far is on disk."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from drs_parity.cli.main import main
from drs_parity.world.backends import MOTO_PORT_ENV
from tests.harness.gate.refusing_system import (READ_EXECUTION, START, refusing_system, scenario_text,
                                               start_and_read)

CLI = "import sys; from drs_parity.cli import main; sys.exit(main())"  # as the console script runs it
# the plan is deleted before the start, so both sides refuse the start (404) and stop at the step that reads it
REFUSED_START = scenario_text("refused-start", "The plan is deleted before its start; the step after the start has no "
                              "execution.", '  - api: {method: DELETE, path: "/recovery-plans/{plan:main}"}\n', START,
                              READ_EXECUTION)
REFUSED = ("steps[2]: there is no current execution: the start (steps[1]) was refused: POST /executions answered 404 "
           '{"error": "RECOVERY_PLAN_NOT_FOUND"')


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
def test_side_json_keeps_the_timeline_of_a_side_the_system_stopped(tmp_path: Path) -> None:
    scenario = tmp_path / "refused-start.yaml"
    scenario.write_text(REFUSED_START)
    path = tmp_path / "timeline.json"
    done = drs_parity("side", "--system", "monolithic", "--scenario", str(scenario), "--json", str(path),
                      cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == ""  # the system's behaviour, not an error
    saved = json.loads(path.read_text())
    assert re.search(f"^STOPPED  {re.escape(REFUSED)}, \"message\": [^\\n]+ not found\"}}$", done.stdout, re.MULTILINE)
    assert saved["stopped"]["reason"].startswith(REFUSED) and saved["stopped"]["response"] == {"step": 2, "api": 0}
    assert [step["name"] for step in saved["steps"]][2] == "start main DRILL"
    assert saved["steps"][2]["api"][0]["status"] == 404  # the refusing answer is in the timeline
    assert done.stdout.endswith("monolithic / refused-start: stopped at step 3 (api GET /executions/{execution})\n")


@pytest.mark.slow
def test_run_both_sides_refusing_alike_is_an_error_and_their_timelines_are_kept(tmp_path: Path) -> None:
    scenario = tmp_path / "refused-start.yaml"
    scenario.write_text(REFUSED_START)
    out = tmp_path / "out"
    done = drs_parity("run", "--scenario", str(scenario), "--no-calibrate", "--out", str(out), cwd=tmp_path)
    paths = [out / "timelines" / f"refused-start-{side}.json" for side in ("decomposed", "monolithic")]
    assert done.returncode == 2
    for path in paths:
        assert f"drs-parity: a failed side's timeline so far: {path}\n" in done.stderr
        assert json.loads(path.read_text())["steps"][2]["api"][0]["status"] == 404
    error = json.loads((out / "report.json").read_text())["scenarios"][0]["error"]
    assert error == ('both sides refused step 2 `start main DRILL`: POST /executions answered 404 {"error": '
                     '"RECOVERY_PLAN_NOT_FOUND", "message": "Recovery plan <planId:1> not fo…: the scenario or both '
                     'systems are wrong')  # the body cut (the timelines keep it whole)
    assert f"refused-start: error: {error}\n" in done.stdout  # the terminal says why, on one line


def test_run_and_side_exit_codes_when_one_side_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [refusing_system(tmp_path, name, refuse).path for name, refuse in (
        ("tiny", None), ("tiny-500", "POST /protection-groups 500"))]
    scenario = str(start_and_read(tmp_path).path)
    out = tmp_path / "out"
    code = main(["run", "--left", str(paths[0]), "--right", str(paths[1]), "--scenario", scenario,
                 "--no-calibrate", "--jobs", "1", "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 1  # a divergence, with both answers in the first divergence line
    assert ("start-and-read: first divergence at step 0 `setup`: steps — tiny-500 stopped: api POST "
            '/protection-groups — tiny 201 {"groupId": "<groupId:1>"} · tiny-500 500 {"error": "REFUSED"') in printed
    assert f"a failed side's timeline so far: {out / 'timelines' / 'start-and-read-tiny-500.json'}" in err

    assert main(["side", "--system", str(paths[1]), "--scenario", scenario]) == 1
    assert "STOPPED  setup: creating protectionGroups[0] (key 'app') failed: POST /protection-groups answered 500 " \
           in capsys.readouterr().out
    assert main(["side", "--system", str(paths[0]), "--scenario", scenario]) == 0
