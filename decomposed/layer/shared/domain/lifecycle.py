"""The execution lifecycle every function agrees on: statuses, finality, and what starting a wave does."""

from typing import Any

Execution = dict[str, Any]
Wave = dict[str, Any]

# Execution statuses.
INITIATED = "INITIATED"
POLLING = "POLLING"
PAUSED = "PAUSED"
CANCELLING = "CANCELLING"
CANCELLED = "CANCELLED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
TIMEOUT = "TIMEOUT"
FINAL_EXECUTION_STATUSES = frozenset({COMPLETED, FAILED, TIMEOUT, CANCELLED})
POLLED_EXECUTION_STATUSES = (POLLING, CANCELLING)

# Wave statuses (COMPLETED, FAILED and CANCELLED are shared with executions).
PENDING = "PENDING"
STARTED = "STARTED"
LAUNCHING = "LAUNCHING"
FINAL_WAVE_STATUSES = frozenset({COMPLETED, FAILED, CANCELLED})
ACTIVE_WAVE_STATUSES = frozenset({STARTED, LAUNCHING})

SKIPPED_AFTER_FAILURE = "Skipped: an earlier wave failed"
SERVERS_PER_JOB = 200  # StartRecovery takes at most 200 source servers: a larger wave is started as several jobs


class InvalidTransition(Exception):
    """The execution's state does not allow the requested change."""


def is_final_execution(execution: Execution) -> bool:
    return execution.get("status") in FINAL_EXECUTION_STATUSES


def is_final_wave(wave: Wave) -> bool:
    return wave.get("status") in FINAL_WAVE_STATUSES


def is_being_started(wave: Wave) -> bool:
    """Claimed for a start (startTime written) with no DRS job recorded yet."""
    return wave.get("status") == PENDING and wave.get("startTime") is not None and not wave.get("jobId")


def is_active_wave(wave: Wave) -> bool:
    """Running in DRS, or about to: a wave being started is followed to its end like a running one."""
    return wave.get("status") in ACTIVE_WAVE_STATUSES or is_being_started(wave)


def wave_jobs(wave: Wave) -> list[str]:
    """The wave's DRS jobs, one per chunk of its servers, in chunk order ([] before it starts)."""
    return list(wave.get("jobIds") or ([wave["jobId"]] if wave.get("jobId") else []))


def server_id_chunks(wave: Wave) -> list[list[str]]:
    """The wave's sorted servers as its StartRecovery calls take them; no server at all is one empty chunk (which
    DRS refuses: the wave fails to start)."""
    server_ids = list(wave.get("serverIds") or [])
    return [server_ids[i : i + SERVERS_PER_JOB] for i in range(0, max(len(server_ids), 1), SERVERS_PER_JOB)]


def _keep_jobs(wave: Wave, job_ids: list[str]) -> None:
    wave["jobIds"] = list(job_ids)
    wave["jobId"] = job_ids[0] if job_ids else None  # the first job, as one-job waves always showed it


def mark_job_recorded(execution: Execution, wave_number: int, job_ids: list[str]) -> None:
    wave = execution["waves"][wave_number]
    wave["status"] = STARTED
    _keep_jobs(wave, job_ids)
    execution["currentWave"] = wave_number


def mark_wave_started(execution: Execution, wave_number: int, job_ids: list[str], now: int) -> None:
    wave = execution["waves"][wave_number]
    if wave.get("startTime") is None:
        wave["startTime"] = now
    mark_job_recorded(execution, wave_number, job_ids)
    execution["status"] = POLLING


def mark_wave_start_failed(execution: Execution, wave_number: int, error_text: str, now: int,
                           started_jobs: list[str]) -> None:
    """The jobs of the chunks started before the failing one stay recorded on the failed wave."""
    wave = execution["waves"][wave_number]
    # a wave that never started keeps no startTime, though its start was claimed
    wave.update(status=FAILED, statusMessage=f"Failed to start recovery: {error_text}", endTime=now, startTime=None)
    _keep_jobs(wave, started_jobs)
    execution.update(status=FAILED, errorMessage=f"Wave {wave_number} failed to start: {error_text}", endTime=now)
    skip_pending_waves_after(execution, wave_number)


def skip_pending_waves_after(execution: Execution, wave_number: int) -> None:
    for wave in execution["waves"][wave_number + 1 :]:
        if wave["status"] == PENDING:
            wave.update(status=CANCELLED, statusMessage=SKIPPED_AFTER_FAILURE)


def start_recovery_tags(execution_id: str, wave_number: int, chunk: int) -> dict[str, str]:
    return {"drs-orchestration:executionId": execution_id, "drs-orchestration:wave": str(wave_number),
            "drs-orchestration:chunk": str(chunk)}


# What a change of an execution writes back (the poller adds lastPolledTime).
MUTABLE_FIELDS = ("waves", "status", "currentWave", "endTime", "errorMessage", "pausedBeforeWave")
POLL_WRITE_FIELDS = ("waves", "status", "currentWave", "lastPolledTime", "endTime", "errorMessage", "pausedBeforeWave")


def mutable_fields(execution: Execution, names: tuple[str, ...] = MUTABLE_FIELDS) -> dict[str, Any]:
    return {name: execution.get(name) for name in names}


def by_account_and_region(waves: list[Wave]) -> dict[tuple[str | None, str | None], list[Wave]]:
    """Waves grouped by (accountId, region), groups in the order of their first wave."""
    groups: dict[tuple[str | None, str | None], list[Wave]] = {}
    for wave in waves:
        groups.setdefault((wave.get("accountId"), wave.get("region")), []).append(wave)
    return groups
