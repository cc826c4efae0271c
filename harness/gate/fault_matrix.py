"""The fault matrix: each fault × each scenario it applies to, both sides run with and without it and judged."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from drs_parity.errors import DrsParityError, ExitCode, InputError
from drs_parity.fixtures.regressions import VariantSystem
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.scenario_parse import with_faults
from drs_parity.fixtures.system import System
from drs_parity.gate.fault_cases import CASES, FaultCase, applicable, side_context, side_facts
from drs_parity.gate.fault_outcome import SideRun, differences, run_trace, summarise
from drs_parity.gate.jobs import Listener, run_ordered
from drs_parity.run.driver import prepared_world, run_side

SIDES = ("left", "right")
HELD, BROKEN, NOT_APPLICABLE = "held", "broken", "n/a"


@dataclass(frozen=True)
class SideVerdict:
    """One side of one cell: held, broken (with the reasons), or n/a (the fault does not apply to that side)."""

    status: str
    reasons: tuple[str, ...] = ()
    faults: tuple[dict[str, Any], ...] = ()  # what the side got, in the scenario format


@dataclass(frozen=True)
class Cell:
    """One fault on one scenario, both sides judged."""

    fault: str
    scenario: str
    left: SideVerdict
    right: SideVerdict

    @property
    def applies(self) -> bool:
        return (self.left.status, self.right.status) != (NOT_APPLICABLE, NOT_APPLICABLE)

    @property
    def held(self) -> bool:
        return self.applies and BROKEN not in (self.left.status, self.right.status)


@dataclass
class MatrixResult:
    """Every cell of a run of the matrix, in the order of its faults, then its scenarios."""

    left: str
    right: str
    backend: str
    faults: list[FaultCase]
    scenarios: list[str]
    cells: list[Cell] = field(default_factory=list)

    @property
    def judged(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.applies]

    @property
    def held(self) -> int:
        return sum(1 for cell in self.judged if cell.held)

    @property
    def exit_code(self) -> int:
        return ExitCode.OK if self.held == len(self.judged) else ExitCode.DIVERGENCE

    def cell(self, fault: str, scenario: str) -> Cell | None:
        return next((cell for cell in self.cells if (cell.fault, cell.scenario) == (fault, scenario)), None)


@dataclass(frozen=True)
class SideTask:
    """One run of one side: a scenario as it is (the baseline) or with one matrix fault's faults added."""

    scenario: Scenario
    side: str  # left | right
    fault: str | None = None
    faults: tuple[dict[str, Any], ...] = ()

    # what gate.jobs reads to start the longest runs first
    @property
    def steps(self) -> Any:
        return self.scenario.steps

    @property
    def source_servers(self) -> Any:
        return self.scenario.source_servers

    def label(self) -> str:
        return f"{self.fault or 'no fault'} × {self.scenario.name} ({self.side})"


class SideRunner:
    """Runs a SideTask on its side's system in a fresh world; its SideRun is small, to cross process boundaries."""

    def __init__(self, left: System, right: System, backend: str, variant: VariantSystem | None = None) -> None:
        self.systems = {"left": left, "right": right}
        self.backend = backend
        self.variant = variant  # the right side's catalogue entry, whose DRS faults its world gets

    def __call__(self, task: SideTask) -> SideRun:
        system = self.systems[task.side]
        scenario = with_faults(task.scenario, task.faults, f"fault {task.fault}") if task.faults else task.scenario
        variant = self.variant if task.side == "right" else None
        try:
            with prepared_world(scenario, self.backend, None, variant) as world:
                timeline = run_side(system, scenario, self.backend, world=world)
                facts = {} if task.fault else side_facts(world.host.invocations, world.host.functions, system,
                                                         world.clock.start)
                trace = run_trace(world.host.invocations)
        except DrsParityError as error:
            return SideRun(error=str(error))
        return replace(summarise(timeline.to_dict(), system.chain), facts=facts, trace=trace)


