"""Step Functions in the world: machines from a deployed template, the API as code calls it, Lambda tasks under IAM."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from drs_parity.world.deploy import DeployError, Stack
from drs_parity.world.stepfunctions.execution import Execution
from drs_parity.world.stepfunctions.machines import read_state_machines
from drs_parity.world.stepfunctions.service import StepFunctions, sfn_service_model
from drs_parity.world.world import World

from tests.harness.world.test_world import make_world  # noqa: F401  (fixture: worlds on moto and moto-server)

TEMPLATE = Path(__file__).resolve().parent / "packages" / "waves" / "template.yaml"
ACCOUNT, REGION = "123456789012", "us-east-1"
WORKER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker-waves"


@pytest.fixture
def world(make_world: Any) -> Iterator[World]:  # noqa: F811
    with make_world() as started:
        started.host.load(started.deploy(TEMPLATE, "waves"))
        yield started


def machine_arn(world: World, logical_id: str) -> str:
    return next(m.arn for m in world.stepfunctions.machines.values() if m.logical_id == logical_id)


def execution(world: World, arn: str) -> Execution:
    return world.stepfunctions.interpreter.executions[arn]


def start_from_code(world: World, data: Any, **extra: Any) -> dict[str, Any]:
    invocation = world.host.invoke("starter-waves", {"action": "start", "input": data, "extra": extra})
    assert invocation.error is None
    return invocation.result


def sfn(world: World) -> Any:
    return world.client("stepfunctions")


def error_code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"]


# -- machines from the template ----------------------------------------------------------------------------------------
def test_definitions_come_from_the_template_with_sub_and_substitutions_resolved(world: World) -> None:
    waves = world.stepfunctions.machines[machine_arn(world, "WavesMachine")]
    states = waves.definition.states

    assert states["Double"].get("Parameters")["FunctionName"] == WORKER_ARN  # ${WorkerFunction.Arn}
    assert states["Pause"].get("Seconds") == 300  # ${!Pause} -> ${Pause} -> the PauseSeconds parameter
    assert states["Callback"].get("Parameters")["FunctionName"] == "callback-waves"  # a Ref substitution
    assert states["Callback"].get("Parameters")["Payload"]["region"] == REGION  # ${AWS::Region}
    role = world.client("iam").get_role(RoleName=waves.role_arn.rsplit("/", 1)[1])["Role"]
    assert waves.role_arn == role["Arn"] and "MachineRole" in waves.role_arn and waves.unsupported == ()
    denied = world.stepfunctions.machines[machine_arn(world, "DeniedMachine")]
    assert denied.name == "denied-waves"  # StateMachineName; Definition given as an object, intrinsics resolved
    assert denied.definition.states["Double"].get("Resource") == WORKER_ARN


def test_describe_state_machine_answers_with_the_resolved_definition(world: World) -> None:
    arn = machine_arn(world, "WavesMachine")
    described = sfn(world).describe_state_machine(stateMachineArn=arn)

    assert described["stateMachineArn"] == arn and described["status"] == "ACTIVE" and described["type"] == "STANDARD"
    assert json.loads(described["definition"])["States"]["Pause"]["Seconds"] == 300
    assert described["roleArn"] == world.stepfunctions.machines[arn].role_arn


def test_join_select_split_find_in_map_and_parameters_resolve_as_cloudformation_does() -> None:
    text = ['{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "', {"Fn::GetAtt": ["Fn", "Arn"]},
            '", "Comment": "', {"Ref": "Env"}, "-", {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}, "-",
            {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "waves"]}, '", "End": true}}}']
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "test"}},
        "Mappings": {"Sizes": {"prod": {"waves": 3}}},
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function"},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/service/"}},
            "M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "RoleArn": {"Fn::GetAtt": "Role.Arn"}, "DefinitionString": {"Fn::Join": ["", text]}}},
        },
    }
    stack = Stack("s", "t.yaml", template=template, resources={
        "Fn": "fn-s", "Role": "s-Role-ABC", "M": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:M-s"},
        resource_types={"Fn": "AWS::Lambda::Function", "Role": "AWS::IAM::Role",
                        "M": "AWS::StepFunctions::StateMachine"})

    [machine] = read_state_machines(stack, {"Env": "prod"}, REGION, ACCOUNT)
    state = machine.definition.states["A"]
    assert state.get("Resource") == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn-s"
    assert state.get("Comment") == "prod-b-3"
    assert machine.role_arn == f"arn:aws:iam::{ACCOUNT}:role/service/s-Role-ABC" and machine.name == "M-s"


def test_a_machine_the_harness_cannot_read_is_a_deploy_error_naming_it(world: World) -> None:
    stack = Stack("s", "t.yaml", resources={"M": "arn:aws:states:us-east-1:1:stateMachine:M"},
                  resource_types={"M": "AWS::StepFunctions::StateMachine"},
                  template={"Resources": {"M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                      "RoleArn": "arn:aws:iam::1:role/r", "DefinitionString": {"Fn::ImportValue": "shared"}}}}})
    with pytest.raises(DeployError, match=r"resource M failed: property DefinitionString: Fn::ImportValue"):
        read_state_machines(stack, {}, REGION, ACCOUNT)
    stack.template["Resources"]["M"]["Properties"]["DefinitionString"] = '{"StartAt": "Nowhere", "States": {}}'
    with pytest.raises(DeployError, match=r"resource M failed: property Definition: .*States"):
        read_state_machines(stack, {}, REGION, ACCOUNT)


# -- a whole run: started by code, a task, a wait, a task token ------------------------------------------------------------
def test_a_function_starts_the_machine_which_runs_on_the_virtual_clock(world: World) -> None:
    started_at, wall = world.clock.now(), time.monotonic()
    arn = start_from_code(world, {"n": 21})["executionArn"]
    run = execution(world, arn)

    # the machine ran at once (the host's drain settles due work): the worker doubled, the Wait began
    assert (run.status, run.states_passed) == ("RUNNING", ["Double", "Pause"])
    worker = next(i for i in world.host.invocations if i.function == "worker-waves")
    assert (worker.trigger, worker.event, worker.result) == ("stepfunctions", {"n": 21}, {"doubled": 42})
    [call] = world.host.invocations[0].calls
    assert (call["service"], call["operation"], call["error"]) == ("sfn", "StartExecution", None)

    world.clock.advance(299)
    assert run.states_passed == ["Double", "Pause"]
    world.clock.advance(1)  # Wait 300 s: virtual seconds only
    assert run.states_passed == ["Double", "Pause", "Callback"] and run.status == "RUNNING"
    callback = world.host.invocations[-1]
    assert callback.function == "callback-waves" and set(callback.event) == {"token", "region"}

    released = world.host.invoke("callback-waves", {"action": "succeed"})
    assert released.result == {"sent": "succeed"} and released.calls[0]["operation"] == "SendTaskSuccess"
    assert run.status == "SUCCEEDED" and run.states_passed[-1] == "Done"
    assert json.loads(run.output) == {"n": 21, "work": {"doubled": 42}, "callback": {"released": True}}
    described = world.host.invoke("starter-waves", {"action": "describe", "executionArn": arn}).result
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"])["work"] == {"doubled": 42}
    assert world.clock.now() - started_at == 300 and time.monotonic() - wall < 30


def test_a_function_error_fails_the_task_with_its_error_type_and_payload(world: World) -> None:
    run = execution(world, start_from_code(world, {"n": "many"})["executionArn"])

    assert run.status == "FAILED" and run.error == "ValueError"
    cause = json.loads(run.cause)
    assert cause["errorType"] == "ValueError" and cause["errorMessage"] == "n must be a number, not 'many'"


def test_a_role_without_invoke_fails_the_task_with_lambdas_access_error(world: World) -> None:
    arn = sfn(world).start_execution(stateMachineArn=machine_arn(world, "DeniedMachine"))["executionArn"]
    world.host.drain()  # a harness client's call: the machine runs at the next drain (or clock advance)

    run = execution(world, arn)
    assert run.status == "FAILED" and run.error == "Lambda.AWSLambdaException"
    assert "is not authorized to perform: lambda:InvokeFunction on resource: " + WORKER_ARN in run.cause
    assert "Status Code: 403; Error Code: AccessDeniedException" in run.cause
    assert not any(i.function == "worker-waves" for i in world.host.invocations)  # never invoked
    assert world.iam_guard.denials[-1]["action"] == "lambda:InvokeFunction"


def test_code_calls_are_judged_with_the_states_prefix(world: World) -> None:
    answer = start_from_code(world, {}, name="late")
    denied = world.host.invoke("starter-waves", {"action": "stop", "executionArn": answer["executionArn"]})

    assert denied.result["error"] == "AccessDeniedException"  # StarterRole has no states:StopExecution
    assert denied.calls[0]["error"] == "AccessDeniedException"
    assert world.iam_guard.denials[-1]["action"] == "states:StopExecution"
    assert world.iam_guard.denials[-1]["resource"] == answer["executionArn"]


# -- the API's answers and errors ------------------------------------------------------------------------------------------
def test_start_execution_errors_are_aws_error_codes(world: World) -> None:
    client, arn = sfn(world), machine_arn(world, "WavesMachine")
    missing = arn.replace("WavesMachine", "Missing")

    assert error_code(client.start_execution, stateMachineArn=missing) == "StateMachineDoesNotExist"
    assert error_code(client.start_execution, stateMachineArn="not-an-arn") == "InvalidArn"
    assert error_code(client.start_execution, stateMachineArn=arn, name="bad name") == "InvalidName"
    assert error_code(client.start_execution, stateMachineArn=arn, input="{") == "InvalidExecutionInput"
    first = client.start_execution(stateMachineArn=arn, name="wave-1", input='{"n": 1}')
    again = client.start_execution(stateMachineArn=arn, name="wave-1", input='{"n": 1}')
    assert again["executionArn"] == first["executionArn"]  # same name and input while running: the same answer
    assert error_code(client.start_execution, stateMachineArn=arn, name="wave-1", input='{"n": 2}') == \
        "ExecutionAlreadyExists"
    execution_arn = first["executionArn"]
    assert error_code(client.describe_execution, executionArn=execution_arn + "x") == "ExecutionDoesNotExist"
    assert error_code(client.describe_execution, executionArn=arn) == "InvalidArn"  # a machine, not an execution


def test_task_token_errors_as_aws_answers_them(world: World) -> None:
    run = execution(world, start_from_code(world, {"n": 1})["executionArn"])
    world.clock.advance(300)
    client = sfn(world)

    assert error_code(client.send_task_success, taskToken="garbage!", output="{}") == "InvalidToken"
    forged = world.host.invocations[-1].event["token"][:-2] + "OQ"  # the same execution's token #9: never issued
    assert error_code(client.send_task_heartbeat, taskToken=forged) == "TaskDoesNotExist"
    failed = world.host.invoke("callback-waves", {"action": "fail"})
    assert failed.result == {"sent": "fail"} and run.status == "FAILED" and run.error == "Wave.Failed"
    again = world.host.invoke("callback-waves", {"action": "succeed"})
    assert again.result == {"error": "TaskTimedOut"} and again.calls[0]["error"] == "TaskTimedOut"


def test_heartbeat_and_stop(world: World) -> None:
    run = execution(world, start_from_code(world, {"n": 1})["executionArn"])
    world.clock.advance(300)
    assert world.host.invoke("callback-waves", {"action": "heartbeat"}).result == {"sent": "heartbeat"}

    stopped = sfn(world).stop_execution(executionArn=run.arn, error="Operator", cause="cancelled")
    assert run.status == "ABORTED" and stopped["stopDate"] == run.stop_date
    assert world.host.invoke("callback-waves", {"action": "succeed"}).result == {"error": "TaskTimedOut"}
    described = sfn(world).describe_execution(executionArn=run.arn)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Operator", "cancelled")


def test_history_and_listing_page_as_aws_does(world: World) -> None:
    client, arn = sfn(world), machine_arn(world, "WavesMachine")
    first = start_from_code(world, {"n": 1})["executionArn"]
    second = start_from_code(world, {"n": "x"})["executionArn"]

    page = client.get_execution_history(executionArn=first, maxResults=3)
    assert [event["type"] for event in page["events"]] == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled"]
    rest = client.get_execution_history(executionArn=first, nextToken=page["nextToken"])
    assert "nextToken" not in rest and rest["events"][0]["id"] == 4
    latest = client.get_execution_history(executionArn=first, reverseOrder=True, includeExecutionData=False)
    assert latest["events"][0]["type"] == "WaitStateEntered" and "input" not in latest["events"][0][
        "stateEnteredEventDetails"]
    assert error_code(client.get_execution_history, executionArn=second, nextToken=page["nextToken"]) == \
        "InvalidToken"

    listed = client.list_executions(stateMachineArn=arn)["executions"]
    assert [item["executionArn"] for item in listed] == [second, first]  # newest first
    failed = client.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"]
    assert [item["executionArn"] for item in failed] == [second]


def test_every_answer_fits_botocores_model(world: World) -> None:
    """The service validates each answer against botocore's model; a wrong shape is a harness error, not silence."""
    service: StepFunctions = world.stepfunctions
    arn = start_from_code(world, {"n": 1})["executionArn"]
    world.clock.advance(300)
    for operation, params in [("DescribeExecution", {"executionArn": arn}),
                              ("GetExecutionHistory", {"executionArn": arn}),
                              ("ListExecutions", {"stateMachineArn": machine_arn(world, "WavesMachine")}),
                              ("DescribeStateMachineForExecution", {"executionArn": arn})]:
        response, parsed = service.answer(operation, params)
        assert response.status_code == 200, (operation, parsed)
    assert sfn_service_model().service_id.hyphenize() == "sfn"


def test_other_operations_are_left_to_the_backend(world: World) -> None:
    listed = sfn(world).list_state_machines()["stateMachines"]
    assert {machine["stateMachineArn"] for machine in listed} == set(world.stepfunctions.machines)


def test_capture_gives_each_machines_executions(world: World) -> None:
    start_from_code(world, {"n": 1}, name="wave-1")
    assert world.stepfunctions.capture() == {
        "WavesMachine": [{"name": "wave-1", "status": "RUNNING", "statesPassed": ["Double", "Pause"], "error": None}],
        "DeniedMachine": [],
    }


def test_a_world_without_machines_captures_none_and_never_settles() -> None:
    with World("moto") as empty:
        assert empty.stepfunctions.capture() is None and empty.stepfunctions.settle() is False
