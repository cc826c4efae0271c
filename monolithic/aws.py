"""AWS access: lazily cached boto3 clients, the account context (STS AssumeRole) and the DRS/EC2 gateways."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Callable, Iterator

import boto3
from botocore.exceptions import ClientError, ParamValidationError

DRS_FILTER_CHUNK = 200  # DescribeSourceServers and TerminateRecoveryInstances take at most 200 ids a call
EC2_INSTANCE_CHUNK = 1000  # DescribeInstances accepts at most 1000 ids per call
ROLE_SESSION_NAME = "drs-orchestration"

_clients: dict[tuple[str, str], Any] = {}
_tables: dict[str, Any] = {}
_resources: dict[str, Any] = {}


class AwsError(Exception):
    """A failed AWS call reduced to what the contract shows: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        raise AwsError(details.get("Code", "Unknown"), details.get("Message", "")) from error
    except ParamValidationError as error:
        # e.g. a wave of no server (StartRecovery takes at least one): the request never leaves the client
        raise AwsError("ValidationException", " ".join(str(error).split())) from error


def default_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def client(service: str, region: str | None = None) -> Any:
    """The function's own client for a service and region, created on first use."""
    key = (service, region or default_region() or "")
    if key not in _clients:
        _clients[key] = boto3.client(service, region_name=key[1] or None)
    return _clients[key]


def dynamodb_table(name: str) -> Any:
    """The Table resource, cached: boto3 builds a new Table class on every .Table() call."""
    if name not in _tables:
        if "dynamodb" not in _resources:
            _resources["dynamodb"] = boto3.resource("dynamodb", region_name=default_region())
        _tables[name] = _resources["dynamodb"].Table(name)
    return _tables[name]


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def all_pages(call: Callable[..., dict[str, Any]], result_key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a DRS list operation, following nextToken."""
    items: list[dict[str, Any]] = []
    while True:
        with translated_errors():
            page = call(**params)
        items.extend(page.get(result_key, []))
        if not page.get("nextToken"):
            return items
        params = {**params, "nextToken": page["nextToken"]}


class AccountContext:
    """Which credentials reach an account: the function's own, or a role assumed once per invocation."""

    def __init__(self, own_account_id: str, role_of: Callable[[str], dict[str, Any] | None]) -> None:
        self._own_account_id = own_account_id
        self._role_of = role_of
        self._sessions: dict[str, boto3.Session | AwsError | None] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}

    def client(self, service: str, account_id: str, region: str) -> Any:
        session = self._session_for(account_id)
        if session is None:
            return client(service, region)
        key = (service, account_id, region)
        if key not in self._clients:
            self._clients[key] = session.client(service, region_name=region)
        return self._clients[key]

    def _session_for(self, account_id: str) -> boto3.Session | None:
        if account_id == self._own_account_id:
            return None
        if account_id not in self._sessions:
            self._sessions[account_id] = self._assume(account_id)
        session = self._sessions[account_id]
        if isinstance(session, AwsError):
            raise session
        return session

    def _assume(self, account_id: str) -> boto3.Session | AwsError | None:
        role = self._role_of(account_id)
        if role is None:
            return None
        params = {"RoleArn": f"arn:aws:iam::{account_id}:role/{role['assumeRoleName']}",
                  "RoleSessionName": ROLE_SESSION_NAME}
        if role.get("externalId"):
            params["ExternalId"] = role["externalId"]  # left out when the row has none
        try:
            answer = client("sts").assume_role(**params)
        except ClientError as error:
            return AwsError("AssumeRoleFailed", error.response.get("Error", {}).get("Message", ""))
        credentials = answer["Credentials"]
        return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                             aws_secret_access_key=credentials["SecretAccessKey"],
                             aws_session_token=credentials["SessionToken"])


