"""The `drs-parity` command line: a registry of subcommands, each a small function, and one-line user errors."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence

from drs_parity.run.driver import RunError, check_expectations, run_side
from drs_parity.fixtures.scenario import ScenarioError, list_scenarios, load_scenario, load_scenarios, resolve_scenario_path
from drs_parity.fixtures.system import SystemDescriptionError, load_system

PROG = "drs-parity"
BACKENDS = ("moto", "moto-server", "localstack")
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class CliError(Exception):
    """A user mistake or an unusable environment: printed as one line, exit 2."""


# Exceptions that are the user's (or the environment's) to fix: one line, never a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (CliError, ScenarioError, SystemDescriptionError, RunError)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2) like every other user error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


# -- the subcommand registry ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None
               ) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register `run(args) -> exit code` as `drs-parity NAME`; `arguments(parser)` declares its options.

    Subcommands living in other modules (run, doctor) register the same way, from the end of this one.
    """

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        SUBCOMMANDS[name] = Subcommand(name, help, arguments, run)
        return run

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Prove a decomposed serverless system behaves like its monolith.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in SUBCOMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "run", None) is None:
            raise CliError(f"a command is required: {', '.join(SUBCOMMANDS)} (see {PROG} --help)")
        return args.run(args)
    except USER_ERRORS as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # `drs-parity doctor | head`: the reader left; nothing more to say
        sys.stderr.close()
        return EXIT_ERROR


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# -- shared options ---------------------------------------------------------------------------------------------------
def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="moto", help=f"emulated AWS: {', '.join(BACKENDS)} (default moto)")


def require_backend(name: str) -> str:
    """The backend name, checked to be known and reachable (CliError otherwise)."""
    if name not in BACKENDS:
        raise CliError(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})")
    from drs_parity.world.world import backend_available

    available, reason = backend_available(name)
    if not available:
        raise CliError(f"backend {name} is not available: {reason}")
    return name


@contextlib.contextmanager
def world_errors() -> Iterator[None]:
    """A backend that fails to come up, or a template that fails to deploy, is the user's one-line error."""
    from drs_parity.world.world import BackendUnavailable, DeployError

    try:
        yield
    except (BackendUnavailable, DeployError) as error:
        raise CliError(str(error)) from None


# -- drs-emulator -----------------------------------------------------------------------------------------------------
def _emulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--scenario", required=True, help="scenario name or YAML file whose DRS sections to serve")


@subcommand("drs-emulator", "serve a scenario's DRS (source servers, job timelines, faults) over HTTP in wall time",
            _emulator_arguments)
def drs_emulator(args: argparse.Namespace) -> int:
    from drs_parity.world.drs import serve_forever

    scenario = load_scenario(resolve_scenario_path(args.scenario))
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {args.port}")
    url = f"http://127.0.0.1:{args.port}"
    print(f"Serving the DRS of scenario {scenario.name} at {url}")
    print(f"Try: aws drs describe-source-servers --endpoint-url {url} --region {scenario.region}", flush=True)
    try:
        serve_forever(str(scenario.path), args.port)
    except (ValueError, OSError) as error:
        raise CliError(str(error)) from None
    return EXIT_OK


# -- scenarios --------------------------------------------------------------------------------------------------------
def _scenarios_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--validate", action="store_true", help="validate every scenario; exit 1 if one is invalid")


@subcommand("scenarios", "list the fixture scenarios with their descriptions", _scenarios_arguments)
def scenarios(args: argparse.Namespace) -> int:
    names = list_scenarios()
    if not names:
        raise CliError("no scenarios found (is DRS_PARITY_FIXTURES pointing at a fixtures folder?)")
    if args.validate:
        return _validate_scenarios(names)
    width = max(len(name) for name in names)
    for scenario in load_scenarios(names):
        print(f"{scenario.name:<{width}}  {scenario.description}")
    return EXIT_OK


def _validate_scenarios(names: list[str]) -> int:
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
    return EXIT_FAILED if invalid else EXIT_OK


