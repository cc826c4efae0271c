"""`drs-parity doctor`: diagnose one side's polling chain, run live or read from a captured timeline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drs_parity.cli.common import CliError, Subcommand, add_backend_argument, require_applies, require_backend
from drs_parity.cli.timelines import noted
from drs_parity.diagnose.diagnosis import Diagnosis
from drs_parity.diagnose.doctor import diagnose
from drs_parity.fixtures.regressions import DEFAULT_SCENARIO, load_regression
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.fixtures.vocabulary import ChainVocabulary
from drs_parity.gate import doctor_run
from drs_parity.run.driver import RunError

DOCTOR_HELP = "walk one side's polling chain and name the first broken link (exit 0 healthy, 1 broken)"


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity doctor`'s options."""
    parser.add_argument("--system", default="decomposed",
                        help="system name or description file (default decomposed); its chain: words also read "
                             "--timeline")
    parser.add_argument("--scenario", help="scenario name or file (default the regression's, else two-wave-drill)")
    add_backend_argument(parser)
    parser.add_argument("--regression", metavar="NAME", help="switch on a catalogue entry (fixtures/regressions)")
    parser.add_argument("--timeline", type=Path, metavar="FILE",
                        help="diagnose a captured timeline (drs-parity side --json) instead of running a side")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")


def doctor_command(args: argparse.Namespace) -> int:
    """`drs-parity doctor`: 0 healthy, 1 a link is broken, 2 usage or harness error (raised as CliError)."""
    if args.timeline is not None:  # the side's own words (its description's chain:) read the captured timeline
        diagnosis = _diagnose_file(args.timeline, load_system(args.system).chain)
    else:
        diagnosis = _diagnose_run(args)
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else diagnosis.render())
    return diagnosis.exit_code


def _diagnose_run(args: argparse.Namespace) -> Diagnosis:
    """Run the side (with the regression switched on, if named) on the scenario and diagnose it."""
    regression = load_regression(args.regression) if args.regression else None
    system = load_system(args.system)
    require_applies(regression, system.name)
    scenario = args.scenario or (regression.scenario if regression is not None else DEFAULT_SCENARIO)
    load_scenarios([scenario])  # every input is checked before the run, the backend last
    backend = require_backend(args.backend)
    try:  # through the module: tests stand in for the live run there
        return doctor_run.doctor_side(args.system, scenario, backend, regression)
    except RunError as error:  # the doctor keeps no timeline: say which command does (side has no regressions)
        if error.timeline is None or regression is not None:
            raise
        raise noted(error, f"drs-parity side --system {args.system} --scenario {scenario} --json FILE keeps the "
                           f"timeline so far") from error


def _diagnose_file(path: Path, words: ChainVocabulary) -> Diagnosis:
    """The diagnosis of a timeline file; a file that is not a well-formed timeline is one line of CliError."""
    timeline = _read_timeline(path)
    try:
        return diagnose(timeline, vocabulary=words)
    except (AttributeError, KeyError, TypeError, ValueError) as problem:  # a record of the wrong shape
        raise CliError(f"{path} is not a well-formed timeline (drs-parity side --json): "
                       f"{type(problem).__name__}: {problem}") from None


def _read_timeline(path: Path) -> dict[str, Any]:
    """A side's timeline from its JSON file (drs-parity side --json)."""
    try:
        timeline = json.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise CliError(f"cannot read {path}: {problem.strerror}") from None
    except ValueError as problem:
        raise CliError(f"{path} is not JSON: {problem}") from None
    if not isinstance(timeline, dict) or not isinstance(timeline.get("steps"), list):
        raise CliError(f"{path} is not a side's timeline (drs-parity side --json); a parity report holds no timelines")
    return timeline


COMMAND = Subcommand("doctor", DOCTOR_HELP, add_doctor_arguments, doctor_command)
