"""The executions API: start (async worker), list, details from the cached item, cancel/pause/resume, DRS views."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Mapping

import domain
import validation
from aws import AwsError
from catalog import RecoveryPlanCatalog, ensure_plan_idle
from errors import ApiError, drs_error, invalid_state, missing_protection_group, too_many_servers, validation_error
from recovery import record_start_alone, start_wave
from repositories import ConditionFailed
from services import Services, now, own_function_name

Item = dict[str, Any]
Result = tuple[int, Any]

START_WORKER = "start-execution"
MAX_WRITE_ATTEMPTS = 3  # cancel/pause/resume against a concurrent writer (the poller)


def require_execution(services: Services, execution_id: str, with_servers: bool = False) -> Item:
    """The execution item, or with its server statuses (the execution as read); 404 when there is none."""
    executions = services.executions
    item = executions.read(execution_id) if with_servers else executions.find(execution_id)
    if item is None:
        raise ApiError(404, "EXECUTION_NOT_FOUND", f"Execution {execution_id} not found")
    return item


# -- start ------------------------------------------------------------------------------------------------------------
def _groups_of(services: Services, plan: Item) -> dict[str, Item]:
    groups: dict[str, Item] = {}
    for group_id in dict.fromkeys(wave["protectionGroupId"] for wave in plan["waves"]):
        group = services.groups.get(group_id)
        if group is None:
            raise missing_protection_group(group_id)
        groups[group_id] = group
    return groups


def _server_ids(services: Services, group: Item) -> list[str]:
    """A group's servers: its listed ids, or the DRS servers carrying every selection tag (resolved now)."""
    if group.get("sourceServerIds"):
        return list(group["sourceServerIds"])
    try:
        servers = services.drs.list_source_servers(group["accountId"], group["region"])
    except AwsError as error:
        raise drs_error(error.code, error.message) from None
    matching = domain.servers_matching_tags(servers, group.get("serverSelectionTags") or {})
    if len(matching) > domain.MAX_WAVE_SERVERS:
        raise too_many_servers(group["groupId"], len(matching), domain.MAX_WAVE_SERVERS)
    return matching


def start_execution(services: Services, body: Mapping[str, Any], claimed_email: str | None) -> Result:
    plan_id, execution_type, initiated_by = validation.validate_execution_start(body, claimed_email)
    plan = RecoveryPlanCatalog(services).require(plan_id)
    ensure_plan_idle(services, plan_id)
    groups = _groups_of(services, plan)
    servers = {group_id: _server_ids(services, group) for group_id, group in groups.items()}
    waves = [domain.new_wave(wave, groups[wave["protectionGroupId"]], servers[wave["protectionGroupId"]])
             for wave in plan["waves"]]
    item = domain.new_execution(str(uuid.uuid4()), plan, waves, execution_type, initiated_by, now())
    services.executions.put_new(item)
    try:
        services.invoker.invoke_async(
            own_function_name(), {"worker": START_WORKER, "executionId": item["executionId"], "planId": plan_id})
    except AwsError as error:  # the item stays INITIATED (it can be cancelled)
        raise drs_error(error.code, error.message) from None
    return 202, {"executionId": item["executionId"], "status": item["status"]}


# -- reads ------------------------------------------------------------------------------------------------------------
def list_executions(services: Services, query: Mapping[str, str]) -> Result:
    limit, token = validation.page_request(query)
    items = sorted(services.executions.executions(), key=lambda item: (-item["startTime"], item["executionId"]))
    start = 0
    if token is not None:
        ids = [item["executionId"] for item in items]
        if token not in ids:
            raise validation_error("nextToken is invalid")
        start = ids.index(token) + 1
    page = items[start:start + limit]
    more = start + limit < len(items)
    return 200, {"executions": [domain.execution_summary(item) for item in page], "count": len(page),
                 "nextToken": page[-1]["executionId"] if more and page else None}