# -- smoke ------------------------------------------------------------------------------------------------------------
SMOKE_TICK = 30
SMOKE_LIMIT = 15 * 60


def _smoke_arguments(parser: argparse.ArgumentParser) -> None:
    add_backend_argument(parser)
    parser.add_argument("--scenario", default="two-wave-drill", help="scenario whose first source server is recovered")


@subcommand("smoke", "deploy the monolith's template and watch one DRS drill job progress on virtual time",
            _smoke_arguments)
def smoke(args: argparse.Namespace) -> int:
    from drs_parity.world.world import World

    backend = require_backend(args.backend)
    scenario = load_scenarios([args.scenario])[0]
    template = load_system("monolithic").template
    with world_errors(), World(backend=backend, region=scenario.region) as world:
        stack = world.deploy(str(template), "drs-parity-smoke")
        print(f"deployed {template.parent.name}/{template.name} on {backend}: {len(stack.resources)} resources")
        world.drs.load(scenario.drs_config(), scenario.drs_source_servers(), scenario.drs_faults())
        server = scenario.source_servers[0]
        drs = world.client("drs", region=server.region, account_id=server.account_id)
        job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}], isDrill=True)["job"]
        print(f"started {job['jobID']} for {server.source_server_id} ({server.hostname})")
        final = _watch_job(world, drs, job["jobID"])
    return EXIT_OK if final == "COMPLETED" else EXIT_FAILED


def _watch_job(world: Any, drs: Any, job_id: str) -> str:
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


# -- side -------------------------------------------------------------------------------------------------------------
def _side_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", required=True, help="system name (fixtures/systems) or description file")
    parser.add_argument("--scenario", required=True, help="scenario name (fixtures/scenarios) or file")
    add_backend_argument(parser)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the captured timeline as JSON")


@subcommand("side", "run one scenario on one side and check the scenario's expectations", _side_arguments)
def side(args: argparse.Namespace) -> int:
    system = load_system(args.system)
    scenario = load_scenarios([args.scenario])[0]
    backend = require_backend(args.backend)
    with world_errors():
        timeline = run_side(system, scenario, backend=backend)
    for step in timeline.steps:
        print(_step_summary(step, timeline.steps[0].time))
    if args.json:
        _write_text(args.json, timeline.to_json())
    problems = check_expectations(scenario, timeline)
    for problem in problems:
        print(f"UNMET  {problem}")
    print(f"{system.name} / {scenario.name}: " + ("expectations met" if not problems else f"{len(problems)} unmet"))
    return EXIT_FAILED if problems else EXIT_OK


def _step_summary(step: Any, start: int) -> str:
    elapsed = step.time - start
    clock = f"{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}"
    statuses = ",".join(str(record["status"]) for record in step.api if not record["console"]) or "-"
    outcome = f"  {step.until['outcome']} ({step.until['status']})" if step.until else ""
    return (f"[{step.index:>2}] t+{clock}  {step.name:<40} api {statuses:<8} invocations {len(step.invocations):>3}  "
            f"calls {len(step.calls):>3}  logs {len(step.logs):>3}{outcome}")


def _write_text(path: Path, text: str) -> None:
    """Write `text` to `path`, creating its folder like `run --out` does; a failure is the user's one-line error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None


# -- run (harness/parity.py) ------------------------------------------------------------------------------------------
from drs_parity.gate.parity import RUN_HELP, add_run_arguments, run_command  # noqa: E402  (at the end: no import cycle)

subcommand("run", RUN_HELP, add_run_arguments)(run_command)


# -- later subcommands ----------------------------------------------------------------------------------------------
# Each of these modules registers its subcommand(s) on import with `subcommand(...)` (imported last, so `subcommand`
# exists when they import it back). Add a new subcommand's module here the same way.
EXTENSION_MODULES = ("drs_parity.diagnose.doctor",)
for _module in EXTENSION_MODULES:
    importlib.import_module(_module)


if __name__ == "__main__":
    # run the registry of the imported module (where the extensions registered), not this __main__ copy
    from drs_parity.cli.main import main as registered_main

    sys.exit(registered_main())
