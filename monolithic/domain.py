"""Execution and wave rules, pure (no AWS): statuses, new items, wave and execution outcomes, cadence."""

from __future__ import annotations

from typing import Any, Callable, Iterable

Item = dict[str, Any]

INITIATED, POLLING, PAUSED, CANCELLING = "INITIATED", "POLLING", "PAUSED", "CANCELLING"
COMPLETED, FAILED, TIMEOUT, CANCELLED = "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"
PENDING, STARTED, LAUNCHING = "PENDING", "STARTED", "LAUNCHING"
LAUNCHED, TERMINATED = "LAUNCHED", "TERMINATED"

FINAL_EXECUTION_STATUSES = frozenset({COMPLETED, FAILED, TIMEOUT, CANCELLED})
FINAL_WAVE_STATUSES = frozenset({COMPLETED, FAILED, CANCELLED})
ACTIVE_WAVE_STATUSES = frozenset({STARTED, LAUNCHING})
POLLED_EXECUTION_STATUSES = (POLLING, CANCELLING)
FAILED_LAUNCH_STATUSES = frozenset({FAILED, TERMINATED})

ACTIVE_POLL_INTERVAL = 60  # a launching wave or a cancellation changes by the minute
IDLE_POLL_INTERVAL = 120  # a DRS job still PENDING converts snapshots for minutes
POLL_JITTER = 10  # schedule ticks drift: a poll a few seconds early is still due

SKIPPED_AFTER_FAILURE = "Skipped: an earlier wave failed"
MAX_WAVE_SERVERS = 500  # 20 waves of 500 ids keep the execution item near 210 KB, under DynamoDB's 400 KB
SERVERS_PER_JOB = 200  # StartRecovery takes at most 200 source servers: a larger wave is several DRS jobs


class RuleViolation(Exception):
    """A request the execution's state does not allow; the message is the contract's text."""


# -- new items --------------------------------------------------------------------------------------------------------
def new_wave(plan_wave: Item, group: Item, server_ids: Iterable[str]) -> Item:
    return {
        "waveNumber": plan_wave["waveNumber"], "waveName": plan_wave["waveName"], "status": PENDING,
        "jobId": None, "jobIds": [], "region": group["region"], "accountId": group["accountId"], "startTime": None,
        "endTime": None, "serverIds": sorted(server_ids), "statusMessage": None, "serverStatuses": [],
    }


def new_execution(execution_id: str, plan: Item, waves: list[Item], execution_type: str, initiated_by: str,
                  now: int) -> Item:
    return {
        "executionId": execution_id, "planId": plan["planId"], "planName": plan["planName"],
        "executionType": execution_type, "status": INITIATED, "initiatedBy": initiated_by, "startTime": now,
        "endTime": None, "totalWaves": len(waves), "currentWave": 0, "lastPolledTime": None,
        "pausedBeforeWave": None, "errorMessage": None, "waves": waves, "version": 1,
    }


def servers_matching_tags(servers: Iterable[Item], selection: dict[str, str]) -> list[str]:
    """Ids of the DRS source servers whose tags contain every selection tag."""
    return [server["sourceServerID"] for server in servers
            if all((server.get("tags") or {}).get(key) == value for key, value in selection.items())]


# -- reading an execution ---------------------------------------------------------------------------------------------
def is_final(item: Item) -> bool:
    return item["status"] in FINAL_EXECUTION_STATUSES


def active_waves(item: Item) -> list[Item]:
    return [wave for wave in item["waves"] if wave["status"] in ACTIVE_WAVE_STATUSES and wave["jobId"]]


def job_ids(wave: Item) -> list[str]:
    """The wave's DRS jobs in chunk order ([] before it starts)."""
    return list(wave.get("jobIds") or ([wave["jobId"]] if wave.get("jobId") else []))


def server_chunks(wave: Item) -> list[list[str]]:
    """The wave's sorted serverIds in the chunks its StartRecovery calls take, in order (a wave of no server is one
    empty chunk: DRS refuses it, and the wave fails to start)."""
    ids = wave["serverIds"]
    return [ids[start:start + SERVERS_PER_JOB] for start in range(0, max(len(ids), 1), SERVERS_PER_JOB)]


def is_claimed(wave: Item) -> bool:
    """A wave being started: its start was claimed (startTime set) but no job recorded yet."""
    return wave["status"] == PENDING and wave["startTime"] is not None and not wave["jobId"]


def _has_active_wave(item: Item) -> bool:
    return any(wave["status"] in ACTIVE_WAVE_STATUSES or is_claimed(wave) for wave in item["waves"])


