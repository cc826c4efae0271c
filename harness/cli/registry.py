"""The explicit list of `drs-parity` subcommands, in the order `--help` shows them: add a new one here."""

from __future__ import annotations

from drs_parity.cli import doctor, drs_emulator, faults, merge, run, scenarios, side, smoke
from drs_parity.cli.common import Subcommand

SUBCOMMANDS: tuple[Subcommand, ...] = (
    drs_emulator.COMMAND,
    scenarios.COMMAND,
    smoke.COMMAND,
    side.COMMAND,
    run.COMMAND,
    merge.COMMAND,
    doctor.COMMAND,
    faults.COMMAND,
)
