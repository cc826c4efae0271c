"""Parallel and Map states: their branches or items run as child runs, and the state ends when all have ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drs_parity.world.stepfunctions.definition import Branch, State
from drs_parity.world.stepfunctions.errors import RUNTIME, StatesError
from drs_parity.world.stepfunctions.execution import Engine, Run
from drs_parity.world.stepfunctions.paths import apply_parameters, path_field, read_path, select
from drs_parity.world.stepfunctions.states import effective_input, state_output


@dataclass(eq=False)
class _Gathering:
    """The children of one Parallel/Map attempt: which are still running and what the finished ones gave."""

    engine: Engine
    run: Run
    state: State
    results: list[Any]
    pending: set[int]
    children: dict[int, Run] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return self.state.type == "Map"

    def iteration(self, index: int) -> dict[str, Any]:
        return {"name": self.state.name, "index": index}

    def start(self, index: int, branch: Branch, data: Any) -> None:
        if self.is_map:
            self.engine.record(self.run, "MapIterationStarted", self.iteration(index))
        self.children[index] = self.engine.start_child(
            self.run, branch, data, lambda output, error: self.finished(index, output, error)
        )

    def finished(self, index: int, output: Any, error: StatesError | None) -> None:
        # A child of an attempt that has since failed, been retried or been stopped no longer counts.
        if not self.run.live or index not in self.pending:
            return
        self.pending.discard(index)
        if error is not None:
            self.failed(index, error)
            return
        self.results[index] = output
        if self.is_map:
            self.engine.record(self.run, "MapIterationSucceeded", self.iteration(index))
        if not self.pending:
            self.succeeded()

    def failed(self, index: int, error: StatesError) -> None:
        if self.is_map:
            self.engine.record(self.run, "MapIterationFailed", self.iteration(index))
        for other in sorted(self.pending):
            self.engine.close_run(self.children[other])
            if self.is_map:
                self.engine.record(self.run, "MapIterationAborted", self.iteration(other))
        self.pending.clear()
        self.engine.record(self.run, f"{self.state.type}StateFailed")
        # The state fails with its child's error, so the state's own Retry and Catch see that error's name.
        self.engine.state_failed(self.run, error)

    def succeeded(self) -> None:
        self.engine.record(self.run, f"{self.state.type}StateSucceeded")
        self.engine.finish_state(self.run, state_output(self.engine, self.run, self.state, self.results))


def _gather(engine: Engine, run: Run, state: State, work: list[tuple[Branch, Any]]) -> None:
    gathering = _Gathering(engine, run, state, [None] * len(work), set(range(len(work))))
    if not work:
        gathering.succeeded()
        return
    for index, (branch, data) in enumerate(work):
        gathering.start(index, branch, data)


def run_parallel(engine: Engine, run: Run, state: State) -> None:
    """Each branch gets the state's effective input; the result is the list of the branches' outputs, in order."""
    data = effective_input(engine, run, state)
    engine.record(run, "ParallelStateStarted")
    _gather(engine, run, state, [(branch, data) for branch in state.branches])


def run_map(engine: Engine, run: Run, state: State) -> None:
    """Each item (ItemSelector/Parameters applied) runs the item processor; the result is the list of outputs.

    MaxConcurrency is not enforced: every iteration starts at once, in item order, which keeps runs deterministic.
    """
    context = engine.context(run)
    data = select(run.state_input, path_field(state.fields, "InputPath"), context)
    items = _items(state, data, context)
    engine.record(run, "MapStateStarted", {"length": len(items)})
    selector = state.get("ItemSelector", state.get("Parameters"))
    inputs = [
        item if selector is None
        else apply_parameters(selector, data, engine.context(run, item=(index, item)), rng=run.execution.rng)
        for index, item in enumerate(items)
    ]
    assert state.processor is not None  # the definition parser guarantees a Map has one
    _gather(engine, run, state, [(state.processor, item) for item in inputs])


def _items(state: State, data: Any, context: dict[str, Any]) -> list[Any]:
    if "Items" in state:
        items = state.get("Items")
    else:
        items = read_path(state.get("ItemsPath", "$"), data, context)
    if not isinstance(items, list):
        raise StatesError(RUNTIME, f"Map state '{state.name}': the items are not an array: {items!r}")
    return items
