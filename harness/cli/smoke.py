"""`drs-parity smoke`: deploy the monolith's template and watch one DRS drill job progress on virtual time."""

from __future__ import annotations

import argparse
from typing import Any

from drs_parity.cli.common import Subcommand, add_backend_argument, require_backend
from drs_parity.errors import ExitCode
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.world.world import World

SMOKE_TICK = 30
SMOKE_LIMIT = 15 * 60


def add_smoke_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity smoke`'s options."""
    add_backend_argument(parser)
    parser.add_argument("--scenario", default="two-wave-drill", help="scenario whose first source server is recovered")


def smoke(args: argparse.Namespace) -> int:
    """Recover the scenario's first source server; exit 0 when its job completes within the limit."""
    backend = require_backend(args.backend)
    scenario = load_scenarios([args.scenario])[0]
    template = load_system("monolithic").template
    with World(backend=backend, region=scenario.region) as world:
        stack = world.deploy(str(template), "drs-parity-smoke")
        print(f"deployed {template.parent.name}/{template.name} on {backend}: {len(stack.resources)} resources")
        world.drs.load(scenario.drs_config(), scenario.drs_source_servers(), scenario.drs_faults())
        server = scenario.source_servers[0]
        drs = world.client("drs", region=server.region, account_id=server.account_id)
        job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}], isDrill=True)["job"]
        print(f"started {job['jobID']} for {server.source_server_id} ({server.hostname})")
        final = _watch_job(world, drs, job["jobID"])
    return ExitCode.OK if final == "COMPLETED" else ExitCode.DIVERGENCE


def _watch_job(world: World, drs: Any, job_id: str) -> str:
    """Advance the clock in ticks, printing each change of the job, until it completes (or the limit)."""
    last, status = "", ""
    while world.clock.elapsed() <= SMOKE_LIMIT:
        job = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        status = job["status"]
        servers = ", ".join(f"{s['sourceServerID']} {s.get('launchStatus', '?')}"
                            for s in job.get("participatingServers", ()))
        line = f"{status:<10} {servers}"
        if line != last:
            print(f"  t+{int(world.clock.elapsed()):>4}s  {line}")
            last = line
        if status == "COMPLETED":
            break
        world.clock.advance(SMOKE_TICK)
    return status


COMMAND = Subcommand("smoke", "deploy the monolith's template and watch one DRS drill job progress on virtual time",
                     add_smoke_arguments, smoke)
