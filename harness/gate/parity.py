"""The parity run: both sides per scenario on one clock, normalised, diffed, judged by rules and noise; its CLI."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from drs_parity.world.clock import DEFAULT_START
from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.normalise import NormaliseOptions, normalise_timeline
from drs_parity.report.report import ParityResult, Progress, ScenarioResult, terminal_summary, to_html, to_json, write_reports
from drs_parity.compare.rules import NoiseEntry, RuleSet, RulesError, apply_noise, apply_rules, load_rules, noise_from_self_diff

if TYPE_CHECKING:  # the real types; at run time any object with a `name` will do (tests pass light stand-ins)
    from drs_parity.diagnose.doctor import Diagnosis  # imported late at run time: the doctor registers a CLI subcommand
    from drs_parity.fixtures.scenario import Scenario
    from drs_parity.fixtures.system import System

SideRunner = Callable[..., Any]  # driver.run_side(system, scenario, backend=, clock_start=) -> Timeline
DEFAULT_LEFT, DEFAULT_RIGHT = "monolithic", "decomposed"
RUN_HELP = "run the scenarios on both sides and diff what users see (exit 0 parity, 1 divergence, 2 error)"


def one_line(error: BaseException) -> str:
    """An error's first line (its type name when it has no text)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def default_runner() -> SideRunner:
    """The driver's run_side."""
    from drs_parity.run.driver import run_side  # the driver pulls in the world (moto); only needed for a real run

    return run_side


class ScenarioRun:
    """Runs one scenario: each side (and, when calibrating, each side again) on a fresh world, same clock start."""

    def __init__(self, runner: SideRunner, backend: str, options: NormaliseOptions, clock_start: int) -> None:
        """One scenario's runs share the runner, backend, normalisation and clock start; timings per label."""
        self.runner = runner
        self.backend = backend
        self.options = options
        self.clock_start = clock_start
        self.timings: dict[str, float] = {}

    def capture(self, system: Any, scenario: Any, label: str) -> dict[str, Any]:
        """Run one side; its raw timeline (capture schema)."""
        started = time.perf_counter()
        try:
            timeline = self.runner(system, scenario, backend=self.backend, clock_start=self.clock_start)
        except Exception as error:  # any failure of a side is this scenario's harness error, not the run's
            raise SideError(f"{label}: {type(error).__name__}: {one_line(error)}") from error
        finally:
            self.timings[label] = time.perf_counter() - started
        return timeline.to_dict() if hasattr(timeline, "to_dict") else timeline

    def side(self, system: Any, scenario: Any, label: str) -> dict[str, Any]:
        """Run one side; its normalised timeline."""
        return normalise_timeline(self.capture(system, scenario, label), self.clock_start, self.options)

    def diagnosed_side(self, system: Any, scenario: Any, label: str) -> tuple[dict[str, Any], Diagnosis]:
        """Run one side; its normalised timeline and the doctor's diagnosis of it, in the same references."""
        from drs_parity.diagnose.doctor import diagnose

        raw = self.capture(system, scenario, label)
        return normalised_with_diagnosis(raw, diagnose(raw), self.clock_start, self.options)

    def noise(self, system: Any, scenario: Any, first: Mapping[str, Any], label: str) -> list[NoiseEntry]:
        """Run the side again and diff it against its first run: whatever differs is noise."""
        second = self.side(system, scenario, f"{label} (calibration)")
        return noise_from_self_diff(label, diff_timelines(first, second, scenario_name(scenario)))


class SideError(RuntimeError):
    """One side of one scenario failed to run; the message is the one-line reason."""


DOCTOR_STEP = "doctor"  # a transient last step whose log lines are the diagnosis texts to normalise


def diagnosis_texts(diagnosis: Diagnosis) -> list[str]:
    """The execution id, then every check's evidence: the diagnosis's only free text that can hold generated ids."""
    return [str(diagnosis.execution_id or ""), *(check.evidence for check in diagnosis.checks)]


