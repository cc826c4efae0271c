"""Starting a wave in DRS: used by the start worker, by resume, and by the poller for the next wave.

A start is claimed on the execution item (a versioned write of the wave's startTime) before StartRecovery, so two
writers that read the same execution cannot both start the wave; a wave found claimed but without a job (its start
was interrupted) takes the jobs DRS already runs for it, tagged with its execution, wave and chunk, and starts only the
chunks that have none.
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
    server_id_chunks,
    start_recovery_tags,
)
from shared.drs_gateway import DrsGateway
from shared.errors import AwsCallError
from shared.repositories import ExecutionRepository

RECORD_ATTEMPTS = 3


class StartClaimLost(Exception):
    """Another writer changed the execution since it was read: this one must not start the wave."""


def start_wave(execution: Execution, wave_number: int, drs: DrsGateway, now: int,
               repository: ExecutionRepository, statuses: Iterable[str]) -> list[str] | None:
    """Claims and starts the wave, one job per chunk of 200 servers (or takes its interrupted start's jobs and starts
    only the chunks that have none); updates `execution` either way and returns the jobs, None when the start failed.
    Raises StartClaimLost when the claim loses its race."""
    wave = execution["waves"][wave_number]
    execution_id = execution["executionId"]
    chunks = server_id_chunks(wave)
    started: list[str] = []
    try:
        taken_up = _jobs_already_started(execution, wave_number, drs) if is_being_started(wave) else {}
        if len(taken_up) < len(chunks):
            if not taken_up:  # a take-up with jobs keeps the startTime they are looked up from
                wave["startTime"] = now
            if not repository.claim_wave_start(execution, wave_number, statuses):
                raise StartClaimLost(execution_id)
        for chunk, server_ids in enumerate(chunks):
            started.append(taken_up.get(chunk) or drs.start_recovery(
                wave["accountId"],
                wave["region"],
                server_ids,
                is_drill=execution["executionType"] == "DRILL",
                tags=start_recovery_tags(execution_id, wave_number, chunk),
            ))
    except AwsCallError as exc:
        mark_wave_start_failed(execution, wave_number, exc.text, now, started)
        return None
    mark_wave_started(execution, wave_number, started, now)
    log.info(f"Started wave {wave_number} for execution {execution_id}: {describe_jobs(started)}", execution_id)
    return started


def describe_jobs(job_ids: list[str]) -> str:
    """`job <id>` for a one-job wave (as always), `jobs <id>, <id>` for several."""
    return f"job {job_ids[0]}" if len(job_ids) == 1 else "jobs " + ", ".join(job_ids)


def _jobs_already_started(execution: Execution, wave_number: int, drs: DrsGateway) -> dict[int, str]:
    """Chunk -> the newest job created since the wave's startTime with the tags of that chunk."""
    wave = execution["waves"][wave_number]
    since = datetime.fromtimestamp(int(wave["startTime"]), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs = sorted(drs.jobs_created_since(wave.get("accountId"), wave.get("region"), since),
                  key=lambda job: str(job.get("creationDateTime") or ""))
    found: dict[int, str] = {}
    for chunk in range(len(server_id_chunks(wave))):
        wanted = start_recovery_tags(execution["executionId"], wave_number, chunk)
        for job in jobs:  # oldest first: the newest tagged job wins
            if all((job.get("tags") or {}).get(key) == value for key, value in wanted.items()):
                found[chunk] = str(job["jobID"])
    return found


def record_started_job(repository: ExecutionRepository, execution_id: str, wave_number: int,
                       job_ids: list[str]) -> None:
    """After its writer lost the race, a wave's started jobs are still written on its claimed wave, alone, so
    whatever the winner decided (a cancel, a pause) they are followed; a wave no longer claimed was recorded already."""
    for _ in range(RECORD_ATTEMPTS):
        execution = repository.get_item(execution_id)
        if execution is None or not is_being_started(execution["waves"][wave_number]):
            return
        mark_job_recorded(execution, wave_number, job_ids)
        fields = {"waves": execution["waves"], "currentWave": execution["currentWave"]}
        if repository.update_if_status(execution, fields, [execution["status"]]):
            return
    log.debug(f"{describe_jobs(job_ids)} of wave {wave_number} left for the next poll to find", execution_id)
