"""The asynchronous half of POST /executions: pause before wave 0, or start it in DRS."""

import time

from shared import log
from shared.accounts import AccountContexts
from shared.domain.lifecycle import INITIATED, PAUSED, mutable_fields
from shared.drs_gateway import DrsGateway
from shared.executions import plan_pauses_before_wave
from shared.repositories import ExecutionRepository
from shared.wave_starter import StartClaimLost, record_started_job, start_wave

from events import StartExecutionEvent


def run(event: StartExecutionEvent) -> None:
    repository = ExecutionRepository()
    execution = repository.get_item(event.execution_id)
    if execution is None:
        log.info(f"Execution {event.execution_id} not found", event.execution_id)
        return
    if execution["status"] != INITIATED:
        log.info(f"Execution {event.execution_id} is {execution['status']}; start skipped", event.execution_id)
        return
    job_ids = None
    try:
        if plan_pauses_before_wave(execution["planId"], 0):
            execution.update(status=PAUSED, pausedBeforeWave=0)
        else:
            job_ids = start_wave(execution, 0, DrsGateway(AccountContexts()), int(time.time()), repository, [INITIATED])
        written = repository.update_if_status(execution, mutable_fields(execution), [INITIATED])
    except StartClaimLost:  # e.g. the same event delivered twice: the other delivery claimed wave 0
        written = False
    if not written:
        if job_ids is not None:
            record_started_job(repository, event.execution_id, 0, job_ids)
        log.debug(f"Execution {event.execution_id} changed during start; update skipped", event.execution_id)

