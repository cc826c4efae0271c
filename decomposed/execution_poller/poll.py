"""One poll of one execution: DRS jobs, enrichment, wave and execution rules, one conditional write."""

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shared import config, log, state_machine
from shared.accounts import AccountContexts
from shared.domain import storage
from shared.domain.lifecycle import (
    POLL_WRITE_FIELDS,
    POLLED_EXECUTION_STATUSES,
    Execution,
    by_account_and_region,
    is_active_wave,
    mutable_fields,
    wave_jobs,
)
from shared.drs_gateway import DrsGateway
from shared.ec2_gateway import Ec2Gateway
from shared.errors import AwsCallError
from shared.executions import plan_pauses_before_wave
from shared.repositories import ExecutionRepository, ServerItemsNotWritten
from shared.wave_starter import StartClaimLost, record_started_job, start_wave

import enrichment
import rules

Record = dict[str, Any]
AccountRegion = tuple[str | None, str | None]


@dataclass
class _GroupFacts:
    """What DRS and EC2 said about one (account, region) group of active waves."""

    jobs: list[Record]
    source_servers: dict[str, Record] = field(default_factory=dict)
    instances: dict[str, Record] = field(default_factory=dict)


class Poller:
    def __init__(self) -> None:
        self._repository = ExecutionRepository()
        accounts = AccountContexts()
        self._drs = DrsGateway(accounts)
        self._ec2 = Ec2Gateway(accounts)
        self._handed_over: int | None = None  # the next wave, left for the state machine to start (if it runs them)
        self._servers_read: dict[storage.WaveServer, Record] = {}  # what the server items held when read
        self._started: tuple[int, list[str]] | None = None  # (wave, jobs) this poll started in DRS

    def poll(self, execution_id: str) -> None:
        log.info(f"Polling execution: {execution_id}", execution_id)
        execution = self._repository.get(execution_id)
        if execution is None:
            log.info(f"Execution {execution_id} not found", execution_id)
            return
        if execution["status"] not in POLLED_EXECUTION_STATUSES:
            log.info(f"Execution {execution_id} is {execution['status']}; nothing to poll", execution_id)
            return
        now = int(time.time())
        previous_status = execution["status"]
        self._servers_read = storage.statuses_by_wave_server(execution)
        if rules.time_out_if_due(execution, config.execution_timeout_seconds(), now):
            if self._write(execution, previous_status, now):
                log.info(f"Execution {execution_id} timed out", execution_id)
                self._tell_state_machine(execution)
            return
        try:
            facts = self._gather(execution)
        except AwsCallError as exc:
            log.error(f"Error querying DRS: {exc.text}", execution_id)
            self._write_poll_time(execution, now)
            return
        try:
            self._apply(execution, facts, now)
        except StartClaimLost:  # another writer (a second poll at this boundary, a pause) changed it first
            log.info(f"Execution {execution_id} changed during poll; update skipped", execution_id)
            return
        if self._write(execution, previous_status, now):
            self._tell_state_machine(execution)
        elif self._started is not None:
            record_started_job(self._repository, execution_id, *self._started)

    def _active_groups(self, execution: Execution) -> dict[AccountRegion, list[Record]]:
        active = [wave for wave in execution["waves"] if is_active_wave(wave) and wave["jobId"]]
        return by_account_and_region(active)

    def _gather(self, execution: Execution) -> dict[AccountRegion, _GroupFacts]:
        """All DescribeJobs first (one per group), then enrichment per group. Raises AwsCallError from DRS."""
        facts = {
            (account, region): _GroupFacts(
                self._drs.describe_jobs(account, region, [job for wave in waves for job in wave_jobs(wave)]))
            for (account, region), waves in self._active_groups(execution).items()
        }
        for (account, region), group in facts.items():
            servers = self._drs.describe_source_servers(
                account, region, enrichment.participating_server_ids(group.jobs)
            )
            group.source_servers = {server["sourceServerID"]: server for server in servers}
            group.instances = self._instances(execution, account, region, group.jobs)
        return facts

    def _instances(self, execution: Execution, account: str | None, region: str | None,
                   jobs: list[Record]) -> dict[str, Record]:
        try:
            return self._ec2.instances_by_id(account, region, enrichment.recovery_instance_ids(jobs))
        except AwsCallError as exc:
            log.error(f"Error describing EC2 instances: {exc.text}", execution["executionId"])
            return {}

    def _apply(self, execution: Execution, facts: dict[AccountRegion, _GroupFacts], now: int) -> None:
        for key, waves in self._active_groups(execution).items():
            group = facts[key]
            jobs = {job["jobID"]: job for job in group.jobs}
            for wave in waves:
                found = [jobs[job_id] for job_id in wave_jobs(wave) if job_id in jobs]
                if len(found) == len(wave_jobs(wave)):  # a wave with a job DRS did not return keeps its state
                    statuses = enrichment.server_statuses(found, group.source_servers, group.instances)
                    rules.apply_jobs(wave, found, statuses, now)
        next_wave = rules.next_step(execution, lambda wave: plan_pauses_before_wave(execution["planId"], wave), now)
        if next_wave is not None and state_machine.runs_waves():
            self._handed_over = next_wave
        elif next_wave is not None:
            job_ids = start_wave(execution, next_wave, self._drs, now, self._repository, POLLED_EXECUTION_STATUSES)
            self._started = (next_wave, job_ids) if job_ids is not None else None

    def _tell_state_machine(self, execution: Execution) -> None:
        """The wave the state machine waits on is over: the next one is due, or the execution paused or ended."""
        if state_machine.runs_waves() and (
                self._handed_over is not None or execution["status"] not in POLLED_EXECUTION_STATUSES):
            state_machine.hand_back(execution, self._handed_over)

    def _write_poll_time(self, execution: Execution, now: int) -> None:
        """Only lastPolledTime, under the poll's condition; a failed condition is not logged."""
        try:
            self._repository.update_if_status(execution, {"lastPolledTime": now}, POLLED_EXECUTION_STATUSES)
        except ClientError as exc:
            log.error(f"Error updating execution waves: {AwsCallError.from_client_error(exc).text}",
                      execution["executionId"])

    def _write(self, execution: Execution, previous_status: str, now: int) -> bool:
        """The servers that changed first, then the execution item under the poll's condition."""
        execution_id = execution["executionId"]
        execution["lastPolledTime"] = now
        fields = mutable_fields(execution, POLL_WRITE_FIELDS)
        try:
            self._repository.put_changed_servers(execution, self._servers_read)
            written = self._repository.update_if_status(execution, fields, POLLED_EXECUTION_STATUSES)
        except ClientError as exc:
            log.error(f"Error updating execution waves: {AwsCallError.from_client_error(exc).text}", execution_id)
            return False
        except ServerItemsNotWritten as exc:
            log.error(f"Error updating execution waves: {exc}", execution_id)
            return False
        if not written:
            log.info(f"Execution {execution_id} changed during poll; update skipped", execution_id)
            return False
        log.info(f"Updated {len(execution['waves'])} waves for execution {execution_id}", execution_id)
        if execution["status"] != previous_status:
            log.info(f"Execution {execution_id} status {previous_status} -> {execution['status']}", execution_id)
        return True

