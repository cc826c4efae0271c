"""Stage timers for one parity run: wall seconds spent in each stage, from wrappers around the functions doing it.

Installed in the benchmark's child process before `drs-parity run` starts (bench/scale_curve.py). A wrapped name that
no longer exists (a refactor) is listed in `missing`, and its time falls into `other` instead of failing the run.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

STAGES = ("deploy", "run", "console reads", "capture", "normalise", "doctor", "diff", "report")

# (module, attribute path, timer): what each timer wraps. The side run's total and the capture with its console
# reads are raw timers: the stages are worked out from them in stage_shares.
WRAPPED = (
    ("drs_parity.gate.parity", "ScenarioRun.capture", "side runs"),
    ("drs_parity.run.driver", "SideRun.deploy", "deploy"),
    ("drs_parity.run.driver", "SideRun.capture", "capture with console reads"),
    ("drs_parity.run.driver", "SideRun.console_reads", "console reads"),
    ("drs_parity.gate.parity", "normalise_timeline", "normalise"),
    ("drs_parity.gate.parity", "diagnose", "doctor"),
    ("drs_parity.gate.parity", "diff_timelines", "diff"),
    ("drs_parity.cli.run", "write_reports", "report"),
)


@dataclass
class StageTimers:
    seconds: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)

    def wrap(self, module_name: str, path: str, timer: str) -> None:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        original = getattr(owner, name, None)
        if original is None:
            self.missing.append(f"{module_name}.{path}")
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[timer] += time.perf_counter() - started

        setattr(owner, name, timed)


def install_stage_timers() -> StageTimers:
    """Wrap every stage's function in this process; the timers fill as the run goes."""
    timers = StageTimers()
    for module_name, path, timer in WRAPPED:
        timers.wrap(module_name, path, timer)
    return timers


def stage_shares(raw: Mapping[str, float], total: float) -> dict[str, float]:
    """Seconds per stage (STAGES, then `other`: what no timer covers, e.g. loading the scenario, the terminal)."""
    console = raw.get("console reads", 0.0)
    captured = raw.get("capture with console reads", 0.0)
    shares = {
        "deploy": raw.get("deploy", 0.0),
        "run": raw.get("side runs", 0.0) - raw.get("deploy", 0.0) - captured,
        "console reads": console,
        "capture": captured - console,
        **{stage: raw.get(stage, 0.0) for stage in ("normalise", "doctor", "diff", "report")},
    }
    shares["other"] = total - sum(shares.values())
    return shares
