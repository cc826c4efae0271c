"""SIGTERM (CI cancelling a job) ends `drs-parity run` like Ctrl-C: one line, exit 2, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REGRESSION = "poller-name-wrong"  # a template variant: its temporary folder exists for the whole run
EARLIER = '{"verdict": "parity", "exitCode": 0}'
CLI = "import sys; from drs_parity.cli import main; sys.exit(main())"  # as the console script runs it


def wait_for_variant(tmp: Path, process: subprocess.Popen[str], timeout: float = 120) -> Path:
    """The regression's temporary folder, once its variant is built (its template written)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        built = [folder for folder in tmp.glob(f"drs-parity-{REGRESSION}-*") if (folder / "template.yaml").exists()]
        if built:
            return built[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the regression's variant was never built")


@pytest.mark.parametrize(("signum", "line"), [(signal.SIGTERM, "drs-parity: error: interrupted (SIGTERM)"),
                                              (signal.SIGINT, "drs-parity: error: interrupted")])
def test_a_signal_mid_run_cleans_up_and_ends_in_one_line(tmp_path: Path, signum: int, line: str) -> None:
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    (out / "report.json").write_text(EARLIER)  # an earlier run's verdict, which CI must not pick up
    command = [sys.executable, "-c", CLI, "run", "--scenario", "two-wave-drill", "--no-calibrate",
               "--right-regression", REGRESSION, "--out", str(out)]
    process = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp)}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               # a shell's background job ignores SIGINT; Python then would not raise on it
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        variant = wait_for_variant(tmp, process)
        time.sleep(0.5)  # into the run itself
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, err
    assert err == line + "\n"
    assert not variant.exists() and list(tmp.iterdir()) == []
    assert list(out.iterdir()) == []  # neither the earlier report nor a half-written one
