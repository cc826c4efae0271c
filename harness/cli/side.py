"""`drs-parity side`: run one scenario on one side, print its steps and check the scenario's expectations."""

from __future__ import annotations

import argparse
from pathlib import Path

from drs_parity.cli.common import Subcommand, add_backend_argument, require_backend
from drs_parity.cli.timelines import noted, write_partial_timeline
from drs_parity.errors import ExitCode
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System, load_system
from drs_parity.report.files import prepare_outputs, write_atomically
from drs_parity.run.capture import StepCapture, Timeline
from drs_parity.run.driver import RunError, check_expectations, run_side


def add_side_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity side`'s options."""
    parser.add_argument("--system", required=True, help="system name (fixtures/systems) or description file")
    parser.add_argument("--scenario", required=True, help="scenario name (fixtures/scenarios) or file")
    add_backend_argument(parser)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the captured timeline as JSON")


def side(args: argparse.Namespace) -> int:
    """One line per step, why the system stopped the side (if it did), the unmet expectations; exit 1 when the side
    stopped or an expectation is unmet (the system's behaviour), 2 for an error of the harness or its inputs."""
    if args.json:  # checked before the run, and no earlier timeline is left behind
        prepare_outputs({args.json: "the timeline"})
    system = load_system(args.system)
    scenario = load_scenarios([args.scenario])[0]
    backend = require_backend(args.backend)
    timeline = _run_keeping_what_failed(system, scenario, backend, args.json)
    _print_steps(timeline)
    if args.json:
        write_atomically(args.json, timeline.to_json(), "the timeline")
    if timeline.stopped is not None:  # the system refused what the scenario needs: a result, on one line
        print(f"STOPPED  {timeline.stopped.reason}")
    problems = check_expectations(scenario, timeline)
    for problem in problems:
        print(f"UNMET  {problem}")
    print(f"{system.name} / {scenario.name}: {_outcome(timeline, problems)}")
    return ExitCode.DIVERGENCE if problems or timeline.stopped is not None else ExitCode.OK


def _outcome(timeline: Timeline, problems: list[str]) -> str:
    """The last line's verdict: where the side stopped (and how many expectations are unmet), else whether the
    expectations were met."""
    unmet = f"{len(problems)} unmet"
    if timeline.stopped is None:
        return unmet if problems else "expectations met"
    return f"stopped at step {timeline.stopped.step} ({timeline.stopped.name})" + (f"; {unmet}" if problems else "")


def _run_keeping_what_failed(system: System, scenario: Scenario, backend: str, path: Path | None) -> Timeline:
    """The side's timeline; when the run fails, its steps so far are printed and written to --json FILE, and the
    one-line error says where."""
    try:
        return run_side(system, scenario, backend=backend)
    except RunError as error:
        if error.timeline is None:
            raise
        _print_steps(error.timeline)
        if path is None:
            raise noted(error, f"{len(error.timeline.steps)} steps captured; rerun with --json FILE to keep the "
                               f"timeline so far") from error
        raise write_partial_timeline(error, path) from error


def _print_steps(timeline: Timeline) -> None:
    """One line per captured step."""
    for step in timeline.steps:
        print(_step_summary(step, timeline.steps[0].time))


def _step_summary(step: StepCapture, start: int) -> str:
    """One step as one line: virtual time, name, console statuses and how much was captured."""
    elapsed = step.time - start
    clock = f"{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}"
    statuses = ",".join(str(record["status"]) for record in step.api if not record["console"]) or "-"
    outcome = f"  {step.until['outcome']} ({step.until['status']})" if step.until else ""
    return (f"[{step.index:>2}] t+{clock}  {step.name:<40} api {statuses:<8} invocations {len(step.invocations):>3}  "
            f"calls {len(step.calls):>3}  logs {len(step.logs):>3}{outcome}")


SIDE_HELP = ("run one scenario on one side and check the scenario's expectations (exit 0 met, 1 unmet or the system "
             "stopped the side by refusing a request the scenario needs, 2 error)")
COMMAND = Subcommand("side", SIDE_HELP, add_side_arguments, side)
