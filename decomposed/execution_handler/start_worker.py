"""The asynchronous half of POST /executions: pause before wave 0, or start it in DRS."""

import time

from decomposed.shared import log
from decomposed.shared.accounts import AccountContexts
from decomposed.shared.domain.lifecycle import INITIATED, PAUSED, mutable_fields
from decomposed.shared.drs_gateway import DrsGateway
from decomposed.shared.executions import plan_pauses_before_wave
from decomposed.shared.repositories import ExecutionRepository
from decomposed.shared.wave_starter import start_wave
from decomposed.execution_handler.events import StartExecutionEvent


def run(event: StartExecutionEvent) -> None:
    repository = ExecutionRepository()
    execution = repository.get(event.execution_id)
    if execution is None:
        log.info(f"Execution {event.execution_id} not found", event.execution_id)
        return
    if execution["status"] != INITIATED:
        log.info(f"Execution {event.execution_id} is {execution['status']}; start skipped", event.execution_id)
        return
    if plan_pauses_before_wave(execution["planId"], 0):
        execution.update(status=PAUSED, pausedBeforeWave=0)
    else:
        start_wave(execution, 0, DrsGateway(AccountContexts()), int(time.time()))
    if not repository.update_if_status(execution, mutable_fields(execution), [INITIATED]):
        log.debug(f"Execution {event.execution_id} changed during start; update skipped", event.execution_id)

