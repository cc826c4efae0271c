"""Entry point of OrchestrationFunction: the wave state machine's task, `{executionId, planId, waveNumber, taskToken}`.

Starts the wave the machine has reached (wave 0 as the start worker does: paused before it or started; a later wave
when the poller hands it over), keeps the task token for whoever ends the wave (the poller, or the API on cancel and
resume), and hands it straight back when there is nothing to wait for.
"""

import time
from typing import Any

from shared import log, state_machine
from shared.accounts import AccountContexts
from shared.domain.lifecycle import (
    CANCELLING,
    FAILED,
    INITIATED,
    PAUSED,
    PENDING,
    POLLING,
    Execution,
    mutable_fields,
)
from shared.drs_gateway import DrsGateway
from shared.executions import plan_pauses_before_wave
from shared.repositories import ExecutionRepository
from shared.wave_starter import StartClaimLost, start_wave

# What the machine waits through with the token kept: a wave running, a pause, a cancel in progress.
WAITING_STATUSES = (POLLING, PAUSED, CANCELLING)


def lambda_handler(event: dict[str, Any], context: Any = None) -> None:
    execution_id, wave_number, token = str(event["executionId"]), int(event["waveNumber"]), str(event["taskToken"])
    repository = ExecutionRepository()
    execution = repository.get_item(execution_id)
    if execution is None:
        log.info(f"Execution {execution_id} not found", execution_id)
        state_machine.send(token, {"executionId": execution_id, "planId": event.get("planId"), "status": FAILED,
                                   "errorMessage": f"Execution {execution_id} not found"})
        return
    state_machine.keep_token(execution_id, token, wave_number)  # before the status changes: a poll may come next
    previous_status = execution["status"]
    try:
        expected = _start_or_hold(execution, wave_number, repository)
    except StartClaimLost:
        expected = None
        execution = repository.get_item(execution_id) or execution
    written = expected is not None and repository.update_if_status(execution, mutable_fields(execution), [expected])
    if expected is not None and not written:
        log.debug(f"Execution {execution_id} changed during start; update skipped", execution_id)
        execution = repository.get_item(execution_id) or execution
    if written and previous_status == POLLING and execution["status"] != POLLING:  # as the poller logs its waves
        log.info(f"Execution {execution_id} status {previous_status} -> {execution['status']}", execution_id)
    if execution["status"] not in WAITING_STATUSES:
        state_machine.hand_back(execution)


def _start_or_hold(execution: Execution, wave_number: int, repository: ExecutionRepository) -> str | None:
    """Start (or pause before) the wave when it is this task's to start: the status to write under, else None.

    Nothing to start: the API resumed the wave already, the execution is paused, cancelling or over.
    """
    status = execution["status"]
    if status == INITIATED and wave_number == 0:
        if plan_pauses_before_wave(execution["planId"], 0):
            execution.update(status=PAUSED, pausedBeforeWave=0)
        else:
            start_wave(execution, 0, DrsGateway(AccountContexts()), int(time.time()), repository, [INITIATED])
        return INITIATED
    if status == POLLING and execution["waves"][wave_number]["status"] == PENDING:
        start_wave(execution, wave_number, DrsGateway(AccountContexts()), int(time.time()), repository, [POLLING])
        return POLLING
    return None
