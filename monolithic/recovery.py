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
CHUNK_TAG = "drs-orchestration:chunk"  # the 0-based index of a job's chunk of 200 servers in its wave
RECORD_ATTEMPTS = 3  # recording a started job against concurrent writers


def start_wave(services: Services, item: Item, wave_number: int, now: int,
               expected_statuses: Iterable[str]) -> list[str] | None:
    """Start wave `wave_number` (status POLLING), or record why it could not start (status FAILED); returns the jobs
    started, one per chunk of 200 servers. The start is claimed first (a versioned write): ConditionFailed means
    another writer got there first. A wave claimed before (an interrupted start) takes each chunk's job DRS already
    runs, if any, and starts only the chunks that have none."""
    wave = item["waves"][wave_number]
    execution_id = item["executionId"]
    jobs: list[str] = []
    try:
        chunks = domain.server_chunks(wave)
        found = _jobs_of_claimed_start(services, item, wave_number) if domain.is_claimed(wave) else {}
        if len(found) < len(chunks):  # a chunk to start: claim; a take-up keeps the startTime its jobs are found by
            if not found:
                domain.claim_wave(item, wave_number, now)
            services.executions.claim_wave(item, wave_number, expected_statuses)
        for chunk_index, server_ids in enumerate(chunks):
            jobs.append(found.get(chunk_index) or services.drs.start_recovery(
                wave["accountId"], wave["region"], server_ids, is_drill=item["executionType"] == "DRILL",
                tags=_tags(execution_id, wave_number, chunk_index)))
    except AwsError as error:
        domain.record_wave_start_failure(item, wave_number, error.reason, now, jobs)
        return None
    domain.record_wave_started(item, wave_number, jobs, now)
    logs.info(f"Started wave {wave_number} for execution {execution_id}: {_jobs_text(jobs)}", execution_id)
    return jobs


def _jobs_text(jobs: list[str]) -> str:
    return f"job {jobs[0]}" if len(jobs) == 1 else f"jobs {', '.join(jobs)}"


def _tags(execution_id: str, wave_number: int, chunk_index: int) -> dict[str, str]:
    return {EXECUTION_TAG: execution_id, WAVE_TAG: str(wave_number), CHUNK_TAG: str(chunk_index)}


def _jobs_of_claimed_start(services: Services, item: Item, wave_number: int) -> dict[int, str]:
    """Chunk index -> the newest job since the wave's claim tagged with this execution, wave and chunk."""
    wave = item["waves"][wave_number]
    since = datetime.fromtimestamp(wave["startTime"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs = services.drs.jobs_since(wave["accountId"], wave["region"], since)
    newest: dict[int, Item] = {}
    for chunk_index in range(len(domain.server_chunks(wave))):
        wanted = _tags(item["executionId"], wave_number, chunk_index).items()
        tagged = [job for job in jobs if (job.get("tags") or {}).items() >= wanted]
        if tagged:
            newest[chunk_index] = max(tagged, key=lambda job: job.get("creationDateTime") or "")
    return {chunk_index: job["jobID"] for chunk_index, job in newest.items()}


def record_start_alone(services: Services, execution_id: str, wave_number: int, jobs: list[str]) -> None:
    """A writer that started a wave's jobs and then lost its race still records them on its claimed wave (nothing
    else), so they are followed whatever the winner decided; a wave no longer claimed was recorded by someone else."""
    for _ in range(RECORD_ATTEMPTS):
        item = services.executions.find(execution_id)
        if item is None or not domain.is_claimed(item["waves"][wave_number]):
            return
        domain.record_job(item, wave_number, jobs)
        try:
            services.executions.update(item, ("waves", "currentWave"), (item["status"],))
            return
        except ConditionFailed:
            continue
    logs.debug(f"Execution {execution_id}: {_jobs_text(jobs)} of wave {wave_number} left to the next poll",
               execution_id)


def plan_pauses_before(services: Services, plan_id: str) -> Callable[[int], bool]:
    """A lazy lookup of the plan's pauseBeforeWave flags: the plan is read only if a pause decision needs it."""
    cache: dict[str, Item | None] = {}

    def pauses_before(wave_number: int) -> bool:
        if "plan" not in cache:
            cache["plan"] = services.plans.get(plan_id)
        waves = (cache["plan"] or {}).get("waves", [])
        return wave_number < len(waves) and bool(waves[wave_number].get("pauseBeforeWave"))

    return pauses_before
