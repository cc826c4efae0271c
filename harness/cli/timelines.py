"""The timeline so far of a side that failed, kept on disk so an error line can point at the file that holds it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System
from drs_parity.gate.parity import SideRunner
from drs_parity.report.files import OutputError, remove_earlier, write_atomically
from drs_parity.run.capture import Timeline
from drs_parity.run.driver import RunError

TIMELINES_FOLDER = "timelines"  # OUT/timelines/<scenario>-<side>.json: each failed side's timeline so far


def noted(error: RunError, note: str) -> RunError:
    """`error` again with `note` at the end of its first line (the line reports and terminals show)."""
    first, newline, rest = str(error).partition("\n")
    return RunError(f"{first} [{note}]{newline}{rest}", error.timeline)


def write_partial_timeline(error: RunError, path: Path) -> RunError:
    """Write the failed run's timeline so far to `path`; the error whose first line names the file (or why it could
    not be written)."""
    assert error.timeline is not None, "only a run that captured something has a timeline so far"
    steps = len(error.timeline.steps)
    try:
        keep_timeline(error.timeline, path)
    except OutputError as problem:
        return noted(error, f"{problem}")
    except OSError as problem:
        return noted(error, f"cannot write the timeline so far to {path}: {problem.strerror}")
    return noted(error, f"the timeline so far ({steps} steps): {path}")


def keep_timeline(timeline: Timeline, path: Path) -> None:
    """`timeline` written to `path`, its folder made if needed (OutputError when the file cannot be written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, timeline.to_json(), "the timeline so far")


def failed_timeline_path(out_dir: Path, scenario: str, side: str) -> Path:
    """Where `run` keeps a failed side's timeline so far: OUT/timelines/<scenario>-<side>.json (safe file name)."""
    return out_dir / TIMELINES_FOLDER / f"{safe_name(scenario)}-{safe_name(side)}.json"


def safe_name(text: str) -> str:
    """`text` as one file name part: anything but letters, digits, dot, dash and underscore becomes `_`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"


def clear_failed_timelines(out_dir: Path) -> None:
    """Before a run: remove the timelines an earlier run left in OUT/timelines (one it could not remove, or a file
    in the folder's place, is an OutputError), so every file there is this run's."""
    folder = out_dir / TIMELINES_FOLDER
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write failed sides' timelines to {folder}: it is not a folder")
    for earlier in failed_timelines(out_dir):
        remove_earlier(earlier)


def failed_timelines(out_dir: Path) -> list[Path]:
    """The timelines so far this run left in OUT/timelines (the folder is cleared before the run)."""
    folder = out_dir / TIMELINES_FOLDER
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def keeping_failed_timelines(runner: SideRunner, out_dir: Path) -> SideRunner:
    """`runner`, but a side that fails after capturing something leaves its timeline so far in OUT/timelines, and
    its error (the scenario's error line) names that file."""

    def run(system: System, scenario: Scenario, *, backend: str, clock_start: int) -> Timeline | Mapping[str, Any]:
        try:
            timeline = runner(system, scenario, backend=backend, clock_start=clock_start)
        except RunError as error:
            if error.timeline is None:
                raise
            raise write_partial_timeline(error, failed_timeline_path(out_dir, scenario.name, system.name)) from error
        if isinstance(timeline, Timeline) and timeline.stopped is not None:  # the system stopped it: kept there too
            keep_timeline(timeline, failed_timeline_path(out_dir, scenario.name, system.name))
        return timeline

    return run
