"""The executions API: start, list, details, cancel, pause, resume, job logs, terminate instances, health."""

import copy
import time
import uuid
from typing import Any, Callable

from shared import config, lambda_gateway, state_machine
from shared.accounts import AccountContexts
from shared.api import Request, Response
from shared.catalogue import get_or_404
from shared.domain.lifecycle import CANCELLING, STARTED, Execution, by_account_and_region, mutable_fields, wave_jobs
from shared.domain.validation import optional_string, required_string
from shared.drs_gateway import DrsGateway
from shared.errors import ApiError
from shared.executions import ensure_plan_not_executing
from shared.repositories import ExecutionRepository, Item, protection_groups, recovery_plans
from shared.wave_starter import StartClaimLost, record_started_job, start_wave

import rules
from events import StartExecutionEvent

# A concurrent writer (the poller) may change the item between our read and write; re-decide a few times.
MAX_WRITE_ATTEMPTS = 3


def _now() -> int:
    return int(time.time())


def _find(execution_id: str, with_servers: bool = False) -> Execution:
    """The execution item, or the execution as read (with its server items) for views that show servers."""
    repository = ExecutionRepository()
    execution = repository.get(execution_id) if with_servers else repository.get_item(execution_id)
    if execution is None:
        raise ApiError(404, "EXECUTION_NOT_FOUND", f"Execution {execution_id} not found")
    return execution


# -- start ------------------------------------------------------------------------------------------------------
def start(request: Request) -> Response:
    body = request.body
    plan_id = required_string(body.get("planId"), "planId")
    kind = rules.execution_type(body.get("executionType"))
    initiated_by = optional_string(body.get("initiatedBy"), "initiatedBy", request.claims.get("email") or "unknown")
    plan = get_or_404(recovery_plans(), plan_id, "RECOVERY_PLAN_NOT_FOUND", "Recovery plan")
    ensure_plan_not_executing(plan_id)
    groups = _groups_of(plan)
    drs = DrsGateway(AccountContexts())
    # each distinct group resolved once (a tag group used by two waves is one DescribeSourceServers)
    distinct = {group["groupId"]: group for group in groups}
    servers = {group_id: _server_ids(group, drs) for group_id, group in distinct.items()}
    waves = [rules.new_wave(wave, group, servers[group["groupId"]]) for wave, group in zip(plan["waves"], groups)]
    execution = rules.new_execution(str(uuid.uuid4()), plan, kind, str(initiated_by), waves, _now())
    ExecutionRepository().create(execution)
    _start_waves(execution["executionId"], plan_id)
    return Response(202, {"executionId": execution["executionId"], "status": execution["status"]})


def _start_waves(execution_id: str, plan_id: str) -> None:
    """Wave 0 is started by the wave state machine where there is one, else by this function's start worker."""
    if config.state_machine_arn():
        state_machine.start(execution_id, plan_id)
        return
    lambda_gateway.invoke_async(config.own_function_name(), StartExecutionEvent(execution_id, plan_id).payload())


def _groups_of(plan: Item) -> list[Item]:
    """Each wave's protection group; 400 for the first wave whose group is gone."""
    repository = protection_groups()
    groups = []
    for wave in plan["waves"]:
        group = repository.get(wave["protectionGroupId"])
        if group is None:
            raise ApiError(400, "INVALID_PROTECTION_GROUP", f"Protection group {wave['protectionGroupId']} not found")
        groups.append(group)
    return groups


def _server_ids(group: Item, drs: DrsGateway) -> list[str]:
    if group.get("sourceServerIds") is not None:
        return sorted(group["sourceServerIds"])
    selection = group.get("serverSelectionTags") or {}
    servers = drs.all_source_servers(group.get("accountId"), group.get("region"))
    selected = [server["sourceServerID"] for server in servers
                if rules.matches_selection(server.get("tags") or {}, selection)]
    rules.ensure_wave_size(group["groupId"], len(selected))
    return sorted(selected)


# -- reading ----------------------------------------------------------------------------------------------------
def list_all(request: Request) -> Response:
    limit = rules.page_size(request.query.get("limit"))
    page, next_token = rules.page_of(ExecutionRepository().list_all(), limit, request.query.get("nextToken"))
    return Response(200, {"executions": [rules.summary(item) for item in page], "count": len(page),
                          "nextToken": next_token})


def get(request: Request) -> Response:
    return Response(200, rules.with_derived_fields(_find(request.path_params["id"], with_servers=True), _now()))