class DrsGateway:
    """The DRS operations the orchestrator uses, each in the account and region it names."""

    def __init__(self, accounts: AccountContext) -> None:
        self._accounts = accounts

    def _drs(self, account_id: str, region: str) -> Any:
        return self._accounts.client("drs", account_id, region)

    def describe_source_servers(self, account_id: str, region: str, server_ids: list[str]) -> list[dict[str, Any]]:
        """The source servers among `server_ids` (sorted, chunks of 200, all pages)."""
        drs = self._drs(account_id, region)
        servers: list[dict[str, Any]] = []
        for chunk in chunks(sorted(server_ids), DRS_FILTER_CHUNK):
            servers.extend(all_pages(drs.describe_source_servers, "items", filters={"sourceServerIDs": chunk}))
        return servers

    def list_source_servers(self, account_id: str, region: str) -> list[dict[str, Any]]:
        return all_pages(self._drs(account_id, region).describe_source_servers, "items")

    def start_recovery(self, account_id: str, region: str, server_ids: list[str], is_drill: bool,
                       tags: dict[str, str]) -> str:
        drs = self._drs(account_id, region)
        with translated_errors():
            answer = drs.start_recovery(sourceServers=[{"sourceServerID": sid} for sid in sorted(server_ids)],
                                        isDrill=is_drill, tags=tags)
        return answer["job"]["jobID"]

    def describe_jobs(self, account_id: str, region: str, job_ids: list[str]) -> list[dict[str, Any]]:
        return all_pages(self._drs(account_id, region).describe_jobs, "items", filters={"jobIDs": sorted(job_ids)})

    def jobs_since(self, account_id: str, region: str, from_date: str) -> list[dict[str, Any]]:
        """Every job created at or after `from_date` (ISO 8601), all pages."""
        return all_pages(self._drs(account_id, region).describe_jobs, "items", filters={"fromDate": from_date})

    def describe_job_log_items(self, account_id: str, region: str, job_id: str) -> list[dict[str, Any]]:
        return all_pages(self._drs(account_id, region).describe_job_log_items, "items", jobID=job_id)

    def terminate_recovery_instances(self, account_id: str, region: str, instance_ids: list[str]) -> list[str]:
        """One termination job per chunk of 200 of `instance_ids` as ordered (the most one call takes), each chunk
        sent sorted; the jobs in chunk order."""
        drs = self._drs(account_id, region)
        jobs = []
        for chunk in chunks(instance_ids, DRS_FILTER_CHUNK):
            with translated_errors():
                jobs.append(drs.terminate_recovery_instances(recoveryInstanceIDs=sorted(chunk))["job"]["jobID"])
        return jobs


class Ec2Gateway:
    """EC2 facts of recovery instances, fetched in bulk."""

    def __init__(self, accounts: AccountContext) -> None:
        self._accounts = accounts

    def describe_instances(self, account_id: str, region: str, instance_ids: list[str]) -> list[dict[str, Any]]:
        ec2 = self._accounts.client("ec2", account_id, region)
        instances: list[dict[str, Any]] = []
        for chunk in chunks(sorted(instance_ids), EC2_INSTANCE_CHUNK):
            params: dict[str, Any] = {"InstanceIds": chunk}
            while True:  # a long InstanceIds list may come back in pages: follow NextToken
                with translated_errors():
                    answer = ec2.describe_instances(**params)
                for reservation in answer.get("Reservations", []):
                    instances.extend(reservation.get("Instances", []))
                if not answer.get("NextToken"):
                    break
                params = {"InstanceIds": chunk, "NextToken": answer["NextToken"]}
        return instances


class FunctionInvoker:
    """Asynchronous invocation of a Lambda function (the monolith invokes itself for the start worker)."""

    def invoke_async(self, function_name: str, payload: dict[str, Any]) -> None:
        """Raises AwsError when Lambda refuses the invocation."""
        with translated_errors():
            client("lambda").invoke(FunctionName=function_name, InvocationType="Event",
                                    Payload=json.dumps(payload).encode("utf-8"))
