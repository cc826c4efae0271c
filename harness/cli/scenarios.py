"""`drs-parity scenarios`: list the fixture scenarios, or validate every one of them."""

from __future__ import annotations

import argparse

from drs_parity.cli.common import CliError, Subcommand
from drs_parity.errors import ExitCode
from drs_parity.fixtures.scenario import ScenarioError, list_scenarios, load_scenarios


def add_scenarios_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity scenarios`' options."""
    parser.add_argument("--validate", action="store_true", help="validate every scenario; exit 1 if one is invalid")


def scenarios(args: argparse.Namespace) -> int:
    """Each scenario's name and description (or, with --validate, whether it loads)."""
    names = list_scenarios()
    if not names:
        raise CliError("no scenarios found (is DRS_PARITY_FIXTURES pointing at a fixtures folder?)")
    if args.validate:
        return _validate_scenarios(names)
    width = max(len(name) for name in names)
    for scenario in load_scenarios(names):
        print(f"{scenario.name:<{width}}  {scenario.description}")
    return ExitCode.OK


def _validate_scenarios(names: list[str]) -> int:
    """One line per scenario, ok or why not; exit 1 when one is invalid."""
    invalid = 0
    for name in names:
        try:
            load_scenarios([name])
        except ScenarioError as error:
            invalid += 1
            print(f"invalid  {error}")
            continue
        print(f"ok       {name}")
    print(f"{len(names) - invalid} of {len(names)} scenarios valid")
    return ExitCode.DIVERGENCE if invalid else ExitCode.OK


COMMAND = Subcommand("scenarios", "list the fixture scenarios with their descriptions", add_scenarios_arguments,
                     scenarios)
