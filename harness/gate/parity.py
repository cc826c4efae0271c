"""The parity run: both sides per scenario on one clock, normalised, diffed, diagnosed, judged by rules and noise."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Mapping, Protocol

from drs_parity.compare.classify import classify, noise_from_self_diff, unused
from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.divergence import ACCEPTED, Divergence, NoiseEntry
from drs_parity.compare.normalise import NormaliseOptions, normalise_timeline
from drs_parity.compare.tracks import Track, side_track
from drs_parity.compare.transformers import declared_transformers
from drs_parity.compare.rules import RuleSet
from drs_parity.diagnose.diagnosis import Check, Diagnosis
from drs_parity.diagnose.doctor import diagnose
from drs_parity.errors import InputError
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System
from drs_parity.fixtures.vocabulary import REFERENCE
from drs_parity.gate.jobs import Listener, run_ordered
from drs_parity.gate.noise_cache import NoiseCache
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.gate.stops import both_refused, stop_divergences
from drs_parity.run.capture import Stop, Timeline
from drs_parity.run.driver import run_side
from drs_parity.world.backends import MOTO_PORT_ENV, free_port
from drs_parity.world.clock import DEFAULT_START

DEFAULT_LEFT, DEFAULT_RIGHT = "monolithic", "decomposed"
DOCTOR_STEP = "doctor"  # a transient last step whose log lines are the diagnosis texts to normalise
PARALLEL_BACKENDS = ("moto", "moto-server")  # each process has its own; a LocalStack is one shared state


class SideRunner(Protocol):
    """Runs one side of one scenario (driver.run_side, or a stand-in); its timeline or the timeline's dict."""

    def __call__(self, system: System, scenario: Scenario, *, backend: str,
                 clock_start: int) -> Timeline | Mapping[str, Any]: ...


class SideError(RuntimeError):
    """One side of one scenario failed to run: the harness or its configuration (RunError), never the system's
    answers (a refusal stops the side as a result); the message is the one-line reason."""


def one_line(error: BaseException) -> str:
    """An error's first line (its type name when it has no text)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class ScenarioRun:
    """Runs one scenario: each side (and, when calibrating, each side again) on a fresh world, same clock start."""

    def __init__(self, runner: SideRunner, backend: str, options: NormaliseOptions, clock_start: int,
                 noise_cache: NoiseCache | None = None) -> None:
        """One scenario's runs share the runner, backend, normalisation and clock start; timings per label.
        `noise_cache`: a side's noise is reused while its inputs are unchanged (None: always run it again)."""
        self.runner = runner
        self.noise_cache = noise_cache
        self.backend = backend
        self.options = options
        self.clock_start = clock_start
        self.timings: dict[str, float] = {}
        self.tracks: list[Track] = []  # each side's status track, left then right
        self.stops: list[Stop | None] = []  # where the system stopped each side early (None: it ran every step)
        self.captured: dict[str, tuple[dict[str, Any] | None, str | None]] = {}  # label -> (timeline, or SideError)

    def capture_at_once(self, sides: list[tuple[System, str]], scenario: Scenario, jobs: int) -> None:
        """Run the sides (system, label) at once in `jobs` processes; capture() then answers each side's label with
        its timeline, or its SideError, as if it had run it there (a scenario alone on several cores)."""
        def one(side: tuple[System, str]) -> tuple[str, dict[str, Any] | None, float, str | None]:
            system, label = side
            try:
                return label, self.capture(system, scenario, label), self.timings[label], None
            except SideError as error:
                return label, None, self.timings[label], str(error)
        for label, timeline, seconds, error in run_ordered(sides, one, jobs, lambda side: side[1],
                                                           initializer=own_moto_server_port):
            self.timings[label], self.captured[label] = seconds, (timeline, error)

    def capture(self, system: System, scenario: Scenario, label: str) -> dict[str, Any]:
        """Run one side (or take its run from capture_at_once); its raw timeline (capture schema)."""
        if label in self.captured:
            timeline, error = self.captured.pop(label)
            if timeline is None:
                raise SideError(error)
            return timeline
        started = time.perf_counter()
        try:
            timeline = self.runner(system, scenario, backend=self.backend, clock_start=self.clock_start)
        except Exception as error:  # any failure of a side is this scenario's harness error, not the run's
            raise SideError(f"{label}: {type(error).__name__}: {one_line(error)}") from error
        finally:
            self.timings[label] = time.perf_counter() - started
        # read, never changed, from here on: the capture's own records, not a copy of them
        return timeline.shared_dict() if isinstance(timeline, Timeline) else dict(timeline)

    def side(self, system: System, scenario: Scenario, label: str) -> dict[str, Any]:
        """Run one side; its normalised timeline."""
        return normalise_timeline(self.capture(system, scenario, label), self.clock_start, self.options)

    def diagnosed_side(self, system: System, scenario: Scenario, label: str) -> tuple[dict[str, Any], Diagnosis]:
        """Run one side; its normalised timeline and the doctor's diagnosis of it, in the same references."""
        raw = self.capture(system, scenario, label)
        self.tracks.append(side_track(raw))
        self.stops.append(Stop.from_dict(raw.get("stopped")))
        words = getattr(system, "chain", REFERENCE)  # a stand-in side without a description speaks the contract's
        return normalised_with_diagnosis(raw, diagnose(raw, vocabulary=words), self.clock_start, self.options)

    def noise(self, system: System, scenario: Scenario, first: Mapping[str, Any], label: str) -> list[NoiseEntry]:
        """The side's noise: calibrated, or with a cache the noise found for the same inputs (template, code,
        scenario, harness, backend, options) reused instead."""
        cache = self.noise_cache
        if cache is None:
            return self.calibration_noise(system, scenario, first, label)
        key = cache.key(system, scenario, label, self.context())
        cached = cache.get(key)
        if cached is not None:
            return list(cached)
        noise = self.calibration_noise(system, scenario, first, label)
        cache.put(key, noise)
        return noise

    def calibration_noise(self, system: System, scenario: Scenario, first: Mapping[str, Any],
                          label: str) -> list[NoiseEntry]:
        """Run the side again and diff it against its first run: whatever differs is noise."""
        second = self.side(system, scenario, f"{label} (calibration)")
        return noise_from_self_diff(label, diff_timelines(first, second, scenario_name(scenario),
                                                          list_keys=self.options.list_keys))

    def context(self) -> str:
        """What besides the side's files decides its runs: backend, clock start, normalisation options."""
        return f"{self.backend}\0{self.clock_start}\0{self.options!r}"


