"""`drs-parity faults`: the fault matrix, each fault × each scenario it applies to, both sides (exit 0 all held)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from drs_parity.cli.common import (
    NO_SCENARIOS, CliError, Subcommand, add_backend_argument, add_pair_arguments, add_right_regression_argument,
    require_applies, require_backend, right_side,
)
from drs_parity.cli.run import positive_int
from drs_parity.fixtures.regressions import load_regression
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.fault_cases import CASES, fault_case
from drs_parity.gate.fault_matrix import run_matrix
from drs_parity.gate.jobs import default_jobs
from drs_parity.gate.parity import distinct_scenarios
from drs_parity.report.fault_table import terminal_text, write_matrix
from drs_parity.report.files import require_writable_folder

FAULTS_HELP = ("run each fault on each scenario it applies to, both sides with and without it "
               "(exit 0 every cell held, 1 a cell did not, 2 error)")


def add_faults_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity faults`'s options."""
    parser.add_argument("--fault", action="append", metavar="NAME",
                        help=f"fault (repeatable; default all: {', '.join(case.name for case in CASES)})")
    parser.add_argument("--scenario", action="append", metavar="NAME", help="scenario (repeatable; default: all)")
    add_pair_arguments(parser)
    add_right_regression_argument(parser)
    add_backend_argument(parser)
    parser.add_argument("--jobs", type=positive_int, default=default_jobs(), metavar="N",
                        help="side runs in N parallel processes (default: the number of cores)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="also write the table as DIR/fault-matrix.md and DIR/fault-matrix.json")


class _Progress:
    """One line on stderr per side run as it finishes: a matrix takes minutes."""

    def start(self, label: str) -> None:
        self.label = label

    def done(self, result: Any) -> None:
        print(f"drs-parity: ran {self.label}", file=sys.stderr, flush=True)


def faults_command(args: argparse.Namespace) -> int:
    """Every input checked before anything runs; the table and the figure line printed; all held is exit 0."""
    cases = [fault_case(name) for name in dict.fromkeys(args.fault or [])] or list(CASES)
    scenarios = distinct_scenarios(load_scenarios(list(dict.fromkeys(args.scenario or []))))
    if not scenarios:
        raise CliError(NO_SCENARIOS)
    left, right = load_system(args.left), load_system(args.right)
    regression = load_regression(args.right_regression) if args.right_regression else None
    require_applies(regression, right.name)
    if args.out is not None:
        require_writable_folder(args.out, "the fault matrix")
    backend = require_backend(args.backend)
    with right_side(right, regression) as (right, variant):
        result = run_matrix(left, right, scenarios, backend, cases, args.jobs, variant, _Progress())
    if args.out is not None:
        write_matrix(result, args.out)
    print(terminal_text(result), end="")
    return result.exit_code


COMMAND = Subcommand("faults", FAULTS_HELP, add_faults_arguments, faults_command)
