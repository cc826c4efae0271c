"""The polling chain, inline: start worker, finder with its cadence, and the poll of one execution."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from botocore.exceptions import ClientError

import domain
import logs
import server_items
from aws import AwsError
from recovery import plan_pauses_before, record_start_alone, start_wave
from repositories import ConditionFailed, ServerItemsNotWritten
from services import Services, execution_timeout_seconds, now

Item = dict[str, Any]
Location = tuple[str, str]  # (accountId, region)

START_FIELDS = ("waves", "status", "currentWave", "pausedBeforeWave", "endTime", "errorMessage")
POLL_FIELDS = ("waves", "status", "currentWave", "lastPolledTime", "endTime", "errorMessage", "pausedBeforeWave")


# -- start worker ---------------------------------------------------------------------------------------------------
def run_start_worker(services: Services, execution_id: str) -> None:
    item = services.executions.find(execution_id)
    if item is None:
        logs.info(f"Execution {execution_id} not found", execution_id)
        return
    if item["status"] != domain.INITIATED:
        logs.info(f"Execution {execution_id} is {item['status']}; start skipped", execution_id)
        return
    jobs = None
    try:
        if plan_pauses_before(services, item["planId"])(0):
            domain.pause_before(item, 0)
        else:
            jobs = start_wave(services, item, 0, now(), (domain.INITIATED,))
        services.executions.update(item, START_FIELDS, (domain.INITIATED,))
    except ConditionFailed:  # e.g. the event delivered twice: the other delivery claimed wave 0
        if jobs is not None:
            record_start_alone(services, execution_id, 0, jobs)
        logs.debug(f"Execution {execution_id} changed before its start was recorded", execution_id)


# -- finder ---------------------------------------------------------------------------------------------------------
def _by_start(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (item["startTime"], item["executionId"]))


def find_executions(services: Services) -> None:
    polling = _by_start(services.executions.with_status(domain.POLLING))
    cancelling = _by_start(services.executions.with_status(domain.CANCELLING))
    logs.info(f"Found {len(polling)} executions in POLLING status")
    if cancelling:
        logs.info(f"Found {len(cancelling)} executions in CANCELLING status")
    moment = now()
    for item in polling + cancelling:
        execution_id = item["executionId"]
        if not domain.is_due(item, moment):
            logs.info(f"Skipping execution {execution_id}: polled {domain.seconds_since_poll(item, moment)}s ago, "
                      f"interval {domain.poll_interval(item)}s", execution_id)
            continue
        logs.info(f"Invoking poller for execution {execution_id}", execution_id)
        poll_execution(services, execution_id)


# -- poll -----------------------------------------------------------------------------------------------------------
def poll_execution(services: Services, execution_id: str) -> None:
    logs.info(f"Polling execution: {execution_id}", execution_id)
    item = services.executions.read(execution_id)
    if item is None:
        logs.info(f"Execution {execution_id} not found", execution_id)
        return
    if item["status"] not in domain.POLLED_EXECUTION_STATUSES:
        logs.info(f"Execution {execution_id} is {item['status']}; nothing to poll", execution_id)
        return
    previous_status = item["status"]
    servers_read = server_items.server_statuses(item)
    moment = now()
    item["lastPolledTime"] = moment
    timeout = execution_timeout_seconds()
    if domain.is_timed_out(item, moment, timeout):
        domain.time_out(item, moment, timeout)
        if _save(services, item, previous_status, servers_read):
            logs.info(f"Execution {execution_id} timed out", execution_id)
        return
    try:
        _refresh_active_waves(services, item, moment)
    except AwsError as error:
        logs.error(f"Error querying DRS: {error.reason}", execution_id)
        _save(services, item, previous_status, servers_read, fields=("lastPolledTime",))
        return
    next_wave = domain.settle(item, moment, plan_pauses_before(services, item["planId"]))
    jobs = None
    if next_wave is not None:
        try:
            jobs = start_wave(services, item, next_wave, moment, domain.POLLED_EXECUTION_STATUSES)
        except ConditionFailed:  # another writer (a second poll at the same boundary, a pause) came first
            logs.info(f"Execution {execution_id} changed during poll; update skipped", execution_id)
            return
    if not _save(services, item, previous_status, servers_read) and jobs is not None:
        record_start_alone(services, execution_id, next_wave, jobs)


def _save(services: Services, item: Item, previous_status: str, servers_read: dict[server_items.ServerKey, Item],
          fields: tuple[str, ...] = POLL_FIELDS) -> bool:
    """The poll's writes, servers that changed since `servers_read` first, then the conditional write of the
    execution item, and their log lines; True when written. A full write announces itself (or its lost race); a
    lastPolledTime-only write logs nothing but an error other than the failed condition."""
    execution_id = item["executionId"]
    full_write = fields == POLL_FIELDS
    try:
        if full_write:  # a lastPolledTime-only write (after a DRS error) records no server either
            services.executions.put_servers(item, servers_read)
        services.executions.update(item, fields, domain.POLLED_EXECUTION_STATUSES)
    except ConditionFailed:
        if full_write:
            logs.info(f"Execution {execution_id} changed during poll; update skipped", execution_id)
        return False
    except ClientError as error:
        details = error.response.get("Error", {})
        logs.error(f"Error updating execution waves: {details.get('Code')}: {details.get('Message')}", execution_id)
        return False
    except ServerItemsNotWritten as error:
        logs.error(f"Error updating execution waves: {error.reason}", execution_id)
        return False
    if full_write:
        logs.info(f"Updated {len(item['waves'])} waves for execution {execution_id}", execution_id)
        if item["status"] != previous_status:
            logs.info(f"Execution {execution_id} status {previous_status} -> {item['status']}", execution_id)
    return True


def _active_waves_by_location(item: Item) -> dict[Location, list[Item]]:
    groups: dict[Location, list[Item]] = {}
    for wave in domain.active_waves(item):
        groups.setdefault((wave["accountId"], wave["region"]), []).append(wave)
    return groups


def _refresh_active_waves(services: Services, item: Item, moment: int) -> None:
    """DescribeJobs once per (account, region) for all its active waves' jobs, then enrich each group's servers in
    bulk and apply the wave rules over each wave's jobs taken together."""
    groups = _active_waves_by_location(item)
    jobs = {location: services.drs.describe_jobs(*location, [job for wave in waves for job in domain.job_ids(wave)])
            for location, waves in groups.items()}
    for location, waves in groups.items():
        statuses = _server_statuses(services, location, jobs[location], item["executionId"])
        jobs_by_id = {job["jobID"]: job for job in jobs[location]}
        for wave in waves:
            wave_jobs = [jobs_by_id.get(job_id) for job_id in domain.job_ids(wave)]
            if None in wave_jobs:
                continue  # a wave with a job DRS did not return keeps its state
            servers = [statuses[server["sourceServerID"]]
                       for job in wave_jobs for server in job.get("participatingServers", [])]
            domain.apply_job(wave, domain.combined_job_status([job["status"] for job in wave_jobs]), servers, moment)


