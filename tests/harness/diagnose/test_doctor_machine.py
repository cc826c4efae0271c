"""The doctor on a side whose waves a state machine runs: its three links, in the chain's order, each broken."""

from __future__ import annotations

from typing import Any

import pytest

from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Evidence
from drs_parity.diagnose.doctor import diagnose
from drs_parity.fixtures.chain import LINKS, STATE_MACHINE_LINKS

from tests.harness.diagnose.test_doctor import EXECUTION, call, check, healthy, item, status_index, wave

MACHINE = "WaveStateMachine"
DENIED = "User: arn:aws:sts::123456789012:assumed-role/machine-role is not authorized to perform: lambda:InvokeFunction"


def execution(status: str = "RUNNING", states: tuple[str, ...] = ("RunWave",), error: str | None = None
              ) -> dict[str, Any]:
    return {"name": EXECUTION, "status": status, "statesPassed": list(states), "error": error}


def task(error: dict[str, str] | None = None) -> dict[str, Any]:
    return {"function": "executions", "trigger": "stepfunctions", "error": error}


def sfn(operation: str, error: str | None = None, function: str = "poller") -> dict[str, Any]:
    return call("sfn", operation, error, function)


def with_machine(timeline: dict[str, Any]) -> dict[str, Any]:
    """healthy() as a state machine runs it: started with the execution, wave 0 handed over, the last wave final."""
    steps = timeline["steps"]
    steps[1]["calls"] += [sfn("StartExecution", function="executions")]
    steps[1]["invocations"] += [task()]
    steps[3]["calls"] += [sfn("SendTaskSuccess")]
    runs = [[], [execution()], [execution()],
            [execution("SUCCEEDED", ("RunWave", "NextWave", "RunWave", "NextWave", "Completed"))]]
    for each, machine_runs in zip(steps, runs):
        each["stateMachines"] = {MACHINE: machine_runs}
    return timeline


def test_a_healthy_machine_chain_passes_every_link_in_order():
    diagnosis = diagnose(with_machine(healthy()), status_index())
    assert [c.link for c in diagnosis.checks] == list(LINKS)
    assert [c.status for c in diagnosis.checks] == [PASS] * len(LINKS), diagnosis.render()
    rendered = diagnosis.render()
    assert f"✓  1 execution-started  StartExecution: {MACHINE} execution {EXECUTION} SUCCEEDED" in rendered
    assert "the machine's tasks invoked the executions function; states RunWave → NextWave → RunWave" in rendered
    assert f"SendTaskSuccess ×1; {MACHINE} execution {EXECUTION} SUCCEEDED" in rendered


def test_a_side_without_a_state_machine_has_none_of_its_links():
    links = [c.link for c in diagnose(healthy(), status_index()).checks]
    assert not set(links) & set(STATE_MACHINE_LINKS) and len(links) == len(LINKS) - len(STATE_MACHINE_LINKS)


def test_a_start_execution_call_alone_makes_it_a_state_machine_side():
    timeline = healthy()
    timeline["steps"][1]["calls"] += [sfn("StartExecution", "AccessDeniedException", "executions")]
    result = check(timeline, "execution-started")
    assert result.status == FAIL
    assert result.evidence == "executions states.StartExecution failed: AccessDeniedException"


def test_execution_started_fails_when_nobody_starts_the_machine():
    timeline = with_machine(healthy())
    for each in timeline["steps"]:
        each["stateMachines"] = {MACHINE: []}
        each["calls"] = [c for c in each["calls"] if c["service"] != "sfn"]
        each["invocations"] = [i for i in each["invocations"] if i["trigger"] != "stepfunctions"]
    diagnosis = diagnose(timeline, status_index())
    assert diagnosis.first_broken.link == "execution-started"
    assert diagnosis.first_broken.evidence == "no function called StartExecution: the state machine never ran"
    assert check(timeline, "task-invoked").status == SKIP and check(timeline, "token-returned").status == SKIP


def denied_task(timeline: dict[str, Any]) -> dict[str, Any]:
    """The machine's role may not invoke the task's function: the execution fails in its first state."""
    for each in timeline["steps"][1:]:
        each["stateMachines"] = {MACHINE: [execution("FAILED", error="Lambda.AWSLambdaException")]}
        each["invocations"] = [i for i in each["invocations"] if i["trigger"] != "stepfunctions"]
    return timeline