def with_doctor_step(raw: Mapping[str, Any], texts: list[str]) -> dict[str, Any]:
    """The timeline plus a last step logging `texts`: appended last, it changes no earlier reference number."""
    steps = list(raw.get("steps") or [])
    time_ = steps[-1].get("time") if steps else raw.get("clockStart")
    logs = [{"message": f"{number:04d} {text}"} for number, text in enumerate(texts)]
    return {**raw, "steps": [*steps, {"index": len(steps), "name": DOCTOR_STEP, "time": time_, "logs": logs}]}


def normalised_with_diagnosis(raw: Mapping[str, Any], diagnosis: Diagnosis, clock_start: int,
                              options: NormaliseOptions) -> tuple[dict[str, Any], Diagnosis]:
    """Normalise the timeline and the diagnosis's texts together, so `<executionId:1>` means the same in both."""
    from drs_parity.diagnose.doctor import Check, Diagnosis

    normalised = normalise_timeline(with_doctor_step(raw, diagnosis_texts(diagnosis)), clock_start, options)
    doctor_step = normalised["steps"].pop()
    execution_id, *evidence = [message.split(" ", 1)[1] for message in sorted(doctor_step["logs"])]
    checks = [Check(check.link, check.title, check.status, text) for check, text in zip(diagnosis.checks, evidence)]
    return normalised, Diagnosis(diagnosis.side, diagnosis.scenario, execution_id or None, checks)


def scenario_name(scenario: Any) -> str:
    """A scenario's name (or the value itself)."""
    return str(getattr(scenario, "name", scenario))


def system_name(system: Any) -> str:
    """A system's name (or the value itself)."""
    return str(getattr(system, "name", system))


def final_status(normalised: Mapping[str, Any]) -> str | None:
    """The execution statuses at the last step (comma-joined when a scenario ran several executions)."""
    steps = normalised.get("steps") or []
    if not steps:
        return None
    items = (steps[-1].get("tables") or {}).get("execution-history") or {}
    statuses = [str(item.get("status")) for _, item in sorted(items.items()) if isinstance(item, dict)]
    return ",".join(statuses) or None


def run_scenario(left: Any, right: Any, scenario: Any, run: ScenarioRun, calibrate: bool) -> ScenarioResult:
    """Both sides of one scenario: divergences, each side's chain diagnosis, noise; a side failure is its error."""
    name = scenario_name(scenario)
    result = ScenarioResult(scenario=name, timings=run.timings)
    left_label, right_label = system_name(left), system_name(right)
    if left_label == right_label:  # a side against itself: keep the labels apart in noise and timings
        left_label, right_label = f"{left_label} (left)", f"{right_label} (right)"
    try:
        left_timeline, result.left_chain = run.diagnosed_side(left, scenario, left_label)
        right_timeline, result.right_chain = run.diagnosed_side(right, scenario, right_label)
        result.left_final, result.right_final = final_status(left_timeline), final_status(right_timeline)
        result.divergences = diff_timelines(left_timeline, right_timeline, name)
        if calibrate:
            result.noise = (run.noise(left, scenario, left_timeline, left_label)
                            + run.noise(right, scenario, right_timeline, right_label))
    except SideError as error:
        result.error = str(error)
    apply_noise(result.divergences, result.noise)
    return result


def run_parity(left: System, right: System, scenarios: list[Scenario], backend: str, rules: RuleSet | None = None,
               calibrate: bool = True, progress: Progress | None = None, *, runner: SideRunner | None = None,
               options: NormaliseOptions | None = None, clock_start: int = DEFAULT_START) -> ParityResult:
    """Both systems on every scenario; a failing scenario is recorded as an error and the others still run."""
    rules = rules or RuleSet()
    for rule in rules.rules:
        rule.matched = 0
    runner = runner or default_runner()
    options = options or NormaliseOptions()
    started = time.perf_counter()
    result = ParityResult(left=system_name(left), right=system_name(right), backend=backend,
                          rules_source=rules.source, calibrated=calibrate)
    for scenario in scenarios:
        if progress:
            progress.start(scenario_name(scenario))
        outcome = run_scenario(left, right, scenario, ScenarioRun(runner, backend, options, clock_start), calibrate)
        apply_rules(outcome.divergences, rules)
        result.scenarios.append(outcome)
        if progress:
            progress.done(outcome)
    result.stale_rules = rules.stale()
    result.seconds = time.perf_counter() - started
    return result


