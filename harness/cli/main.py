"""The `drs-parity` entry point: a parser built from the registry, and every harness error as one line."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from drs_parity.cli import registry
from drs_parity.cli.common import PROG, CliError, Subcommand, exit_code_of
from drs_parity.world.world import fewer_young_collections


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2) like every other user error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


def build_parser(subcommands: Sequence[Subcommand]) -> argparse.ArgumentParser:
    """The parser with one subparser per subcommand, each knowing the function it runs."""
    parser = _Parser(prog=PROG, description="Prove a decomposed serverless system behaves like its monolith.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in subcommands:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `drs-parity ARGV`; its exit code (0 parity or healthy, 1 divergence or broken, 2 error)."""
    # The run's young generation collected as seldom as inside a world, also between worlds: otherwise each side's
    # end pays a full young (and middle) collection over the timeline it keeps (~7% of the gate's CPU).
    restore_collections = fewer_young_collections()
    try:
        return exit_code_of(lambda: _dispatch(argv, registry.SUBCOMMANDS))
    finally:
        restore_collections()


def _dispatch(argv: Sequence[str] | None, subcommands: Sequence[Subcommand]) -> int:
    """Parse `argv` and run the subcommand it names."""
    args, unknown = build_parser(subcommands).parse_known_args(argv)
    if unknown:  # argparse would point at the top-level help; the subcommand's help lists its options
        command = f"{PROG} {args.command}" if getattr(args, "command", None) else PROG
        raise CliError(f"unrecognized arguments: {' '.join(unknown)} (see {command} --help)")
    if getattr(args, "run", None) is None:
        names = ", ".join(command.name for command in subcommands)
        raise CliError(f"a command is required: {names} (see {PROG} --help)")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