def test_task_invoked_names_the_failed_invoke_and_its_cause_from_live_evidence():
    timeline = denied_task(with_machine(healthy()))
    bare = check(timeline, "task-invoked")
    assert bare.status == FAIL
    assert bare.evidence == f"{MACHINE} execution {EXECUTION} FAILED in RunWave: Lambda.AWSLambdaException"
    live = check(timeline, "task-invoked", Evidence(machine_causes={EXECUTION: DENIED}))
    assert live.evidence.endswith(f"Lambda.AWSLambdaException: {DENIED}")
    assert diagnose(timeline).first_broken.link == "task-invoked"


def test_task_invoked_fails_when_the_task_function_raises():
    timeline = with_machine(healthy())
    timeline["steps"][1]["invocations"][-1]["error"] = {"type": "KeyError", "message": "'taskToken'"}
    result = check(timeline, "task-invoked")
    assert result.status == FAIL and result.evidence == "the machine's task executions failed: KeyError: 'taskToken'"


def test_task_invoked_fails_while_the_machine_waits_without_invoking():
    timeline = with_machine(healthy())
    for each in timeline["steps"]:
        each["invocations"] = [i for i in each["invocations"] if i["trigger"] != "stepfunctions"]
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution()]}
    result = check(timeline, "task-invoked")
    assert result.status == FAIL and result.evidence.endswith("is RUNNING in RunWave, no task invoked")


def test_a_wave_that_failed_on_its_own_is_no_broken_task():
    timeline = with_machine(healthy())
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution("FAILED", ("RunWave",), "WaveFailed")]}
    timeline["steps"][3]["calls"][-1]["operation"] = "SendTaskFailure"
    assert check(timeline, "task-invoked").status == PASS
    result = check(timeline, "token-returned")
    assert result.status == PASS and result.evidence == f"SendTaskFailure ×1; {MACHINE} execution {EXECUTION} FAILED"


def token_kept(timeline: dict[str, Any]) -> dict[str, Any]:
    """The poller wrote wave 0 COMPLETED but never returned the token: wave 1 never starts, the machine waits."""
    stuck = item("POLLING", [wave(0, "COMPLETED"), wave(1, "PENDING")], 1768471800)
    timeline["steps"][3]["tables"]["execution-history"] = [stuck]
    timeline["steps"][3]["calls"] = [c for c in timeline["steps"][3]["calls"] if c["service"] != "sfn"]
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution()]}
    return timeline


def test_token_returned_fails_when_a_finished_wave_keeps_the_machine_waiting():
    timeline = token_kept(with_machine(healthy()))
    diagnosis = diagnose(timeline, status_index())
    assert diagnosis.first_broken.link == "token-returned", diagnosis.render()
    assert diagnosis.first_broken.evidence == (
        f"wave 0 was COMPLETED and wave 1 still PENDING at step 3 (until COMPLETED, t+600s), but {MACHINE} "
        f"execution {EXECUTION} still waits in RunWave: no function called SendTaskSuccess or SendTaskFailure")


def test_token_returned_fails_when_the_final_item_keeps_the_machine_waiting():
    timeline = with_machine(healthy())
    timeline["steps"][3]["calls"] = [c for c in timeline["steps"][3]["calls"] if c["service"] != "sfn"]
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution(states=("RunWave", "NextWave", "RunWave"))]}
    result = check(timeline, "token-returned")
    assert result.status == FAIL and result.evidence.startswith("the execution was COMPLETED at step 3")


@pytest.mark.parametrize("error", ["TaskTimedOut", "InvalidToken"])
def test_token_returned_fails_when_step_functions_refuses_the_token(error):
    timeline = with_machine(healthy())
    timeline["steps"][3]["calls"][-1]["error"] = error
    result = check(timeline, "token-returned")
    assert result.status == FAIL and result.evidence == f"poller states.SendTaskSuccess failed: {error}"


def test_token_returned_fails_when_the_task_timed_out_waiting():
    timeline = token_kept(with_machine(healthy()))
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution("FAILED", error="States.Timeout")]}
    result = check(timeline, "token-returned")
    assert result.status == FAIL and result.evidence.endswith("its task token came back too late or never")


def test_a_paused_execution_keeps_its_token_without_breaking_the_link():
    timeline = with_machine(healthy())
    paused = item("PAUSED", [wave(0, "COMPLETED"), wave(1, "PENDING")], 1768471800)
    timeline["steps"][3]["tables"]["execution-history"] = [paused]
    timeline["steps"][3]["stateMachines"] = {MACHINE: [execution(states=("RunWave", "NextWave", "RunWave"))]}
    result = check(timeline, "token-returned")
    assert result.status == PASS and "with its token kept: the item is PAUSED" in result.evidence