def _server_statuses(services: Services, location: Location, jobs: list[Item], execution_id: str) -> dict[str, Item]:
    """Each participating server's status, enriched with its DRS name and its recovery instance's EC2 facts."""
    participants = {server["sourceServerID"]: server for job in jobs for server in job.get("participatingServers", [])}
    if not participants:
        return {}
    sources = {server["sourceServerID"]: server
               for server in services.drs.describe_source_servers(*location, sorted(participants))}
    instances = _instances(services, location, participants.values(), execution_id)
    return {server_id: _server_status(participant, sources.get(server_id),
                                      instances.get(participant.get("recoveryInstanceID") or ""))
            for server_id, participant in participants.items()}


def _instances(services: Services, location: Location, participants: Iterable[Item], execution_id: str) -> dict[str, Item]:
    instance_ids = sorted({server["recoveryInstanceID"] for server in participants if server.get("recoveryInstanceID")})
    if not instance_ids:
        return {}
    try:
        found = services.ec2.describe_instances(*location, instance_ids)
    except AwsError as error:
        logs.error(f"Error describing EC2 instances: {error.reason}", execution_id)
        return {}
    return {instance["InstanceId"]: instance for instance in found}


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _server_status(participant: Item, source: Item | None, instance: Item | None) -> Item:
    hints = ((source or {}).get("sourceProperties") or {}).get("identificationHints") or {}
    source_hostname = hints.get("hostname")
    return {
        "sourceServerId": participant["sourceServerID"],
        "serverName": ((source or {}).get("tags") or {}).get("Name") or source_hostname,
        "hostname": instance.get("PrivateDnsName") if instance is not None else source_hostname,
        "launchStatus": participant.get("launchStatus"),
        "launchTime": _epoch(instance.get("LaunchTime")) if instance is not None else None,
        "instanceId": participant.get("recoveryInstanceID"),
        "privateIp": instance.get("PrivateIpAddress") if instance is not None else None,
        "instanceType": instance.get("InstanceType") if instance is not None else None,
    }
