"""Starting a wave in DRS: used by the start worker, by resume, and by the poller for the next wave.

A start is claimed on the execution item (a versioned write of the wave's startTime) before StartRecovery, so two
writers that read the same execution cannot both start the wave; a wave found claimed but without a job (its start
was interrupted) takes the job DRS already runs for it, tagged with its execution and wave, before starting another.
"""

from datetime import datetime, timezone
from typing import Iterable

from shared import log
from shared.domain.lifecycle import (
    Execution,
    is_being_started,
    mark_job_recorded,
    mark_wave_start_failed,
    mark_wave_started,
    start_recovery_tags,
)
from shared.drs_gateway import DrsGateway
from shared.errors import AwsCallError
from shared.repositories import ExecutionRepository

RECORD_ATTEMPTS = 3


class StartClaimLost(Exception):
    """Another writer changed the execution since it was read: this one must not start the wave."""


def start_wave(execution: Execution, wave_number: int, drs: DrsGateway, now: int,
               repository: ExecutionRepository, statuses: Iterable[str]) -> str | None:
    """Claims and starts the wave (or takes its interrupted start's job); updates `execution` either way and returns
    the job started, None when the start failed. Raises StartClaimLost when the claim loses its race."""
    wave = execution["waves"][wave_number]
    execution_id = execution["executionId"]
    try:
        job_id = _job_already_started(execution, wave_number, drs) if is_being_started(wave) else None
        if job_id is None:
            wave["startTime"] = now
            if not repository.claim_wave_start(execution, wave_number, statuses):
                raise StartClaimLost(execution_id)
            job_id = drs.start_recovery(
                wave["accountId"],
                wave["region"],
                wave["serverIds"],
                is_drill=execution["executionType"] == "DRILL",
                tags=start_recovery_tags(execution_id, wave_number),
            )
    except AwsCallError as exc:
        mark_wave_start_failed(execution, wave_number, exc.text, now)
        return None
    mark_wave_started(execution, wave_number, job_id, now)
    log.info(f"Started wave {wave_number} for execution {execution_id}: job {job_id}", execution_id)
    return job_id


def _job_already_started(execution: Execution, wave_number: int, drs: DrsGateway) -> str | None:
    wave = execution["waves"][wave_number]
    since = datetime.fromtimestamp(int(wave["startTime"]), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    wanted = start_recovery_tags(execution["executionId"], wave_number)
    tagged = [job for job in drs.jobs_created_since(wave.get("accountId"), wave.get("region"), since)
              if all((job.get("tags") or {}).get(key) == value for key, value in wanted.items())]
    tagged.sort(key=lambda job: str(job.get("creationDateTime") or ""))
    return str(tagged[-1]["jobID"]) if tagged else None


def record_started_job(repository: ExecutionRepository, execution_id: str, wave_number: int, job_id: str) -> None:
    """After its writer lost the race, a started job is still written on its claimed wave, alone, so whatever the
    winner decided (a cancel, a pause) the job is followed; a wave no longer claimed was recorded already."""
    for _ in range(RECORD_ATTEMPTS):
        execution = repository.get_item(execution_id)
        if execution is None or not is_being_started(execution["waves"][wave_number]):
            return
        mark_job_recorded(execution, wave_number, job_id)
        fields = {"waves": execution["waves"], "currentWave": execution["currentWave"]}
        if repository.update_if_status(execution, fields, [execution["status"]]):
            return
    log.debug(f"Job {job_id} of wave {wave_number} left for the next poll to find", execution_id)