def current_wave(item: Item) -> Item | None:
    index = item.get("currentWave")
    waves = item["waves"]
    return waves[index] if isinstance(index, int) and 0 <= index < len(waves) else None


def execution_view(item: Item, now: int) -> Item:
    """The cached item (but its version, a write counter) plus the derived fields of GET /executions/{id}."""
    end = item["endTime"] if item["endTime"] is not None else now
    return {
        **{field: value for field, value in item.items() if field != "version"},
        "isFinal": is_final(item),
        "completedWaves": sum(1 for wave in item["waves"] if wave["status"] == COMPLETED),
        "durationSeconds": end - item["startTime"],
    }


SUMMARY_FIELDS = ("executionId", "planId", "planName", "executionType", "status", "initiatedBy", "startTime",
                  "endTime", "totalWaves", "currentWave")


def execution_summary(item: Item) -> Item:
    return {field: item.get(field) for field in SUMMARY_FIELDS}


def instance_ids_by_location(item: Item) -> dict[tuple[str, str], list[str]]:
    """Recovery instance ids grouped by (account, region) in wave order, each group in the order of its servers (wave,
    then sourceServerId): what a chunk of them holds must not hang on the instance ids, which EC2 draws at random."""
    groups: dict[tuple[str, str], dict[str, None]] = {}
    for wave in item["waves"]:
        ids = [server["instanceId"] for server in wave["serverStatuses"] if server.get("instanceId")]
        if ids:
            groups.setdefault((wave["accountId"], wave["region"]), {}).update(dict.fromkeys(ids))
    return {location: list(ids) for location, ids in groups.items()}


# -- user actions -----------------------------------------------------------------------------------------------------
def _refuse_unless(allowed: bool, item: Item, action: str) -> None:
    if not allowed:
        raise RuleViolation(f"Execution {item['executionId']} is {item['status']}; cannot {action}")


def cancel(item: Item, now: int) -> None:
    _refuse_unless(not is_final(item), item, "cancel")
    for wave in item["waves"]:
        if wave["status"] == PENDING and not is_claimed(wave):  # a wave being started is followed to its end
            wave.update(status=CANCELLED, statusMessage="Cancelled before start")
    if _has_active_wave(item):
        item["status"] = CANCELLING
    else:
        item.update(status=CANCELLED, endTime=now)


def request_pause(item: Item) -> None:
    _refuse_unless(item["status"] == POLLING, item, "pause")
    next_wave = item["currentWave"] + 1
    if next_wave >= item["totalWaves"]:
        raise RuleViolation(f"Execution {item['executionId']} has no later wave to pause before")
    item["pausedBeforeWave"] = next_wave


def wave_to_resume(item: Item) -> int:
    _refuse_unless(item["status"] == PAUSED, item, "resume")
    return item["pausedBeforeWave"]


def check_terminable(item: Item) -> None:
    _refuse_unless(is_final(item), item, "terminate instances")


# -- starting waves ---------------------------------------------------------------------------------------------------
def _skip_pending_after(item: Item, wave_number: int) -> None:
    for wave in item["waves"][wave_number + 1:]:
        if wave["status"] == PENDING:
            wave.update(status=CANCELLED, statusMessage=SKIPPED_AFTER_FAILURE)


def claim_wave(item: Item, wave_number: int, now: int) -> None:
    item["waves"][wave_number]["startTime"] = now


def _set_jobs(wave: Item, jobs: list[str]) -> None:
    wave.update(jobIds=list(jobs), jobId=jobs[0] if jobs else None)


def record_job(item: Item, wave_number: int, jobs: list[str]) -> None:
    """The wave's DRS jobs (one per chunk), started at its claim's startTime."""
    wave = item["waves"][wave_number]
    wave["status"] = STARTED
    _set_jobs(wave, jobs)
    item["currentWave"] = wave_number


def record_wave_started(item: Item, wave_number: int, jobs: list[str], now: int) -> None:
    item["waves"][wave_number]["startTime"] = item["waves"][wave_number]["startTime"] or now
    record_job(item, wave_number, jobs)
    item["status"] = POLLING


def record_wave_start_failure(item: Item, wave_number: int, reason: str, now: int, started: list[str]) -> None:
    """`reason` is "<Code>: <Message>" of the failed StartRecovery (or role assumption); `started` are the jobs of
    the chunks before the failing one, which stay recorded."""
    wave = item["waves"][wave_number]
    wave.update(status=FAILED, statusMessage=f"Failed to start recovery: {reason}", endTime=now,
                startTime=None)  # a wave that never started has no startTime, claimed or not
    _set_jobs(wave, started)
    item.update(status=FAILED, errorMessage=f"Wave {wave_number} failed to start: {reason}", endTime=now)
    _skip_pending_after(item, wave_number)


