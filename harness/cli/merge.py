"""`drs-parity merge`: the shards' report.json files joined into one report folder and one verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

from drs_parity.cli.common import Subcommand
from drs_parity.cli.run import add_format_argument, add_junit_argument, print_result
from drs_parity.gate.merge import merge_shards
from drs_parity.report.files import prepare_outputs, report_outputs, write_reports
from drs_parity.report.json_load import read_report

MERGE_HELP = ("join the report.json files of `drs-parity run --shard K/N` into one report "
              "(exit 0 parity, 1 divergence, 2 error)")


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity merge`'s arguments."""
    parser.add_argument("out", type=Path, metavar="OUT",
                        help="report folder to write: report.md, report.html, report.json, junit.xml")
    parser.add_argument("reports", type=Path, nargs="+", metavar="REPORT.json",
                        help="every shard's report.json (shards 1 to N of one run, each once)")
    add_junit_argument(parser, "OUT")
    add_format_argument(parser)


def merge_command(args: argparse.Namespace) -> int:
    """Read every shard's report (before OUT is cleared: a report may live there), join them, write and print the
    whole run's report; its verdict is the exit code."""
    merged = merge_shards([(str(path), read_report(path)) for path in args.reports])
    prepare_outputs(report_outputs(args.out, args.junit))
    write_reports(merged, args.out, args.junit)
    print_result(merged, args.format)
    return merged.exit_code


COMMAND = Subcommand("merge", MERGE_HELP, add_merge_arguments, merge_command)
