"""DRS resources: source servers, jobs and their logs, recovery instances, faults, pagination, errors."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .validation import drs_service_model

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_JOB_START_SECONDS = 30.0
DEFAULT_JOB_END_SECONDS = 30.0
DEFAULT_LAUNCH = {"status": "LAUNCHED", "seconds": 60}
LAUNCH_OUTCOMES = ("LAUNCHED", "FAILED")
# Items a list answer holds when the request names no maxResults (the orchestrator never does): DRS pages its lists
# whatever the caller asks, and 200 (the most ids one sourceServerIDs filter takes) keeps a filtered page whole.
DEFAULT_PAGE_SIZE = 200


class Clock(Protocol):
    """What the emulator needs of a clock: VirtualClock and WallClock both fit."""

    start: float

    def now(self) -> float: ...


class RecoveryInstanceLauncher(Protocol):
    """Creates and removes the EC2 instances that back recovery instances."""

    def launch(self, account_id: str, region: str, server: "SourceServer", is_drill: bool) -> dict[str, str]: ...

    def terminate(self, account_id: str, region: str, instance_ids: list[str]) -> None: ...


class DrsError(Exception):
    """An error DRS answers with: `code` names a shape of the model, `fields` are its extra body members."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.fields}


@dataclass(frozen=True)
class RequestContext:
    """Who asks: a request only sees the state of its own account and region."""

    account_id: str
    region: str

    def arn(self, resource: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{resource}"


def iso(moment: float) -> str:
    """DRS dates are ISO-8601 strings in UTC with a Z suffix."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# -- resources ------------------------------------------------------------------------------------------------------
@dataclass
class SourceServer:
    server_id: str
    context: RequestContext
    hostname: str
    name: str | None
    tags: dict[str, str]
    instance_type: str
    launch_status: str
    launch_seconds: float
    added_at: float
    recovery_instance_id: str | None = None
    last_launch_result: str = "NOT_STARTED"

    @property
    def arn(self) -> str:
        return self.context.arn(f"source-server/{self.server_id}")

    @property
    def display_name(self) -> str:
        return self.name or self.hostname or self.server_id

    def all_tags(self) -> dict[str, str]:
        name_tag = {"Name": self.name} if self.name else {}
        return {**self.tags, **name_tag}

    def describe(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "sourceServerID": self.server_id,
            "arn": self.arn,
            "tags": self.all_tags(),
            "lastLaunchResult": self.last_launch_result,
            "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS", "lagDuration": "PT0S", "replicatedDisks": []},
            "lifeCycle": {"addedToServiceDateTime": iso(self.added_at)},
            "sourceProperties": {
                "lastUpdatedDateTime": iso(self.added_at),
                "recommendedInstanceType": self.instance_type,
                "identificationHints": {"hostname": self.hostname},
                "networkInterfaces": [],
                "disks": [],
                "cpus": [],
            },
            "stagingArea": {"status": "NOT_EXTENDED"},
            "replicationDirection": "FAILOVER",
        }
        if self.recovery_instance_id:
            item["recoveryInstanceId"] = self.recovery_instance_id
        return item


@dataclass
class RecoveryInstance:
    instance_id: str
    context: RequestContext
    job_id: str
    source_server_id: str
    is_drill: bool
    facts: dict[str, str]
    launched_at: float
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return self.context.arn(f"recovery-instance/{self.instance_id}")

    def all_tags(self) -> dict[str, str]:
        return dict(self.tags)

    def describe(self) -> dict[str, Any]:
        return {
            "ec2InstanceID": self.instance_id,
            "ec2InstanceState": "RUNNING",
            "jobID": self.job_id,
            "recoveryInstanceID": self.instance_id,
            "sourceServerID": self.source_server_id,
            "arn": self.arn,
            "tags": self.all_tags(),
            "isDrill": self.is_drill,
            "originEnvironment": "ON_PREMISES",
            "pointInTimeSnapshotDateTime": iso(self.launched_at),
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(self.launched_at),
                "identificationHints": {"hostname": self.facts["privateDnsName"], "awsInstanceID": self.instance_id},
                "networkInterfaces": [{"ips": [self.facts["privateIp"]], "isPrimary": True}],
                "disks": [],
                "cpus": [],
            },
        }


@dataclass
class Participant:
    """One server's part in a job: it reaches `final_status` `final_offset` seconds after the job started."""

    source_server_id: str
    final_status: str
    final_offset: float
    status: str = "PENDING"
    recovery_instance_id: str | None = None

    def describe(self) -> dict[str, Any]:
        item: dict[str, Any] = {"sourceServerID": self.source_server_id, "launchStatus": self.status}
        if self.recovery_instance_id:
            item["recoveryInstanceID"] = self.recovery_instance_id
        return item


@dataclass
class JobLogItem:
    at: float
    event: str
    data: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"logDateTime": iso(self.at), "event": self.event, "eventData": dict(self.data)}


