"""The one error hierarchy and the exit codes every subcommand, report and gate shares."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a run tells CI: 0 parity (or healthy), 1 divergence (or broken), 2 an error of the harness or its input."""

    OK = 0
    DIVERGENCE = 1
    ERROR = 2


class DrsParityError(Exception):
    """Base of every error the harness reports as one line and exit 2: bad input, configuration, environment."""

    exit_code: ExitCode = ExitCode.ERROR


class InputError(DrsParityError, ValueError):
    """A file or argument the user gave cannot be used (scenario, system, rules, regression, CLI usage)."""


class EnvironmentProblem(DrsParityError, RuntimeError):
    """Something around the run is not there: a backend that does not answer, a port taken, a folder not writable."""
