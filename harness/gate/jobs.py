"""Scenarios in parallel processes: the longest started first, the results kept in the run's own order."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Protocol, Sequence, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

# The work of the current parallel run, set before the worker processes fork (so the work, often a closure over
# systems, rules and a runner, is inherited rather than pickled); a worker gets only a task's index.
_work: Callable[[int], Any] | None = None


class Listener(Protocol):
    """Told when each task starts (by its name: a scenario, a side run) and when it is done (report.terminal.Progress,
    the fault matrix's progress lines)."""

    def start(self, name: str) -> None: ...

    def done(self, result: Any) -> None: ...


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# What one other account costs a side, in the estimate's units (a step, a virtual minute, a server): moto builds
# that account's EC2, IAM and STS estate, and cross-account measured ~2.5 s a side against ~1 s for its 37 units.
ACCOUNT_COST = 120


def estimated_cost(scenario: Any) -> float:
    """A stable estimate of a scenario's run time: its steps, virtual minutes, source servers and other accounts."""
    steps = tuple(getattr(scenario, "steps", ()) or ())
    virtual_seconds = sum(getattr(step, "seconds", 0) or getattr(step, "within", 0) or 0 for step in steps)
    servers = len(getattr(scenario, "source_servers", ()) or ())
    accounts = len(getattr(scenario, "target_accounts", ()) or ())
    return len(steps) + virtual_seconds / 60 + servers + ACCOUNT_COST * accounts


def longest_first(tasks: Sequence[Any]) -> list[int]:
    """Task indexes by decreasing estimated cost; equal costs keep the run's order."""
    return sorted(range(len(tasks)), key=lambda index: (-estimated_cost(tasks[index]), index))


def _run_index(index: int) -> Any:
    assert _work is not None, "no parallel run in progress"
    return _work(index)


def run_ordered(tasks: Sequence[Task], work: Callable[[Task], Result], jobs: int, name: Callable[[Task], str],
                listener: Listener | None = None, initializer: Callable[[], None] | None = None) -> list[Result]:
    """`work` on every task, results in the tasks' order. jobs <= 1 (or one task): one after the other in this
    process, as listed; else in `jobs` forked processes (each first runs `initializer`), longest first, the
    listener told as each finishes."""
    if jobs <= 1 or len(tasks) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_serial(task, work, name, listener) for task in tasks]
    global _work
    _work = lambda index: work(tasks[index])  # noqa: E731  (inherited by the forked workers)
    results: dict[int, Result] = {}
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                                 mp_context=multiprocessing.get_context("fork"), initializer=initializer) as pool:
            pending: dict[Future[Result], int] = {pool.submit(_run_index, index): index
                                                  for index in longest_first(tasks)}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    results[index] = future.result()
                    if listener:
                        listener.start(name(tasks[index]))
                        listener.done(results[index])
    finally:
        _work = None
    return [results[index] for index in range(len(tasks))]


def _serial(task: Task, work: Callable[[Task], Result], name: Callable[[Task], str],
            listener: Listener | None) -> Result:
    if listener:
        listener.start(name(task))
    result = work(task)
    if listener:
        listener.done(result)
    return result