@dataclass
class Job:
    job_id: str
    context: RequestContext
    job_type: str
    initiated_by: str
    is_drill: bool
    created_at: float
    tags: dict[str, str]
    participants: list[Participant]
    status: str = "PENDING"
    ended_at: float | None = None
    log: list[JobLogItem] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return self.context.arn(f"job/{self.job_id}")

    def all_tags(self) -> dict[str, str]:
        return dict(self.tags)

    def add_log(self, at: float, event: str, source_server_id: str | None = None, **data: Any) -> None:
        if source_server_id:
            data["sourceServerID"] = source_server_id
        self.log.append(JobLogItem(at, event, data))

    def describe(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "jobID": self.job_id,
            "arn": self.arn,
            "type": self.job_type,
            "initiatedBy": self.initiated_by,
            "creationDateTime": iso(self.created_at),
            "status": self.status,
            "participatingServers": [p.describe() for p in self.participants],
            "tags": self.all_tags(),
        }
        if self.ended_at is not None:
            item["endDateTime"] = iso(self.ended_at)
        return item


# -- faults -----------------------------------------------------------------------------------------------------------
@dataclass
class Fault:
    """The next `remaining` calls of `operation` at or after `active_from` fail with `error`."""

    operation: str
    error: str
    active_from: float
    remaining: int

    def take(self, operation: str, now: float) -> bool:
        if self.operation != operation or now < self.active_from or self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


FAULT_MESSAGES = {
    "ThrottlingException": "Rate exceeded",
    "InternalServerException": "An internal error has occurred",
    "AccessDeniedException": "User is not authorized to perform this action",
}


def fault_error(error: str) -> DrsError:
    return DrsError(error, FAULT_MESSAGES.get(error, f"Injected {error}"))


def parse_faults(faults: list[dict[str, Any]], clock_start: float) -> list[Fault]:
    model = drs_service_model()
    known_errors = {shape.name for shape in model.error_shapes}
    parsed = []
    for index, fault in enumerate(faults or []):
        where = f"faults[{index}]"
        operation, error = fault.get("operation"), fault.get("error")
        if operation not in model.operation_names:
            raise ValueError(f"{where}.operation: {operation!r} is not a DRS operation")
        if error not in known_errors:
            raise ValueError(f"{where}.error: {error!r} is not an error of the DRS model")
        active_from = clock_start + float(fault.get("afterSeconds", 0))
        parsed.append(Fault(operation, error, active_from, int(fault.get("count", 1))))
    return parsed


# -- pagination -------------------------------------------------------------------------------------------------------
def paginate(items: list[Any], params: dict[str, Any], scope: str) -> tuple[list[Any], str | None]:
    """One page of `items` per maxResults (DEFAULT_PAGE_SIZE when absent) and nextToken; the token is opaque and
    bound to its operation."""
    start = _token_offset(params.get("nextToken"), scope, len(items))
    size = params.get("maxResults") or DEFAULT_PAGE_SIZE
    end = start + size
    return items[start:end], (_make_token(scope, end) if end < len(items) else None)


def _make_token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"s": scope, "o": offset}).encode()).decode()


def _token_offset(token: str | None, scope: str, count: int) -> int:
    if not token:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = decoded["o"] if decoded["s"] == scope else -1
    except (ValueError, KeyError, TypeError, binascii.Error):
        offset = -1
    if not isinstance(offset, int) or not 0 <= offset <= count:
        raise DrsError("ValidationException", "Invalid pagination token", reason="other",
                       fieldList=[{"name": "nextToken", "message": "is not a token this operation issued"}])
    return offset