# -- the diagnosis in the timeline's references ----------------------------------------------------------------------
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
    normalised = normalise_timeline(with_doctor_step(raw, diagnosis_texts(diagnosis)), clock_start, options)
    doctor_step = normalised["steps"].pop()
    execution_id, *evidence = [message.split(" ", 1)[1] for message in sorted(doctor_step["logs"])]
    checks = [Check(check.link, check.title, check.status, text) for check, text in zip(diagnosis.checks, evidence)]
    return normalised, Diagnosis(diagnosis.side, diagnosis.scenario, execution_id or None, checks)


# -- the run ---------------------------------------------------------------------------------------------------------
def scenario_name(scenario: Scenario | str) -> str:
    """A scenario's name (or the value itself)."""
    return str(getattr(scenario, "name", scenario))


def system_name(system: System | str) -> str:
    """A system's name (or the value itself)."""
    return str(getattr(system, "name", system))


def final_status(normalised: Mapping[str, Any]) -> str | None:
    """The execution statuses at the last step (comma-joined when a scenario ran several executions)."""
    steps = normalised.get("steps") or []
    if not steps:
        return None
    items = (steps[-1].get("tables") or {}).get("execution-history") or {}
    statuses = [str(item.get("status")) for _, item in sorted(items.items())
                if isinstance(item, dict) and "status" in item]  # server items have none
    return ",".join(statuses) or None


def side_labels(left: System, right: System) -> tuple[str, str]:
    """Each side's label in noise and timings: its system's name, told apart when a side runs against itself."""
    left_label, right_label = system_name(left), system_name(right)
    if left_label == right_label:
        return f"{left_label} (left)", f"{right_label} (right)"
    return left_label, right_label


def compared(name: str, left: Mapping[str, Any], right: Mapping[str, Any], run: ScenarioRun) -> list[Divergence]:
    """Every divergence of two normalised timelines: where the system stopped a side early first, then the diff."""
    return (stop_divergences(name, left, right, *run.stops)
            + diff_timelines(left, right, name, list_keys=run.options.list_keys))


