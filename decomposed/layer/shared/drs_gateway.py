"""DRS in one account context and region: every call the orchestrator makes, batched as the contract says."""

from typing import Any

from shared.accounts import AccountContexts
from shared.aws_calls import all_pages, chunks, reported_as_call_error

IDS_PER_CALL = 200  # DescribeSourceServers' id filter and TerminateRecoveryInstances take at most 200 ids


class DrsGateway:
    """Raises AwsCallError (from DRS or from assuming the account's role) for any failed call."""

    def __init__(self, accounts: AccountContexts) -> None:
        self._accounts = accounts

    def _drs(self, account_id: str | None, region: str | None) -> Any:
        return self._accounts.client("drs", account_id, region)

    def start_recovery(
        self, account_id: str | None, region: str | None, server_ids: list[str], is_drill: bool, tags: dict[str, str]
    ) -> str:
        with reported_as_call_error():
            response = self._drs(account_id, region).start_recovery(
                sourceServers=[{"sourceServerID": server_id} for server_id in sorted(server_ids)],
                isDrill=is_drill,
                tags=tags,
            )
        return str(response["job"]["jobID"])

    def describe_jobs(self, account_id: str | None, region: str | None, job_ids: list[str]) -> list[dict[str, Any]]:
        with reported_as_call_error():
            drs = self._drs(account_id, region)
            return all_pages(drs.describe_jobs, "items", filters={"jobIDs": sorted(job_ids)})

    def jobs_created_since(self, account_id: str | None, region: str | None, from_date: str) -> list[dict[str, Any]]:
        with reported_as_call_error():
            return all_pages(self._drs(account_id, region).describe_jobs, "items", filters={"fromDate": from_date})

    def describe_source_servers(
        self, account_id: str | None, region: str | None, server_ids: list[str]
    ) -> list[dict[str, Any]]:
        """The named servers, asked for in sorted chunks of 200 ids."""
        with reported_as_call_error():
            drs = self._drs(account_id, region)
            found: list[dict[str, Any]] = []
            for chunk in chunks(sorted(server_ids), IDS_PER_CALL):
                found.extend(all_pages(drs.describe_source_servers, "items", filters={"sourceServerIDs": chunk}))
            return found

    def all_source_servers(self, account_id: str | None, region: str | None) -> list[dict[str, Any]]:
        with reported_as_call_error():
            return all_pages(self._drs(account_id, region).describe_source_servers, "items")

    def job_log_items(self, account_id: str | None, region: str | None, job_id: str) -> list[dict[str, Any]]:
        with reported_as_call_error():
            return all_pages(self._drs(account_id, region).describe_job_log_items, "items", jobID=job_id)

    def terminate_recovery_instances(
        self, account_id: str | None, region: str | None, instance_ids: list[str]
    ) -> list[str]:
        """One termination job per chunk of 200 of `instance_ids` in the order given (the most one call takes), each
        chunk sent sorted; the jobs in chunk order."""
        job_ids = []
        with reported_as_call_error():
            drs = self._drs(account_id, region)
            for chunk in chunks(instance_ids, IDS_PER_CALL):
                job_ids.append(str(drs.terminate_recovery_instances(recoveryInstanceIDs=sorted(chunk))["job"]["jobID"]))
        return job_ids