def pause_before(item: Item, wave_number: int) -> None:
    item.update(status=PAUSED, pausedBeforeWave=wave_number, currentWave=wave_number)


# -- polling ----------------------------------------------------------------------------------------------------------
def is_timed_out(item: Item, now: int, timeout_seconds: int) -> bool:
    return now - item["startTime"] >= timeout_seconds


def time_out(item: Item, now: int, timeout_seconds: int) -> None:
    for wave in item["waves"]:
        if wave["status"] not in FINAL_WAVE_STATUSES:
            wave.update(status=CANCELLED, statusMessage="Execution timed out", endTime=now)
    item.update(status=TIMEOUT, errorMessage=f"Execution exceeded {timeout_seconds} seconds", endTime=now)


def wave_outcome(job_status: str, launch_statuses: list[str]) -> tuple[str, str] | None:
    """(wave status, statusMessage) for a job and its servers' launchStatus; None keeps the wave as it is."""
    total = len(launch_statuses)
    launched = launch_statuses.count(LAUNCHED)
    failed = sum(1 for status in launch_statuses if status in FAILED_LAUNCH_STATUSES)
    if launched == total:
        return COMPLETED, f"All {total} servers launched"
    if failed:
        return FAILED, f"{failed} of {total} servers failed to launch"
    if job_status == COMPLETED:
        return FAILED, f"Job completed with {total - launched} of {total} servers not launched"
    if job_status == STARTED:
        return LAUNCHING, f"{launched} of {total} servers launched"
    if job_status == PENDING:
        return STARTED, "Waiting for DRS job to start"
    return None


def combined_job_status(statuses: list[str]) -> str:
    """The status of a wave's jobs taken together: COMPLETED when all are, PENDING when all are, else STARTED."""
    if all(status == COMPLETED for status in statuses):
        return COMPLETED
    return PENDING if all(status == PENDING for status in statuses) else STARTED


def apply_job(wave: Item, job_status: str, server_statuses: list[Item], now: int) -> None:
    """Update a wave from its DRS jobs' combined status and the enriched statuses of all their servers."""
    server_statuses = sorted(server_statuses, key=lambda server: server["sourceServerId"])
    wave["serverStatuses"] = server_statuses
    outcome = wave_outcome(job_status, [server["launchStatus"] for server in server_statuses])
    if outcome is None:
        return
    wave["status"], wave["statusMessage"] = outcome
    if wave["status"] in FINAL_WAVE_STATUSES:
        wave["endTime"] = now


def settle(item: Item, now: int, plan_pauses_before: Callable[[int], bool]) -> int | None:
    """Apply the execution rules after the waves were updated; returns the wave to start now, if any."""
    failed = next((wave for wave in item["waves"] if wave["status"] == FAILED), None)
    if failed is not None:
        _skip_pending_after(item, failed["waveNumber"])
        if not _has_active_wave(item):
            item.update(status=FAILED, errorMessage=f"Wave {failed['waveNumber']} failed: {failed['statusMessage']}",
                        endTime=now)
        return None
    if item["status"] == CANCELLING:
        if not _has_active_wave(item):
            item.update(status=CANCELLED, endTime=now)
        return None
    wave = current_wave(item)
    if wave is None or wave["status"] != COMPLETED:
        return None
    next_wave = item["currentWave"] + 1
    if next_wave >= item["totalWaves"]:
        item.update(status=COMPLETED, endTime=now)
        return None
    if item["pausedBeforeWave"] == next_wave or plan_pauses_before(next_wave):
        pause_before(item, next_wave)
        return None
    return next_wave


# -- cadence ----------------------------------------------------------------------------------------------------------
def poll_interval(item: Item) -> int:
    wave = current_wave(item)
    launching = wave is not None and wave["status"] == LAUNCHING
    return ACTIVE_POLL_INTERVAL if item["status"] == CANCELLING or launching else IDLE_POLL_INTERVAL


def seconds_since_poll(item: Item, now: int) -> int | None:
    last = item.get("lastPolledTime")
    return None if last is None else now - last


def is_due(item: Item, now: int) -> bool:
    since = seconds_since_poll(item, now)
    return since is None or since >= poll_interval(item) - POLL_JITTER
