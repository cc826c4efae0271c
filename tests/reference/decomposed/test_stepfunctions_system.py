"""The decomposed system whose waves a state machine runs: its template is template.yaml plus a declared delta, it
reaches every scenario's outcome with each machine execution ended, and the plain system never touches a machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_parity.fixtures.cloudformation import read_template
from drs_parity.fixtures.regressions import TemplateEdit, apply_template_edit
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.run.driver import check_expectations, run_side
from drs_parity.world.world import World
from tests.reference.scenarios import everyday_scenario_paths

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = everyday_scenario_paths()
SYSTEM = "decomposed-stepfunctions"
HANDLER_POLICY = "Resources.ExecutionHandlerRole.Properties.Policies[PolicyName=executionHandler].PolicyDocument"
POLLER_POLICY = "Resources.ExecutionPollerRole.Properties.Policies[PolicyName=executionPoller].PolicyDocument"
# Everything stepfunctions.yaml adds to template.yaml: with these taken out (and REPLACED out of template.yaml)
# the two templates are equal, so the copy cannot drift from the system it extends.
ADDED = (
    "Resources.TaskTokensTable", "Resources.OrchestrationRole", "Resources.OrchestrationFunction",
    "Resources.WaveStateMachineRole", "Resources.WaveStateMachine",
    f"{HANDLER_POLICY}.Statement[Sid=StartWaveMachine]", f"{HANDLER_POLICY}.Statement[Sid=ReturnTaskTokens]",
    f"{HANDLER_POLICY}.Statement[Sid=SendTaskResults]",
    f"{POLLER_POLICY}.Statement[Sid=ReturnTaskTokens]", f"{POLLER_POLICY}.Statement[Sid=SendTaskResults]",
    "Resources.ExecutionHandlerFunction.Properties.Environment.Variables.STATE_MACHINE_ARN",
    "Resources.ExecutionHandlerFunction.Properties.Environment.Variables.TASK_TOKENS_TABLE",
    "Resources.ExecutionPollerFunction.Properties.Environment.Variables.TASK_TOKENS_TABLE",
    "Outputs.OrchestrationFunctionName", "Outputs.WaveStateMachineArn", "Description",
)
# What it leaves out of template.yaml: the start worker's self-invocation (the machine starts wave 0 instead).
REPLACED = (f"{HANDLER_POLICY}.Statement[Sid=InvokeOwnStartWorker]", "Description")
# The machine execution each final execution status ends in (a failed or timed-out wave fails the machine's task).
MACHINE_ENDS = {"COMPLETED": ("SUCCEEDED", None), "CANCELLED": ("SUCCEEDED", None), "FAILED": ("FAILED", "WaveFailed"),
                "TIMEOUT": ("FAILED", "ExecutionTimedOut")}


def without(template: Path, paths: tuple[str, ...]) -> dict:
    document = read_template(template)
    for path in paths:
        apply_template_edit(document, TemplateEdit("remove", path), f"{template.name}: {path}")
    return document


def test_the_template_is_the_decomposed_one_plus_its_declared_delta():
    assert without(REPO / "decomposed" / "stepfunctions.yaml", ADDED) == without(
        REPO / "decomposed" / "template.yaml", REPLACED)


def machine_executions(timeline) -> list[dict]:
    return timeline.steps[-1].state_machines["WaveStateMachine"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_each_scenario_reaches_its_outcome_and_every_machine_execution_ends(path):
    scenario = load_scenarios([path])[0]
    timeline = run_side(load_system(SYSTEM), scenario, "moto")
    assert check_expectations(scenario, timeline) == []
    assert [i for step in timeline.steps for i in step.invocations if i.get("error")] == []
    items = {item["executionId"]: item for item in timeline.steps[-1].tables["execution-history"]
             if "status" in item}  # execution items, not their server items
    executions = machine_executions(timeline)
    assert sorted(execution["name"] for execution in executions) == sorted(items)  # one machine run each
    for execution in executions:
        expected = MACHINE_ENDS[items[execution["name"]]["status"]]
        assert (execution["status"], execution["error"]) == expected, execution


def test_the_machine_runs_each_wave_as_a_task_and_loops_until_the_last():
    timeline = run_side(load_system(SYSTEM), "pause-resume", "moto")
    (execution,) = machine_executions(timeline)
    # wave 0 started, handed over; wave 1 paused before, resumed (the API started it), final
    assert execution["statesPassed"] == ["RunWave", "NextWave", "RunWave", "NextWave", "RunWave", "NextWave",
                                         "Completed"]
    tasks = [i for step in timeline.steps for i in step.invocations if i["trigger"] == "stepfunctions"]
    assert len(tasks) == 3
    returned = [c["operation"] for step in timeline.steps for c in step.calls if c["service"] == "sfn"]
    assert returned == ["StartExecution", "SendTaskSuccess", "SendTaskSuccess", "SendTaskSuccess"]


def test_the_plain_decomposed_system_never_calls_step_functions():
    timeline = run_side(load_system("decomposed"), "pause-resume", "moto")
    assert [c for step in timeline.steps for c in step.calls if c["service"] == "sfn"] == []
    assert all(step.state_machines is None for step in timeline.steps)


@pytest.mark.moto_server
def test_two_wave_drill_on_moto_server(moto_server):
    scenario = load_scenarios([p for p in SCENARIOS if p.stem == "two-wave-drill"])[0]
    with World("moto-server", moto_server_port=moto_server.port, region=scenario.region) as world:
        timeline = run_side(load_system(SYSTEM), scenario, world=world)
    assert check_expectations(scenario, timeline) == []
    assert [(e["status"], e["error"]) for e in machine_executions(timeline)] == [("SUCCEEDED", None)]


def test_a_task_for_an_execution_that_is_gone_fails_the_machine_task_and_says_why():
    system = load_system(SYSTEM)
    with World(backend="moto") as world:
        stack = world.deploy(str(system.template), "orchestration-tests", parameters=system.parameters)
        world.host.load(stack, system.code_for)
        invocation = world.host.invoke(stack.resources["OrchestrationFunction"],
                                       {"executionId": "gone", "planId": "p", "waveNumber": 0, "taskToken": "t"})
    assert invocation.error is None
    [failure] = [c for c in invocation.calls if c["service"] == "sfn"]
    assert (failure["operation"], failure["params"]["error"]) == ("SendTaskFailure", "WaveFailed")
    messages = [line.get("message", "") for line in invocation.logs]
    assert "Execution gone not found" in messages
    assert any(message.startswith("Error returning task token: InvalidToken") for message in messages)