def get_execution(services: Services, execution_id: str) -> Result:
    return 200, domain.execution_view(require_execution(services, execution_id, with_servers=True), now())


def job_logs(services: Services, execution_id: str) -> Result:
    item = require_execution(services, execution_id)
    logs = []
    for wave in item["waves"]:
        for job_id in domain.job_ids(wave):
            try:
                events = services.drs.describe_job_log_items(wave["accountId"], wave["region"], job_id)
            except AwsError as error:
                raise drs_error(error.code, error.message) from None
            logs.append({"waveNumber": wave["waveNumber"], "jobId": job_id, "events": [
                {"event": event.get("event"), "eventDateTime": event.get("logDateTime"),
                 "sourceServerId": (event.get("eventData") or {}).get("sourceServerID")} for event in events]})
    return 200, {"executionId": execution_id, "jobLogs": logs}


# -- state changes ----------------------------------------------------------------------------------------------------
def _change(services: Services, execution_id: str, change: Callable[[Item], None], fields: tuple[str, ...],
            after_lost_race: Callable[[], None] = lambda: None) -> Item:
    """Apply a user action and write it only if the status and version are still the ones read; a lost race
    (`after_lost_race` called) re-reads and re-decides, up to MAX_WRITE_ATTEMPTS times."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        item = require_execution(services, execution_id)
        previous_status = item["status"]
        try:
            change(item)
            services.executions.update(item, fields, (previous_status,))
        except domain.RuleViolation as violation:
            raise invalid_state(str(violation)) from None
        except ConditionFailed:  # lost to a concurrent writer, at the wave's claim or at the write
            after_lost_race()
            continue
        return item
    raise invalid_state(f"Execution {execution_id} changed during the request")


def cancel_execution(services: Services, execution_id: str) -> Result:
    item = _change(services, execution_id, lambda item: domain.cancel(item, now()),
                   ("waves", "status", "endTime"))
    return 200, {"executionId": execution_id, "status": item["status"]}


def pause_execution(services: Services, execution_id: str) -> Result:
    item = _change(services, execution_id, domain.request_pause, ("pausedBeforeWave",))
    return 200, {"executionId": execution_id, "status": item["status"], "pausedBeforeWave": item["pausedBeforeWave"]}


def resume_execution(services: Services, execution_id: str) -> Result:
    started: dict[int, list[str]] = {}  # wave -> jobs, of the attempt under way

    def resume(item: Item) -> None:
        started.clear()
        wave_number = domain.wave_to_resume(item)
        item["pausedBeforeWave"] = None
        jobs = start_wave(services, item, wave_number, now(), (domain.PAUSED,))
        if jobs is not None:
            started[wave_number] = jobs

    def record_started() -> None:
        for wave_number, jobs in started.items():
            record_start_alone(services, execution_id, wave_number, jobs)

    item = _change(services, execution_id, resume,
                   ("waves", "status", "currentWave", "pausedBeforeWave", "endTime", "errorMessage"), record_started)
    return 200, {"executionId": execution_id, "status": item["status"], "currentWave": item["currentWave"]}


def terminate_instances(services: Services, execution_id: str) -> Result:
    item = require_execution(services, execution_id, with_servers=True)
    try:
        domain.check_terminable(item)
    except domain.RuleViolation as violation:
        raise invalid_state(str(violation)) from None
    locations = domain.instance_ids_by_location(item)
    if not locations:
        raise ApiError(409, "NO_INSTANCES", f"Execution {execution_id} has no recovery instances")
    job_ids = []
    for (account_id, region), instance_ids in locations.items():
        try:
            job_ids.extend(services.drs.terminate_recovery_instances(account_id, region, instance_ids))
        except AwsError as error:
            raise drs_error(error.code, error.message) from None
    terminated = sorted(instance for ids in locations.values() for instance in ids)
    return 200, {"executionId": execution_id, "terminatedInstanceIds": terminated, "jobIds": job_ids}