def run_matrix(left: System, right: System, scenarios: Sequence[Scenario], backend: str = "moto",
               cases: Sequence[FaultCase] = CASES, jobs: int = 1, variant: VariantSystem | None = None,
               listener: Listener | None = None, runner: Callable[[SideTask], SideRun] | None = None
               ) -> MatrixResult:
    """Both sides of every applicable cell, run with the fault and judged against the same side without it."""
    grid = list(applicable(tuple(cases), list(scenarios)))
    if not grid:
        raise InputError(f"no fault of {', '.join(case.name for case in cases)} applies to "
                         f"{', '.join(scenario.name for scenario in scenarios)} (a fault needs a scenario that "
                         f"exercises {', '.join(sorted({need for case in cases for need in case.needs}))})")
    run = runner or SideRunner(left, right, backend, variant)
    used = [scenario for scenario in scenarios if any(scenario is cell_scenario for _, cell_scenario in grid)]
    baselines = _baselines(used, run, jobs, listener)
    systems = {"left": left, "right": right}
    tasks = {(case.name, scenario.name, task.side): task for case, scenario in grid
             for task in _cell_tasks(case, scenario, systems, baselines)}
    runs = dict(zip(tasks, run_ordered(list(tasks.values()), run, jobs, SideTask.label, listener)))
    names = {side: systems[side].name for side in SIDES}
    cells = []
    for case, scenario in grid:
        keys = {side: (case.name, scenario.name, side) for side in SIDES}
        cells.append(judge(case, scenario.name, names, {side: baselines[scenario.name, side] for side in SIDES},
                           {side: (tasks.get(key), runs.get(key)) for side, key in keys.items()}))
    rows = [case for case in cases if any(cell.fault == case.name for cell in cells)]
    return MatrixResult(left.name, right.name, backend, rows, [scenario.name for scenario in used], cells)


def _baselines(scenarios: list[Scenario], run: Callable[[SideTask], SideRun], jobs: int,
               listener: Listener | None) -> dict[tuple[str, str], SideRun]:
    tasks = [SideTask(scenario, side) for scenario in scenarios for side in SIDES]
    results = run_ordered(tasks, run, jobs, SideTask.label, listener)
    return {(task.scenario.name, task.side): result for task, result in zip(tasks, results)}


def _cell_tasks(case: FaultCase, scenario: Scenario, systems: Mapping[str, System],
                baselines: Mapping[tuple[str, str], SideRun]) -> list[SideTask]:
    """The cell's side runs: each side whose baseline ran and exercised what the fault hits."""
    tasks = []
    for side in SIDES:
        baseline = baselines[scenario.name, side]
        faults = case.build(side_context(systems[side], baseline.facts)) if baseline.error is None else None
        if faults is not None:
            tasks.append(SideTask(scenario, side, case.name, tuple(faults)))
    return tasks


# -- judging a cell ---------------------------------------------------------------------------------------------------
def judge(case: FaultCase, scenario: str, names: Mapping[str, str], baselines: Mapping[str, SideRun],
          faulted: Mapping[str, tuple[SideTask | None, SideRun | None]]) -> Cell:
    """A cell: each side held when its run with the fault reached the final statuses of its run without it (or,
    for a fault with a documented failure, both sides reached that same failure), started no wave twice and lost
    no server status. A side the fault does not apply to (no task) is n/a."""
    verdicts = {}
    for side, other_side in zip(SIDES, reversed(SIDES)):
        task, run = faulted[side]
        if baselines[side].error is not None:
            verdicts[side] = SideVerdict(BROKEN, (f"the run without the fault failed: {baselines[side].error}",))
        elif task is None or run is None:
            verdicts[side] = SideVerdict(NOT_APPLICABLE)
        else:
            reasons = _reasons(case, baselines[side], run, faulted[other_side][1], names[other_side])
            verdicts[side] = SideVerdict(BROKEN if reasons else HELD, tuple(reasons), task.faults)
    return Cell(case.name, scenario, verdicts["left"], verdicts["right"])


def _reasons(case: FaultCase, baseline: SideRun, run: SideRun, other: SideRun | None, other_name: str) -> list[str]:
    if run.error is not None:
        return [f"the run failed: {run.error}"]
    if run.trace == baseline.trace:
        return ["the fault never took effect: the run is the same as without it"]
    reasons = [f"{wave} started {count} times" for wave, count in run.starts.items() if count > 1]
    reasons += run.lost
    if run.stopped and not baseline.stopped:
        reasons.append(run.stopped)
    changed = differences(baseline.outcome, run.outcome)
    if changed and case.failure is None:
        reasons.append(_first_of(changed))
    elif changed:
        reasons += _documented_failure(case.failure, run, other, other_name)
    return reasons


def _documented_failure(failure: str, run: SideRun, other: SideRun | None, other_name: str) -> list[str]:
    """A fault whose documented outcome is a failure: the execution ends in it, as on the other side."""
    ended = [execution["status"] for execution in run.outcome]
    if failure not in ended:
        return [f"the execution ended {', '.join(ended) or 'nowhere'}, not the documented failure {failure}"]
    if other is None or other.error is not None:
        return []
    unlike = differences(other.outcome, run.outcome, f"on {other_name}")
    return [_first_of(unlike)] if unlike else []


def _first_of(found: list[str]) -> str:
    return found[0] + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
