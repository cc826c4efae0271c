"""`drs-parity drs-emulator`: serve a scenario's DRS over HTTP in wall time, for the AWS CLI or a browser."""

from __future__ import annotations

import argparse

from drs_parity.cli.common import CliError, Subcommand
from drs_parity.errors import ExitCode
from drs_parity.fixtures.scenario import load_scenario, resolve_scenario_path
from drs_parity.world.drs import serve_forever


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity drs-emulator`'s options."""
    parser.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--scenario", required=True, help="scenario name or YAML file whose DRS sections to serve")


def drs_emulator(args: argparse.Namespace) -> int:
    """Serve until interrupted; a bad port or an unusable scenario is the user's one-line error."""
    scenario = load_scenario(resolve_scenario_path(args.scenario))
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {args.port}")

    def announce(url: str) -> None:  # only once the port is bound: a taken port prints nothing but its error
        print(f"Serving the DRS of scenario {scenario.name} at {url}")
        print(f"Try: aws drs describe-source-servers --endpoint-url {url} --region {scenario.region}", flush=True)

    try:
        serve_forever(str(scenario.path), args.port, announce)
    except (ValueError, OSError) as error:
        raise CliError(str(error)) from None
    return ExitCode.OK


COMMAND = Subcommand("drs-emulator",
                     "serve a scenario's DRS (source servers, job timelines, faults) over HTTP in wall time",
                     add_emulator_arguments, drs_emulator)