def run_scenario(left: System, right: System, scenario: Scenario, run: ScenarioRun, calibrate: bool,
                 rules: RuleSet) -> ScenarioResult:
    """Both sides of one scenario: divergences judged by noise and rules, each side's chain diagnosis. A side the
    system stopped early is compared as far as it ran (its stop first); a side that failed to run (SideError), or both
    sides refused alike, is the scenario's error."""
    name = scenario_name(scenario)
    result = ScenarioResult(scenario=name, timings=run.timings, tracks=run.tracks)
    left_label, right_label = side_labels(left, right)
    try:
        left_timeline, result.left_chain = run.diagnosed_side(left, scenario, left_label)
        right_timeline, result.right_chain = run.diagnosed_side(right, scenario, right_label)
        result.left_final, result.right_final = final_status(left_timeline), final_status(right_timeline)
        result.error = both_refused(left_timeline, right_timeline, *run.stops)
        if result.error is None:  # else both refused alike: nothing to compare, no divergence and no noise either
            result.divergences = compared(name, left_timeline, right_timeline, run)
            if calibrate:
                result.noise = (run.noise(left, scenario, left_timeline, left_label)
                                + run.noise(right, scenario, right_timeline, right_label))
    except SideError as error:
        result.error = str(error)
    result.divergences = classify(result.divergences, rules, result.noise).divergences
    return result


def own_moto_server_port() -> None:
    """In a worker process: moto's server (if used) on a port of its own, not the one every worker would share."""
    os.environ[MOTO_PORT_ENV] = str(free_port())


def distinct_scenarios(scenarios: list[Scenario]) -> list[Scenario]:
    """Each scenario once, in order of first appearance (`--scenario X --scenario X` runs X once); two different
    scenarios under one name would share one report entry, so they are an InputError."""
    by_name: dict[str, Scenario] = {}
    for scenario in scenarios:
        first = by_name.setdefault(scenario_name(scenario), scenario)
        if scenario_source(first) != scenario_source(scenario):
            raise InputError(f"two different scenarios are named {scenario_name(scenario)}: "
                             f"{scenario_source(first)} and {scenario_source(scenario)}")
    return list(by_name.values())


def scenario_source(scenario: Scenario) -> object:
    """The file a scenario was read from (one file, named or given by path, is one scenario), else the scenario."""
    path = getattr(scenario, "path", None)
    return Path(path).resolve() if path is not None else scenario


def with_declared_normalisation(options: NormaliseOptions, left: System, right: System,
                                rules: RuleSet) -> NormaliseOptions:
    """The options with both systems' and the rules file's `normalise:` sections on top, for both sides alike
    (a bad declaration is an InputError before any scenario runs)."""
    declared = [getattr(system, "normalise", None) for system in (left, right)]  # stand-in sides may have none
    return options.with_declared(declared_transformers(declared, rules.normalisation))


def run_parity(left: System, right: System, scenarios: list[Scenario], backend: str, rules: RuleSet | None = None,
               calibrate: bool = True, progress: Listener | None = None, *, runner: SideRunner | None = None,
               options: NormaliseOptions | None = None, clock_start: int = DEFAULT_START,
               strict: bool = False, jobs: int = 1, noise_cache: NoiseCache | None = None) -> ParityResult:
    """Both systems on every distinct scenario; a failing scenario is recorded as an error and the others still run.
    `strict`: a rule that accepted nothing (stale) fails the gate. `jobs` > 1: scenarios in that many processes,
    longest first (a single scenario: its two sides at once); the result is the serial run's (scenarios in the same
    order)."""
    rules = rules or RuleSet()
    runner = runner or run_side
    options = with_declared_normalisation(options or NormaliseOptions(), left, right, rules)
    started = time.perf_counter()
    result = ParityResult(left=system_name(left), right=system_name(right), backend=backend,
                          rules_source=rules.source, calibrated=calibrate, strict=strict)

    jobs = jobs if backend in PARALLEL_BACKENDS else 1
    distinct = distinct_scenarios(scenarios)
    side_jobs = jobs if len(distinct) == 1 else 1  # one scenario on several cores: its two sides at once

    def one(scenario: Scenario) -> ScenarioResult:
        # timed here, in whichever process runs it: the side runs and all the scenario's work around them
        scenario_started = time.perf_counter()
        run = ScenarioRun(runner, backend, options, clock_start, noise_cache)
        if side_jobs > 1:
            run.capture_at_once(list(zip((left, right), side_labels(left, right))), scenario, side_jobs)
        outcome = run_scenario(left, right, scenario, run, calibrate, rules)
        outcome.wall_seconds = time.perf_counter() - scenario_started
        return outcome

    result.scenarios = run_ordered(distinct, one, jobs, scenario_name, progress, initializer=own_moto_server_port)
    result.stale_rules = unused(rules.rules, result.all_with_status(ACCEPTED))
    result.seconds = time.perf_counter() - started
    return result