# -- drs-parity run --------------------------------------------------------------------------------------------------
def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`drs-parity run`'s options."""
    parser.add_argument("--left", default=DEFAULT_LEFT,
                        help=f"system name or description file (default {DEFAULT_LEFT})")
    parser.add_argument("--right", default=DEFAULT_RIGHT,
                        help=f"system name or description file (default {DEFAULT_RIGHT})")
    parser.add_argument("--scenario", action="append", metavar="NAME", help="scenario (repeatable; default: all)")
    parser.add_argument("--backend", default="moto", help="emulated AWS: moto, moto-server, localstack (default moto)")
    parser.add_argument("--right-regression", metavar="NAME",
                        help="switch on a regression catalogue entry (fixtures/regressions) for the right side")
    parser.add_argument("--rules", type=Path, metavar="FILE", help="accepted divergences (YAML or TOML)")
    parser.add_argument("--out", type=Path, default=Path("parity-report"), metavar="DIR",
                        help="report folder (default ./parity-report)")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="JUnit XML file (default DIR/junit.xml)")
    parser.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                        help="skip running each side against itself to find noise")
    parser.add_argument("--format", choices=("md", "html", "json"), default="md",
                        help="what to print: md (summary table and verdict), html or json (the whole report)")


def run_command(args: argparse.Namespace) -> int:
    """`drs-parity run`: configuration errors raise the CLI's one-line error; the verdict is the exit code."""
    from drs_parity.cli.main import CliError, require_backend
    from drs_parity.fixtures.regressions import RegressionError, load_regression, regressed_system, side_runner
    from drs_parity.fixtures.scenario import list_scenarios, load_scenarios
    from drs_parity.fixtures.system import load_system

    try:
        rules = load_rules(args.rules)
        regression = load_regression(args.right_regression) if args.right_regression else None
    except (RulesError, RegressionError) as error:
        raise CliError(str(error)) from None
    left, right = load_system(args.left), load_system(args.right)
    if regression is not None and right.name != regression.base:
        raise CliError(f"regression {regression.name} applies to {regression.base}, not {right.name}")
    scenarios = load_scenarios(args.scenario or list_scenarios())
    if not scenarios:
        raise CliError("no scenarios to run (is DRS_PARITY_FIXTURES pointing at a fixtures folder?)")
    backend = require_backend(args.backend)
    _require_writable_folder(args.out, CliError)  # say so before a long run, not after it
    with regressed_system(regression) if regression is not None else contextlib.nullcontext() as variant:
        runner = side_runner(variant) if variant is not None else None
        right = variant.system if variant is not None else right
        result = run_parity(left, right, scenarios, backend, rules, calibrate=args.calibrate, progress=Progress(),
                            runner=runner)
    try:
        write_reports(result, args.out, args.junit)
    except OSError as error:
        raise CliError(f"cannot write the report: {error.filename}: {error.strerror}") from None
    print_result(result, args.format)
    return result.exit_code


def _require_writable_folder(folder: Path, error: type[Exception]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise error(f"cannot write the report to {folder}: {problem.strerror}") from None
    if not folder.is_dir():
        raise error(f"cannot write the report to {folder}: it is not a folder")


def print_result(result: ParityResult, output_format: str) -> None:
    """The terminal output: md (summary, chains, first divergences, verdict), html or json."""
    if output_format == "json":
        print(json.dumps(to_json(result), indent=2, sort_keys=True, default=str))
    elif output_format == "html":
        print(to_html(result))
    else:
        print(terminal_summary(result))
