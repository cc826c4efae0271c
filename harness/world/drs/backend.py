"""DrsBackend: all DRS state of every account and region, jobs advanced on scripted virtual-time timelines."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import threading
from dataclasses import dataclass
from typing import Any, Callable

from .models import (DEFAULT_ACCOUNT_ID, DEFAULT_JOB_END_SECONDS, DEFAULT_JOB_START_SECONDS, DEFAULT_LAUNCH,
                     DEFAULT_REGION, LAUNCH_OUTCOMES, Clock, DrsError, Fault, Job, Participant, RecoveryInstance,
                     RecoveryInstanceLauncher, RequestContext, SourceServer, fault_error, paginate, parse_faults,
                     parse_iso)
from .validation import drs_service_model, validate


@dataclass
class DrsSettings:
    job_start_seconds: float = DEFAULT_JOB_START_SECONDS
    job_end_seconds: float = DEFAULT_JOB_END_SECONDS

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> "DrsSettings":
        config = config or {}
        return cls(float(config.get("jobStartSeconds", DEFAULT_JOB_START_SECONDS)),
                   float(config.get("jobEndSeconds", DEFAULT_JOB_END_SECONDS)))


class DrsBackend:
    """All DRS state of every (account, region); jobs advance lazily to the clock's now() in `settle()`."""

    def __init__(self, clock: Clock, launcher: RecoveryInstanceLauncher) -> None:
        self.clock = clock
        self.launcher = launcher
        self.lock = threading.RLock()
        self.settings = DrsSettings()
        self.servers: dict[tuple[RequestContext, str], SourceServer] = {}
        self.jobs: dict[tuple[RequestContext, str], Job] = {}
        self.instances: dict[tuple[RequestContext, str], RecoveryInstance] = {}
        self.faults: list[Fault] = []
        self._timeline: list[tuple[float, int, Callable[[float], None]]] = []
        self._sequence = itertools.count()
        self._job_numbers = itertools.count(1)
        self._timers: list[Any] = []

    # -- loading ----------------------------------------------------------------------------------------------------
    def load(self, drs_config: dict[str, Any] | None, source_servers: list[dict[str, Any]] | None,
             faults: list[dict[str, Any]] | None) -> None:
        with self.lock:
            self.settings = DrsSettings.from_config(drs_config)
            for index, raw in enumerate(source_servers or []):
                server = self._server_from_scenario(raw, f"sourceServers[{index}]")
                self.servers[(server.context, server.server_id)] = server
            self.faults.extend(parse_faults(faults or [], self.clock.start))

    def _server_from_scenario(self, raw: dict[str, Any], where: str) -> SourceServer:
        server_id = raw.get("sourceServerId", "")
        if validate_member("SourceServer", "sourceServerID", server_id):
            raise ValueError(f"{where}.sourceServerId: {server_id!r} is not s- followed by 17 hex characters")
        launch = {**DEFAULT_LAUNCH, **(raw.get("launch") or {})}
        if launch["status"] not in LAUNCH_OUTCOMES:
            raise ValueError(f"{where}.launch.status: {launch['status']!r} is not one of {', '.join(LAUNCH_OUTCOMES)}")
        context = RequestContext(str(raw.get("accountId", DEFAULT_ACCOUNT_ID)), raw.get("region", DEFAULT_REGION))
        return SourceServer(
            server_id=server_id, context=context, hostname=raw.get("hostname", ""), name=raw.get("name"),
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
            instance_type=raw.get("instanceType", "t3.medium"), launch_status=launch["status"],
            launch_seconds=float(launch["seconds"]), added_at=self.clock.start,
        )

    # -- time -------------------------------------------------------------------------------------------------------
    def settle(self) -> None:
        """Apply every timeline event due by now, each at its own scripted time, in (time, creation) order."""
        with self.lock:
            now = self.clock.now()
            while self._timeline and self._timeline[0][0] <= now:
                at, _, apply = heapq.heappop(self._timeline)
                apply(at)

    def _schedule(self, at: float, apply: Callable[[float], None]) -> None:
        heapq.heappush(self._timeline, (at, next(self._sequence), apply))
        # A clock with timers (VirtualClock) also settles at the exact time, so EC2 sees the scripted launch time.
        call_at = getattr(self.clock, "call_at", None)
        if call_at is not None:
            self._timers.append(call_at(at, self.settle, name="drs-timeline"))

    def close(self) -> None:
        """Cancel this backend's clock timers, so a clock that outlives the world never calls back into it."""
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    def take_fault(self, operation: str) -> DrsError | None:
        with self.lock:
            now = self.clock.now()
            fault = next((f for f in self.faults if f.take(operation, now)), None)
            return fault_error(fault.error) if fault else None

    # -- lookups ----------------------------------------------------------------------------------------------------
    def servers_of(self, ctx: RequestContext) -> list[SourceServer]:
        return [server for (owner, _), server in self.servers.items() if owner == ctx]

    def jobs_of(self, ctx: RequestContext) -> list[Job]:
        return [job for (owner, _), job in self.jobs.items() if owner == ctx]

    def instances_of(self, ctx: RequestContext) -> list[RecoveryInstance]:
        return [instance for (owner, _), instance in self.instances.items() if owner == ctx]

    def _new_job_id(self, ctx: RequestContext) -> str:
        # Deterministic ids: a side that runs the same scenario gets the same job ids.
        while True:
            seed = f"{ctx.account_id}:{ctx.region}:{next(self._job_numbers)}"
            job_id = "drsjob-" + hashlib.sha256(seed.encode()).hexdigest()[:17]
            if (ctx, job_id) not in self.jobs:
                return job_id

    def _add_job(self, ctx: RequestContext, job_type: str, initiated_by: str, is_drill: bool,
                 tags: dict[str, str], participants: list[Participant]) -> Job:
        job = Job(self._new_job_id(ctx), ctx, job_type, initiated_by, is_drill, self.clock.now(), tags, participants)
        self.jobs[(ctx, job.job_id)] = job
        return job

    # -- operations -------------------------------------------------------------------------------------------------
    def start_recovery(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requested = [entry["sourceServerID"] for entry in params["sourceServers"]]
        servers = [self._known_server(ctx, server_id) for server_id in requested]
        is_drill = bool(params.get("isDrill", False))
        participants = [Participant(s.server_id, s.launch_status, s.launch_seconds) for s in servers]
        job = self._add_job(ctx, "LAUNCH", "START_DRILL" if is_drill else "START_RECOVERY", is_drill,
                            dict(params.get("tags") or {}), participants)
        for server in servers:
            server.last_launch_result = "PENDING"
        self._schedule_launch(job)
        return {"job": job.describe()}

    def _known_server(self, ctx: RequestContext, server_id: str) -> SourceServer:
        return _existing(self.servers, ctx, server_id, "Source server", "SOURCE_SERVER")

    def _schedule_launch(self, job: Job) -> None:
        start = job.created_at + self.settings.job_start_seconds
        self._schedule(start, lambda at: self._start_launch_job(job, at))
        for participant in job.participants:
            self._schedule(start + participant.final_offset,
                           lambda at, p=participant: self._finish_launch(job, p, at))
        last_final = start + max(p.final_offset for p in job.participants)
        self._schedule(last_final + self.settings.job_end_seconds, lambda at: self._complete(job, at))

    def _start_job(self, job: Job, at: float) -> None:
        job.status = "STARTED"
        job.add_log(at, "JOB_START")
        for participant in job.participants:
            participant.status = "IN_PROGRESS"

    def _start_launch_job(self, job: Job, at: float) -> None:
        self._start_job(job, at)
        for participant in job.participants:
            job.add_log(at, "LAUNCH_START", participant.source_server_id)

    def _finish_launch(self, job: Job, participant: Participant, at: float) -> None:
        server = self.servers[(job.context, participant.source_server_id)]
        if participant.final_status == "LAUNCHED":
            self._launch_instance(job, participant, server, at)
        else:
            self._fail_launch(job, participant, server, at, "Launch failed (scripted by the scenario)")

    def _launch_instance(self, job: Job, participant: Participant, server: SourceServer, at: float) -> None:
        try:
            facts = self.launcher.launch(job.context.account_id, job.context.region, server, job.is_drill)
        except Exception as error:  # an EC2 failure is a failed launch, as in DRS
            self._fail_launch(job, participant, server, at, f"EC2 launch failed: {error}")
            return
        instance = RecoveryInstance(facts["instanceId"], job.context, job.job_id, server.server_id, job.is_drill,
                                    facts, at, server.all_tags())
        self.instances[(job.context, instance.instance_id)] = instance
        participant.status, participant.recovery_instance_id = "LAUNCHED", instance.instance_id
        server.recovery_instance_id, server.last_launch_result = instance.instance_id, "SUCCEEDED"

    def _fail_launch(self, job: Job, participant: Participant, server: SourceServer, at: float, why: str) -> None:
        participant.status = "FAILED"
        server.last_launch_result = "FAILED"
        job.add_log(at, "LAUNCH_FAILED", server.server_id, rawError=why)

    def _complete(self, job: Job, at: float) -> None:
        job.status, job.ended_at = "COMPLETED", at
        job.add_log(at, "JOB_END")

    def terminate_recovery_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instances = [self._known_instance(ctx, instance_id) for instance_id in params["recoveryInstanceIDs"]]
        participants = [Participant(i.source_server_id, "TERMINATED", 0.0) for i in instances]
        job = self._add_job(ctx, "TERMINATE", "TERMINATE_RECOVERY_INSTANCES", False, {}, participants)
        start = job.created_at + self.settings.job_start_seconds
        self._schedule(start, lambda at: self._terminate(job, instances, at))
        self._schedule(start + self.settings.job_end_seconds, lambda at: self._complete(job, at))
        return {"job": job.describe()}

    def _known_instance(self, ctx: RequestContext, instance_id: str) -> RecoveryInstance:
        return _existing(self.instances, ctx, instance_id, "Recovery instance", "RECOVERY_INSTANCE")

    def _terminate(self, job: Job, instances: list[RecoveryInstance], at: float) -> None:
        self._start_job(job, at)
        live = [i for i in instances if (job.context, i.instance_id) in self.instances]
        self.launcher.terminate(job.context.account_id, job.context.region, [i.instance_id for i in live])
        for instance, participant in zip(instances, job.participants):
            participant.status = "TERMINATED"
            self.instances.pop((job.context, instance.instance_id), None)
            self._forget_instance_of_server(job.context, instance)

    def _forget_instance_of_server(self, ctx: RequestContext, instance: RecoveryInstance) -> None:
        server = self.servers.get((ctx, instance.source_server_id))
        if server is not None and server.recovery_instance_id == instance.instance_id:
            server.recovery_instance_id = None

    def describe_jobs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("filters") or {}
        wanted = set(filters.get("jobIDs") or [])
        earliest = parse_iso(filters["fromDate"]) if filters.get("fromDate") else float("-inf")
        latest = parse_iso(filters["toDate"]) if filters.get("toDate") else float("inf")
        jobs = [job for job in self.jobs_of(ctx)
                if (not wanted or job.job_id in wanted) and earliest <= job.created_at <= latest]
        return self._page([job.describe() for job in jobs], params, "DescribeJobs")

    def describe_job_log_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        job = _existing(self.jobs, ctx, params["jobID"], "Job", "JOB")
        return self._page([item.describe() for item in job.log], params, "DescribeJobLogItems")

    def describe_source_servers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set((params.get("filters") or {}).get("sourceServerIDs") or [])
        servers = [s for s in self.servers_of(ctx) if not wanted or s.server_id in wanted]
        return self._page([server.describe() for server in servers], params, "DescribeSourceServers")

    def describe_recovery_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("filters") or {}
        by_id = set(filters.get("recoveryInstanceIDs") or [])
        by_server = set(filters.get("sourceServerIDs") or [])
        instances = [i for i in self.instances_of(ctx)
                     if (not by_id or i.instance_id in by_id) and (not by_server or i.source_server_id in by_server)]
        return self._page([i.describe() for i in instances], params, "DescribeRecoveryInstances")

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]
        tagged = [*self.servers_of(ctx), *self.jobs_of(ctx), *self.instances_of(ctx)]
        for resource in tagged:
            if resource.arn == arn:
                return {"tags": resource.all_tags()}
        raise not_found("Resource", arn)

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any], scope: str) -> dict[str, Any]:
        page, next_token = paginate(items, params, scope)
        return {"items": page, **({"nextToken": next_token} if next_token else {})}


def not_found(kind: str, resource_id: str, resource_type: str | None = None) -> DrsError:
    extra = {"resourceType": resource_type} if resource_type else {}
    return DrsError("ResourceNotFoundException", f"{kind} {resource_id} not found", resourceId=resource_id, **extra)


def _existing(store: dict[tuple[RequestContext, str], Any], ctx: RequestContext, resource_id: str, kind: str,
              resource_type: str) -> Any:
    """The resource of the caller's account and region, or DRS's ResourceNotFoundException."""
    found = store.get((ctx, resource_id))
    if found is None:
        raise not_found(kind, resource_id, resource_type)
    return found


def validate_member(structure: str, member: str, value: Any) -> list[Any]:
    """Problems of one value against one member of a model structure (used to vet scenario ids)."""
    shape = drs_service_model().shape_for(structure).members[member]
    return validate(shape, value, member)
