"""The wave state machine seen from the functions: start it, keep the task token it waits on, hand that token back.

Used only where a Step Functions machine runs the waves (STATE_MACHINE_ARN, TASK_TOKENS_TABLE set); elsewhere the
functions start and follow the waves themselves and nothing here is called.
"""

import json
from typing import Any

from botocore.exceptions import ClientError

from shared import clients, config, log
from shared.aws_calls import reported_as_call_error
from shared.domain.lifecycle import FAILED, TIMEOUT, Execution
from shared.errors import AwsCallError

# Statuses the machine hears of as a failed task (SendTaskFailure): the error names what happened.
TASK_ERRORS = {FAILED: "WaveFailed", TIMEOUT: "ExecutionTimedOut"}


def runs_waves() -> bool:
    """Whether a state machine starts the waves (the poller then hands each finished wave back to it)."""
    return config.task_tokens_table() is not None


def start(execution_id: str, plan_id: str) -> None:
    """StartExecution named after the execution, at wave 0; raises AwsCallError when Step Functions refuses it."""
    machine_input = {"executionId": execution_id, "planId": plan_id, "waveNumber": 0}
    with reported_as_call_error():
        clients.client("stepfunctions").start_execution(
            stateMachineArn=config.state_machine_arn(), name=execution_id, input=json.dumps(machine_input)
        )


def _tokens() -> Any:
    return clients.dynamodb_table(str(config.task_tokens_table()))


def keep_token(execution_id: str, token: str, wave_number: int) -> None:
    """Remember the token the machine waits on for this execution (one at a time: the machine runs one task)."""
    _tokens().put_item(Item={"executionId": execution_id, "taskToken": token, "waveNumber": wave_number})


def hand_back(execution: Execution, next_wave: int | None = None) -> None:
    """Give the machine its token back, once: what became of the execution, and the wave it runs next."""
    kept = _tokens().delete_item(Key={"executionId": execution["executionId"]}, ReturnValues="ALL_OLD")
    token = (kept.get("Attributes") or {}).get("taskToken")
    if token is None:
        log.debug(f"No task token kept for execution {execution['executionId']}", execution["executionId"])
        return
    send(str(token), execution, next_wave)


def send(token: str, execution: Execution, next_wave: int | None = None) -> None:
    """SendTaskFailure for a failed or timed-out execution, else SendTaskSuccess; a refusal is logged, not raised."""
    states = clients.client("stepfunctions")
    status = execution["status"]
    try:
        if status in TASK_ERRORS:
            states.send_task_failure(taskToken=token, error=TASK_ERRORS[status],
                                     cause=str(execution.get("errorMessage") or status))
        else:
            states.send_task_success(taskToken=token, output=json.dumps(outcome(execution, next_wave)))
    except ClientError as exc:
        log.error(f"Error returning task token: {AwsCallError.from_client_error(exc).text}", execution["executionId"])


def outcome(execution: Execution, next_wave: int | None = None) -> dict[str, Any]:
    """The task's output: the machine chooses by `status` and runs `waveNumber` next."""
    wave = next_wave if next_wave is not None else execution.get("currentWave")
    return {"executionId": execution["executionId"], "planId": execution["planId"], "status": execution["status"],
            "waveNumber": int(wave or 0)}
