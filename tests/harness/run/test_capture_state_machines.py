"""State machine executions in the capture: recorded at every step, normalised, compared only when both sides have them."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from drs_parity.compare.diff import diff_timelines
from drs_parity.compare.normalise import normalise_timeline
from drs_parity.run.capture import StepCapture, Timeline
from drs_parity.run.driver import SideRun
from drs_parity.world.world import World

WAVES = Path(__file__).resolve().parents[1] / "world" / "stepfunctions" / "packages" / "waves" / "template.yaml"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:drs-waves"


def token(execution_arn: str) -> str:
    """A task token as the world's interpreter makes it."""
    return base64.urlsafe_b64encode(f"{execution_arn}#1".encode()).decode().rstrip("=")


def side(name: str, machines: bool, status: str = "RUNNING", states: tuple[str, ...] = ("Start", "Wait")) -> dict:
    """A one-step timeline; with `machines`, an unnamed execution (a random UUID) and the token its callback sent."""
    execution_name = str(uuid.uuid4())
    execution_arn = MACHINE.replace("stateMachine", "execution") + f":{execution_name}"
    calls = [{"service": "drs", "operation": "StartRecovery", "params": {}, "region": "us-east-1", "error": None,
              "function": "executions", "console": False}]
    step = StepCapture(index=1, name="start", kind="start", time=1768471200, calls=calls)
    if machines:
        step.calls += [
            {"service": "sfn", "operation": "StartExecution", "params": {"stateMachineArn": MACHINE},
             "region": "us-east-1", "error": None, "function": "executions", "console": False},
            {"service": "sfn", "operation": "SendTaskSuccess", "region": "us-east-1", "error": None,
             "params": {"taskToken": token(execution_arn), "output": "{}"}, "function": "poller", "console": False}]
        step.state_machines = {"WavesMachine": [
            {"name": execution_name, "status": status, "statesPassed": list(states), "error": None}]}
    return Timeline(side=name, scenario="s", backend="moto", clock_start=1768471200, steps=[step]).to_dict()


def test_the_section_is_in_the_capture_only_when_the_side_has_machines() -> None:
    assert "stateMachines" not in side("monolithic", machines=False)["steps"][0]
    assert side("stepfunctions", machines=True)["steps"][0]["stateMachines"]["WavesMachine"][0]["status"] == "RUNNING"


def test_execution_names_and_task_tokens_get_stable_references() -> None:
    step = normalise_timeline(side("stepfunctions", machines=True))["steps"][0]

    assert step["stateMachines"]["WavesMachine"] == {"<stateMachineExecution:1>": {
        "name": "<stateMachineExecution:1>", "status": "RUNNING", "statesPassed": ["Start", "Wait"], "error": None}}
    [sent] = step["stateMachines"]["sfn.SendTaskSuccess"]
    assert sent["params"]["taskToken"] == "<taskToken:1>"
    assert "sfn.StartExecution" not in step["calls"]  # Step Functions calls are compared with the executions


def test_alike_sides_with_machines_do_not_diverge_whatever_their_generated_ids() -> None:
    left, right = side("a", machines=True), side("b", machines=True)
    assert diff_timelines(normalise_timeline(left), normalise_timeline(right)) == []


def test_executions_diverge_when_both_sides_have_machines() -> None:
    left = side("a", machines=True)
    right = side("b", machines=True, status="FAILED", states=("Start", "Fail"))

    paths = {d.path for d in diff_timelines(normalise_timeline(left), normalise_timeline(right))}
    assert paths == {"stateMachines[WavesMachine].<stateMachineExecution:1>.status",
                     "stateMachines[WavesMachine].<stateMachineExecution:1>.statesPassed[1]"}


def test_one_side_without_machines_creates_no_divergence_by_itself() -> None:
    with_machines, without = side("stepfunctions", machines=True), side("monolithic", machines=False)
    assert diff_timelines(normalise_timeline(without), normalise_timeline(with_machines)) == []
    assert diff_timelines(normalise_timeline(with_machines), normalise_timeline(without)) == []


def test_the_driver_captures_each_machines_executions_at_every_step() -> None:
    with World("moto") as world:
        world.host.load(world.deploy(WAVES, "waves"))
        run = SideRun(world, SimpleNamespace(name="waves", tables={}), SimpleNamespace(name="s"))  # type: ignore
        world.host.invoke("starter-waves", {"action": "start", "input": {"n": 1}})
        run.capture(1, "start", "start", [], 0)
        world.clock.advance(300)
        run.capture(2, "advance 5m", "advance", [], 1)

    first: Any = run.timeline.steps[0].to_dict()["stateMachines"]
    assert first["WavesMachine"][0]["statesPassed"] == ["Double", "Pause"] and first["DeniedMachine"] == []
    assert run.timeline.steps[1].state_machines["WavesMachine"][0]["statesPassed"][-1] == "Callback"
    assert [c["operation"] for c in run.timeline.steps[0].calls] == ["StartExecution"]
