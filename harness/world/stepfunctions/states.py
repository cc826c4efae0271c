"""The simple states (Pass, Wait, Choice, Succeed, Fail) and the input/output processing every state shares."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from drs_parity.world.stepfunctions.choice import choose, parse_timestamp
from drs_parity.world.stepfunctions.definition import State
from drs_parity.world.stepfunctions.errors import RUNTIME, StatesError
from drs_parity.world.stepfunctions.execution import Engine, Run
from drs_parity.world.stepfunctions.intrinsics import evaluate_intrinsic, is_intrinsic
from drs_parity.world.stepfunctions.paths import apply_parameters, path_field, read_path, select, write_result

Handler = Callable[[Engine, Run, State], None]


def effective_input(engine: Engine, run: Run, state: State, context: Mapping[str, Any] | None = None) -> Any:
    """InputPath then Parameters: what the state works on."""
    context = engine.context(run) if context is None else context
    data = select(run.state_input, path_field(state.fields, "InputPath"), context)
    if "Parameters" in state:
        data = apply_parameters(state.get("Parameters"), data, context, rng=run.execution.rng)
    return data


def state_output(engine: Engine, run: Run, state: State, result: Any) -> Any:
    """ResultSelector, then ResultPath over the state's raw input, then OutputPath: what the next state gets."""
    context = engine.context(run)
    if "ResultSelector" in state:
        result = apply_parameters(state.get("ResultSelector"), result, context, rng=run.execution.rng)
    data = write_result(run.state_input, result, path_field(state.fields, "ResultPath"))
    return select(data, path_field(state.fields, "OutputPath"), context)


def _filtered(engine: Engine, run: Run, state: State) -> tuple[Any, Any]:
    """For states without a result: (input after InputPath, that input after OutputPath)."""
    context = engine.context(run)
    data = select(run.state_input, path_field(state.fields, "InputPath"), context)
    return data, select(data, path_field(state.fields, "OutputPath"), context)


def run_pass(engine: Engine, run: Run, state: State) -> None:
    data = effective_input(engine, run, state)
    result = state.get("Result") if "Result" in state else data
    engine.finish_state(run, state_output(engine, run, state, result))


def run_succeed(engine: Engine, run: Run, state: State) -> None:
    engine.finish_state(run, _filtered(engine, run, state)[1])


def run_choice(engine: Engine, run: Run, state: State) -> None:
    data, output = _filtered(engine, run, state)
    engine.finish_state(run, output, next_state=choose(state.fields, data, engine.context(run)))


def run_wait(engine: Engine, run: Run, state: State) -> None:
    data, output = _filtered(engine, run, state)
    delay = wait_seconds(state, data, engine.context(run), engine.clock.now())
    engine.later(run, delay, lambda: engine.finish_state(run, output), f"Wait {state.name}")


def wait_seconds(state: State, data: Any, context: Mapping[str, Any], now: float) -> float:
    """Seconds a Wait state waits from `now` (a timestamp in the past waits for nothing)."""
    if "Seconds" in state:
        return float(state.get("Seconds"))
    if "SecondsPath" in state:
        seconds = read_path(state.get("SecondsPath"), data, context)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise StatesError(RUNTIME, f"Wait state '{state.name}': SecondsPath gives {seconds!r}, not a whole number")
        return float(seconds)
    text = state.get("Timestamp") if "Timestamp" in state else read_path(state.get("TimestampPath"), data, context)
    moment = parse_timestamp(text)
    if moment is None:
        raise StatesError(RUNTIME, f"Wait state '{state.name}': {text!r} is not an ISO 8601 timestamp")
    return max(0.0, moment.timestamp() - now)


def run_fail(engine: Engine, run: Run, state: State) -> None:
    context = engine.context(run)
    error = _fail_field(state, "Error", run.state_input, context, run)
    cause = _fail_field(state, "Cause", run.state_input, context, run)
    engine.state_failed(run, StatesError(error, cause))


def _fail_field(state: State, key: str, data: Any, context: Mapping[str, Any], run: Run) -> str:
    """Error/Cause as written, or ErrorPath/CausePath (a path or an intrinsic) evaluated on the state's input."""
    if key in state:
        return str(state.get(key))
    path = state.get(f"{key}Path")
    if path is None:
        return ""
    if is_intrinsic(path):
        value = evaluate_intrinsic(path, data, context, rng=run.execution.rng)
    else:
        value = read_path(path, data, context)
    if not isinstance(value, str):
        raise StatesError(RUNTIME, f"Fail state '{state.name}': {key}Path gives {value!r}, not a string")
    return value


HANDLERS: dict[str, Handler] = {
    "Pass": run_pass,
    "Succeed": run_succeed,
    "Choice": run_choice,
    "Wait": run_wait,
    "Fail": run_fail,
}
