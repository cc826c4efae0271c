"""Poll rules (pure): timeout, a wave from its DRS job, and what the execution does next."""

from typing import Any, Callable

from shared.domain.lifecycle import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    LAUNCHING,
    PAUSED,
    STARTED,
    TIMEOUT,
    Execution,
    Wave,
    is_active_wave,
    is_final_wave,
    skip_pending_waves_after,
)

LAUNCHED = "LAUNCHED"
FAILED_LAUNCH_STATUSES = frozenset({"FAILED", "TERMINATED"})
JOB_PENDING = "PENDING"
JOB_STARTED = "STARTED"
JOB_COMPLETED = "COMPLETED"


def time_out_if_due(execution: Execution, timeout_seconds: int, now: int) -> bool:
    """Ends the execution as TIMEOUT once it has run `timeout_seconds`; True when it did."""
    if now - int(execution["startTime"]) < timeout_seconds:
        return False
    for wave in execution["waves"]:
        if not is_final_wave(wave):
            wave.update(status=CANCELLED, statusMessage="Execution timed out", endTime=now)
    execution.update(status=TIMEOUT, errorMessage=f"Execution exceeded {timeout_seconds} seconds", endTime=now)
    return True


def jobs_status(jobs: list[dict[str, Any]]) -> str:
    """A wave's jobs as one: COMPLETED when every job is, PENDING when every job is, else STARTED (under way)."""
    statuses = {job.get("status") for job in jobs}
    if statuses == {JOB_COMPLETED}:
        return JOB_COMPLETED
    return JOB_PENDING if statuses == {JOB_PENDING} else JOB_STARTED


def apply_jobs(wave: Wave, jobs: list[dict[str, Any]], server_statuses: list[dict[str, Any]], now: int) -> None:
    """The wave's status from its jobs taken together and all their servers; first matching rule wins."""
    job_status = jobs_status(jobs)
    launch = [server["launchStatus"] for server in server_statuses]
    total = len(launch)
    launched = launch.count(LAUNCHED)
    failed = sum(1 for status in launch if status in FAILED_LAUNCH_STATUSES)
    wave["serverStatuses"] = server_statuses
    if launched == total:
        wave.update(status=COMPLETED, statusMessage=f"All {total} servers launched")
    elif failed:
        wave.update(status=FAILED, statusMessage=f"{failed} of {total} servers failed to launch")
    elif job_status == JOB_COMPLETED:
        wave.update(status=FAILED, statusMessage=f"Job completed with {total - launched} of {total} servers not launched")
    elif job_status == JOB_STARTED:
        wave.update(status=LAUNCHING, statusMessage=f"{launched} of {total} servers launched")
    elif job_status == JOB_PENDING:
        wave.update(status=STARTED, statusMessage="Waiting for DRS job to start")
    if is_final_wave(wave):
        wave["endTime"] = now


def next_step(execution: Execution, plan_pauses_before: Callable[[int], bool], now: int) -> int | None:
    """Applies the execution rules (first match wins); returns the wave to start now, if any."""
    waves = execution["waves"]
    any_active = any(is_active_wave(wave) for wave in waves)
    failed = [wave for wave in waves if wave["status"] == FAILED]
    if failed:
        first = failed[0]
        skip_pending_waves_after(execution, first["waveNumber"])
        if not any_active:
            execution.update(status=FAILED, endTime=now,
                             errorMessage=f"Wave {first['waveNumber']} failed: {first['statusMessage']}")
        return None
    if execution["status"] == CANCELLING:
        if not any_active:
            execution.update(status=CANCELLED, endTime=now)
            return None
    current = int(execution["currentWave"])
    if waves[current]["status"] != COMPLETED:
        return None
    if current == int(execution["totalWaves"]) - 1:
        execution.update(status=COMPLETED, endTime=now)
        return None
    following = current + 1
    if execution.get("pausedBeforeWave") == following or plan_pauses_before(following):
        execution.update(status=PAUSED, pausedBeforeWave=following, currentWave=following)
        return None
    return following