# -- changes ----------------------------------------------------------------------------------------------------
def _change(execution_id: str, apply: Callable[[Execution, str], dict[str, Any]]) -> Response:
    """Read, apply a rule, write under the status and version that were read; re-decide when a concurrent write won
    (a wave the lost attempt started in DRS is still recorded)."""
    repository = ExecutionRepository()
    for _ in range(MAX_WRITE_ATTEMPTS):
        stored = _find(execution_id)
        execution = copy.deepcopy(stored)
        try:
            body = apply(execution, stored["status"])
        except StartClaimLost:
            continue
        if repository.update_if_status(execution, mutable_fields(execution), [stored["status"]]):
            _tell_state_machine(execution, stored["status"])
            return Response(200, body)
        _record_started_wave(repository, stored, execution)
    raise ApiError(409, "INVALID_STATE", f"Execution {execution_id} changed during the request")


def _record_started_wave(repository: ExecutionRepository, stored: Execution, decided: Execution) -> None:
    """The job of a wave this attempt started (no job when read, one now), written alone after the lost race."""
    for number, (before, after) in enumerate(zip(stored["waves"], decided["waves"])):
        if after.get("status") == STARTED and wave_jobs(after) and not wave_jobs(before):
            record_started_job(repository, stored["executionId"], number, wave_jobs(after))


def _tell_state_machine(execution: Execution, previous_status: str) -> None:
    """A cancel or resume ends the wave the state machine waits on (a cancel in progress ends with the poller's)."""
    if state_machine.runs_waves() and execution["status"] not in (previous_status, CANCELLING):
        state_machine.hand_back(execution)


def cancel(request: Request) -> Response:
    def apply(execution: Execution, _: str) -> dict[str, Any]:
        rules.cancel(execution, _now())
        return {"executionId": execution["executionId"], "status": execution["status"]}

    return _change(request.path_params["id"], apply)


def pause(request: Request) -> Response:
    def apply(execution: Execution, _: str) -> dict[str, Any]:
        rules.pause(execution)
        return {"executionId": execution["executionId"], "status": execution["status"],
                "pausedBeforeWave": execution["pausedBeforeWave"]}

    return _change(request.path_params["id"], apply)


def resume(request: Request) -> Response:
    def apply(execution: Execution, status_read: str) -> dict[str, Any]:
        wave_number = rules.take_wave_to_resume(execution)
        start_wave(execution, wave_number, DrsGateway(AccountContexts()), _now(), ExecutionRepository(), [status_read])
        return {"executionId": execution["executionId"], "status": execution["status"],
                "currentWave": execution["currentWave"]}

    return _change(request.path_params["id"], apply)


# -- DRS views and actions --------------------------------------------------------------------------------------
def job_logs(request: Request) -> Response:
    execution = _find(request.path_params["id"])
    drs = DrsGateway(AccountContexts())
    logs = [
        {"waveNumber": wave["waveNumber"], "jobId": job_id,
         "events": [_log_event(item) for item in drs.job_log_items(wave["accountId"], wave["region"], job_id)]}
        for wave in execution["waves"]
        for job_id in wave_jobs(wave)
    ]
    return Response(200, {"executionId": execution["executionId"], "jobLogs": logs})


def _log_event(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": item.get("event"),
        "eventDateTime": item.get("logDateTime"),
        "sourceServerId": (item.get("eventData") or {}).get("sourceServerID"),
    }


def terminate_instances(request: Request) -> Response:
    execution = _find(request.path_params["id"], with_servers=True)
    rules.ensure_final_for_termination(execution)
    # grouped in the order of the first wave holding an instance in each (account, region); within a group in server
    # order (wave, then sourceServerId), so a chunk of 200 holds the same servers whatever ids EC2 drew
    with_instances = [wave for wave in execution["waves"] if _instance_ids(wave)]
    groups = {
        key: [instance for wave in waves for instance in _instance_ids(wave)]
        for key, waves in by_account_and_region(with_instances).items()
    }
    if not groups:
        raise ApiError(409, "NO_INSTANCES", f"Execution {execution['executionId']} has no recovery instances")
    drs = DrsGateway(AccountContexts())
    job_ids = [job for (account, region), ids in groups.items()
               for job in drs.terminate_recovery_instances(account, region, ids)]
    terminated = sorted(instance for ids in groups.values() for instance in ids)
    return Response(200, {"executionId": execution["executionId"], "terminatedInstanceIds": terminated,
                          "jobIds": job_ids})


def _instance_ids(wave: dict[str, Any]) -> list[str]:
    return [server["instanceId"] for server in wave.get("serverStatuses", []) if server.get("instanceId")]


def health(_: Request) -> Response:
    return Response(200, {"status": "healthy"})
