"""Starting a wave in DRS: used by the start worker, by resume, and by the poller for the next wave."""

from shared import log
from shared.domain.lifecycle import (
    Execution,
    mark_wave_start_failed,
    mark_wave_started,
    start_recovery_tags,
)
from shared.drs_gateway import DrsGateway
from shared.errors import AwsCallError


def start_wave(execution: Execution, wave_number: int, drs: DrsGateway, now: int) -> bool:
    """StartRecovery for the wave's servers; updates `execution` either way and returns whether it started."""
    wave = execution["waves"][wave_number]
    execution_id = execution["executionId"]
    try:
        job_id = drs.start_recovery(
            wave["accountId"],
            wave["region"],
            wave["serverIds"],
            is_drill=execution["executionType"] == "DRILL",
            tags=start_recovery_tags(execution_id, wave_number),
        )
    except AwsCallError as exc:
        mark_wave_start_failed(execution, wave_number, exc.text, now)
        return False
    mark_wave_started(execution, wave_number, job_id, now)
    log.info(f"Started wave {wave_number} for execution {execution_id}: job {job_id}", execution_id)
    return True
