"""Execution rules of the API (pure): new items, cancel, pause, resume, derived fields, listing pages."""

import re
from typing import Any

from shared.domain.lifecycle import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    INITIATED,
    PAUSED,
    PENDING,
    POLLING,
    Execution,
    InvalidTransition,
    is_active_wave,
    is_being_started,
    is_final_execution,
)
from shared.errors import ApiError, ValidationError

EXECUTION_TYPES = ("DRILL", "RECOVERY")
# 20 waves of at most 500 server ids keep the execution item near 210 KB (DynamoDB's limit: 400 KB); a wave of more
# than 200 servers is started as several DRS jobs.
MAX_SERVERS_PER_WAVE = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CANCELLED_BEFORE_START = "Cancelled before start"
SUMMARY_FIELDS = ("executionId", "planId", "planName", "executionType", "status", "initiatedBy", "startTime",
                  "endTime", "totalWaves", "currentWave")


def execution_type(value: Any) -> str:
    if value is None:
        raise ValidationError("executionType is required")
    if value not in EXECUTION_TYPES:
        raise ValidationError("executionType must be one of DRILL, RECOVERY")
    return str(value)


def new_wave(plan_wave: dict[str, Any], group: dict[str, Any], server_ids: list[str]) -> dict[str, Any]:
    return {
        "waveNumber": plan_wave["waveNumber"],
        "waveName": plan_wave["waveName"],
        "status": PENDING,
        "jobId": None,
        "jobIds": [],
        "region": group.get("region"),
        "accountId": group.get("accountId"),
        "startTime": None,
        "endTime": None,
        "serverIds": sorted(server_ids),
        "statusMessage": None,
        "serverStatuses": [],
    }


def new_execution(execution_id: str, plan: dict[str, Any], kind: str, initiated_by: str,
                  waves: list[dict[str, Any]], now: int) -> Execution:
    return {
        "executionId": execution_id,
        "planId": plan["planId"],
        "planName": plan["planName"],
        "executionType": kind,
        "status": INITIATED,
        "initiatedBy": initiated_by,
        "startTime": now,
        "endTime": None,
        "totalWaves": len(waves),
        "currentWave": 0,
        "lastPolledTime": None,
        "pausedBeforeWave": None,
        "errorMessage": None,
        "waves": waves,
        "version": 1,
    }


def matches_selection(tags: dict[str, str], selection: dict[str, str]) -> bool:
    return all(tags.get(key) == value for key, value in selection.items())


def ensure_wave_size(group_id: str, server_count: int) -> None:
    """400 when a tag group selects more servers than a wave takes."""
    if server_count > MAX_SERVERS_PER_WAVE:
        raise ApiError(400, "INVALID_PROTECTION_GROUP", f"Protection group {group_id} selects {server_count} "
                       f"source servers; a wave takes at most {MAX_SERVERS_PER_WAVE}")


def _refuse(execution: Execution, action: str) -> InvalidTransition:
    return InvalidTransition(f"Execution {execution['executionId']} is {execution['status']}; cannot {action}")


def cancel(execution: Execution, now: int) -> None:
    if is_final_execution(execution):
        raise _refuse(execution, "cancel")
    for wave in execution["waves"]:
        if wave["status"] == PENDING and not is_being_started(wave):
            wave.update(status=CANCELLED, statusMessage=CANCELLED_BEFORE_START)
    if any(is_active_wave(wave) for wave in execution["waves"]):
        execution["status"] = CANCELLING
    else:
        execution.update(status=CANCELLED, endTime=now)


def pause(execution: Execution) -> None:
    if execution["status"] != POLLING:
        raise _refuse(execution, "pause")
    next_wave = execution["currentWave"] + 1
    if next_wave >= execution["totalWaves"]:
        raise InvalidTransition(f"Execution {execution['executionId']} has no later wave to pause before")
    execution["pausedBeforeWave"] = next_wave


def take_wave_to_resume(execution: Execution) -> int:
    if execution["status"] != PAUSED:
        raise _refuse(execution, "resume")
    wave_number = int(execution["pausedBeforeWave"])
    execution["pausedBeforeWave"] = None
    return wave_number


def ensure_final_for_termination(execution: Execution) -> None:
    if not is_final_execution(execution):
        raise _refuse(execution, "terminate instances")


def with_derived_fields(execution: Execution, now: int) -> Execution:
    """What GET /executions/{id} shows: the execution without its write counter, plus derived fields."""
    end = execution.get("endTime")
    shown = {name: value for name, value in execution.items() if name != "version"}
    return {
        **shown,
        "isFinal": is_final_execution(execution),
        "completedWaves": sum(1 for wave in execution.get("waves", []) if wave.get("status") == COMPLETED),
        "durationSeconds": (end if end is not None else now) - execution["startTime"],
    }


def summary(execution: Execution) -> dict[str, Any]:
    return {name: execution.get(name) for name in SUMMARY_FIELDS}


def page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ValidationError("limit must be an integer between 1 and 100")
    return int(value)


def page_of(executions: list[Execution], limit: int, next_token: str | None) -> tuple[list[Execution], str | None]:
    """Newest first (startTime desc, executionId asc); the page after `next_token`, and the token of the next."""
    ordered = sorted(executions, key=lambda item: (-(item.get("startTime") or 0), item["executionId"]))
    start = 0
    if next_token is not None:
        ids = [item["executionId"] for item in ordered]
        if next_token not in ids:
            raise ValidationError("nextToken is invalid")
        start = ids.index(next_token) + 1
    page = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return page, (page[-1]["executionId"] if more and page else None)
