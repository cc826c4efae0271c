"""Starting a wave: claimed on the execution item, then DRS StartRecovery in the wave's account and region."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import domain
import logs
from aws import AwsError
from repositories import ConditionFailed
from services import Services

Item = dict[str, Any]

EXECUTION_TAG = "drs-orchestration:executionId"
WAVE_TAG = "drs-orchestration:wave"
RECORD_ATTEMPTS = 3  # recording a started job against concurrent writers


def start_wave(services: Services, item: Item, wave_number: int, now: int,
               expected_statuses: Iterable[str]) -> str | None:
    """Start wave `wave_number` (status POLLING), or record why it could not start (status FAILED); returns the job
    started. The start is claimed first (a versioned write): ConditionFailed means another writer got there first.
    A wave claimed before (an interrupted start) gets the job DRS already runs for it, if any, instead of another."""
    wave = item["waves"][wave_number]
    execution_id = item["executionId"]
    try:
        job_id = _job_of_claimed_start(services, item, wave_number) if domain.is_claimed(wave) else None
        if job_id is None:
            domain.claim_wave(item, wave_number, now)
            services.executions.claim_wave(item, wave_number, expected_statuses)
            job_id = services.drs.start_recovery(
                wave["accountId"], wave["region"], wave["serverIds"], is_drill=item["executionType"] == "DRILL",
                tags=_tags(execution_id, wave_number))
    except AwsError as error:
        domain.record_wave_start_failure(item, wave_number, error.reason, now)
        return None
    domain.record_wave_started(item, wave_number, job_id, now)
    logs.info(f"Started wave {wave_number} for execution {execution_id}: job {job_id}", execution_id)
    return job_id


def _tags(execution_id: str, wave_number: int) -> dict[str, str]:
    return {EXECUTION_TAG: execution_id, WAVE_TAG: str(wave_number)}


def _job_of_claimed_start(services: Services, item: Item, wave_number: int) -> str | None:
    """The newest job since the wave's claim tagged with this execution and wave, None when DRS has none."""
    wave = item["waves"][wave_number]
    since = datetime.fromtimestamp(wave["startTime"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs = [job for job in services.drs.jobs_since(wave["accountId"], wave["region"], since)
            if (job.get("tags") or {}).items() >= _tags(item["executionId"], wave_number).items()]
    return max(jobs, key=lambda job: job.get("creationDateTime") or "")["jobID"] if jobs else None


def record_start_alone(services: Services, execution_id: str, wave_number: int, job_id: str) -> None:
    """A writer that started a job and then lost its race still records the job on its claimed wave (nothing else),
    so the job is followed whatever the winner decided; a wave no longer claimed was recorded by someone else."""
    for _ in range(RECORD_ATTEMPTS):
        item = services.executions.find(execution_id)
        if item is None or not domain.is_claimed(item["waves"][wave_number]):
            return
        domain.record_job(item, wave_number, job_id)
        try:
            services.executions.update(item, ("waves", "currentWave"), (item["status"],))
            return
        except ConditionFailed:
            continue
    logs.debug(f"Execution {execution_id}: job {job_id} of wave {wave_number} left to the next poll", execution_id)


def plan_pauses_before(services: Services, plan_id: str) -> Callable[[int], bool]:
    """A lazy lookup of the plan's pauseBeforeWave flags: the plan is read only if a pause decision needs it."""
    cache: dict[str, Item | None] = {}

    def pauses_before(wave_number: int) -> bool:
        if "plan" not in cache:
            cache["plan"] = services.plans.get(plan_id)
        waves = (cache["plan"] or {}).get("waves", [])
        return wave_number < len(waves) and bool(waves[wave_number].get("pauseBeforeWave"))

    return pauses_before
