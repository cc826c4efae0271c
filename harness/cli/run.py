"""`drs-parity run`: the parity run of both systems over the scenarios, its reports and its verdict."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from drs_parity.cli.common import (
    NO_SCENARIOS, CliError, Subcommand, add_backend_argument, add_pair_arguments, add_right_regression_argument,
    require_applies, require_backend, right_side,
)
from drs_parity.cli.timelines import clear_failed_timelines, failed_timelines, keeping_failed_timelines
from drs_parity.compare.rules import load_rules
from drs_parity.fixtures.regressions import load_regression, with_regression_faults
from drs_parity.fixtures.scenario import list_scenarios, load_scenarios
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import load_system
from drs_parity.gate.jobs import default_jobs
from drs_parity.gate.noise_cache import NoiseCache, default_cache_folder
from drs_parity.gate.parity import distinct_scenarios, run_parity, scenario_name
from drs_parity.gate.regressions import side_runner
from drs_parity.gate.results import ParityResult
from drs_parity.gate.shard import Shard, parse_shard, shard_slice
from drs_parity.report.files import prepare_outputs, report_outputs, require_writable_folder, write_reports
from drs_parity.report.html_page import to_html
from drs_parity.report.json_report import json_text
from drs_parity.report.terminal import Progress, terminal_summary
from drs_parity.report.texts import plural, stale_rule_line
from drs_parity.run.driver import run_side

RUN_HELP = "run the scenarios on both sides and diff what users see (exit 0 parity, 1 divergence, 2 error)"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity run`'s options."""
    add_pair_arguments(parser)
    parser.add_argument("--scenario", action="append", metavar="NAME", help="scenario (repeatable; default: all)")
    add_backend_argument(parser)
    add_right_regression_argument(parser)
    parser.add_argument("--rules", type=Path, metavar="FILE", help="accepted divergences (YAML or TOML)")
    parser.add_argument("--out", type=Path, default=Path("parity-report"), metavar="DIR",
                        help="report folder (default ./parity-report)")
    add_junit_argument(parser)
    parser.add_argument("--strict", action="store_true",
                        help="fail the gate (exit 1) when a rule accepted no divergence: a stale rule (for CI)")
    parser.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                        help="skip running each side against itself to find noise")
    parser.add_argument("--noise-cache", type=Path, metavar="DIR",
                        help="where a side's calibration noise is kept and reused while the side's template, code, "
                             "the scenario and the harness are unchanged (default $DRS_PARITY_CACHE, else "
                             "~/.cache/drs-parity)")
    parser.add_argument("--no-noise-cache", dest="noise_cache_used", action="store_false",
                        help="run every side against itself again, whatever was found before")
    parser.add_argument("--jobs", type=positive_int, default=default_jobs(), metavar="N",
                        help="scenarios in N parallel processes, longest first, or a single scenario's two sides "
                             "at once (default: the number of cores; 1: one after the other); the report is the same")
    parser.add_argument("--shard", metavar="K/N",
                        help="run shard K of N: a deterministic slice of the scenarios, the same on every machine "
                             "(join the shards' report.json files with `drs-parity merge`)")
    add_format_argument(parser)


def add_junit_argument(parser: argparse.ArgumentParser, folder: str = "DIR") -> None:
    """The `--junit FILE` option (by default junit.xml in the report `folder`)."""
    parser.add_argument("--junit", type=Path, metavar="FILE", help=f"JUnit XML file (default {folder}/junit.xml)")


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """The `--format` option: what to print."""
    parser.add_argument("--format", choices=("md", "html", "json"), default="md",
                        help="what to print: md (summary table and verdict), html or json (the whole report)")


def run_command(args: argparse.Namespace) -> int:
    """`drs-parity run`: configuration errors raise the CLI's one-line error; the verdict is the exit code."""
    shard = parse_shard(args.shard) if args.shard is not None else None
    prepare_outputs(report_outputs(args.out, args.junit))  # before a long run, and no earlier report is left behind
    clear_failed_timelines(args.out)
    if args.noise_cache is not None:  # given: a user mistake there is refused now (the default may be unwritable)
        require_writable_folder(args.noise_cache, "the noise cache")
    rules = load_rules(args.rules)
    regression = load_regression(args.right_regression) if args.right_regression else None
    left, right = load_system(args.left), load_system(args.right)
    require_applies(regression, right.name)
    named = list(dict.fromkeys(args.scenario or list_scenarios()))  # each named scenario once
    scenarios = [with_regression_faults(scenario, regression)  # the entry's faults: the world's, on both sides
                 for scenario in load_scenarios(named)]
    if not scenarios:
        raise CliError(NO_SCENARIOS)
    matrix = distinct_scenarios(scenarios)
    backend = require_backend(args.backend)
    with right_side(right, regression) as (right, variant):
        runner = keeping_failed_timelines(side_runner(variant) if variant is not None else run_side, args.out)
        result = run_parity(left, right, sliced(matrix, shard), backend, rules, calibrate=args.calibrate,
                            progress=Progress(), runner=runner, strict=args.strict, jobs=args.jobs,
                            noise_cache=noise_cache(args))
    result.shard, result.matrix = shard, [scenario_name(scenario) for scenario in matrix]
    write_reports(result, args.out, args.junit)
    if shard is not None:  # stderr: `--format json` prints only JSON
        print(f"drs-parity: {shard_line(result)}", file=sys.stderr)
    print_result(result, args.format)
    for path in failed_timelines(args.out):  # stderr: `--format json` prints only JSON
        print(f"drs-parity: a failed side's timeline so far: {path}", file=sys.stderr)
    return result.exit_code


def shard_line(result: ParityResult) -> str:
    """What a shard ran of the matrix; with --strict, that its stale rules wait for the merge."""
    strict = "; --strict: stale rules are judged by drs-parity merge" if result.strict and result.partial else ""
    return (f"shard {result.shard}: {plural(len(result.scenarios), 'scenario')} in this shard "
            f"(of {len(result.cells)} in the matrix){strict}")


def sliced(matrix: list[Scenario], shard: Shard | None) -> list[Scenario]:
    """The scenarios this run runs: the whole matrix, or the shard's deterministic slice of it."""
    return shard_slice(matrix, shard, scenario_name) if shard is not None else matrix


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def noise_cache(args: argparse.Namespace) -> NoiseCache:
    """The calibration noise cache: on disk (--noise-cache, default the user's cache folder), or for this run only
    (--no-noise-cache: every side is run against itself again)."""
    if not args.noise_cache_used:
        return NoiseCache()
    return NoiseCache(args.noise_cache or default_cache_folder())


def print_result(result: ParityResult, output_format: str) -> None:
    """The terminal output: the stale rules --strict fails on (stderr, so `--format json` prints only JSON), then
    md (summary, chains, first divergences, verdict last), html or json."""
    if result.strict_failure:
        for rule in result.stale_rules:
            print(f"drs-parity: {stale_rule_line(rule)}", file=sys.stderr)
    if output_format == "json":
        print(json_text(result), end="")
    elif output_format == "html":
        print(to_html(result))
    else:
        print(terminal_summary(result))


COMMAND = Subcommand("run", RUN_HELP, add_run_arguments, run_command)
