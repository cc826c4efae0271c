"""Account context: which credentials work an account (own, or STS AssumeRole from target-accounts)."""

from typing import Any

import boto3
from botocore.exceptions import ClientError

from shared import clients, config
from shared.errors import AwsCallError
from shared.repositories import TargetAccountRepository

ROLE_SESSION_NAME = "drs-orchestration"


class AccountContexts:
    """Lives for one handler invocation: AssumeRole runs at most once per account within it."""

    def __init__(self, target_accounts: TargetAccountRepository | None = None) -> None:
        self._target_accounts = target_accounts or TargetAccountRepository()
        self._sessions: dict[str, boto3.Session | AwsCallError | None] = {}
        self._clients: dict[tuple[str, str, str | None], Any] = {}

    def client(self, service: str, account_id: str | None, region: str | None) -> Any:
        """A client for `service` in `region` acting in `account_id`; raises AwsCallError if assumption failed."""
        session = self._session_for(account_id)
        if session is None:
            return clients.client(service, region)
        key = (service, str(account_id), region)
        if key not in self._clients:
            self._clients[key] = session.client(service, region_name=region or config.default_region())
        return self._clients[key]

    def _session_for(self, account_id: str | None) -> boto3.Session | None:
        if not account_id or account_id == config.own_account_id():
            return None
        if account_id not in self._sessions:
            self._sessions[account_id] = self._assume(account_id)
        session = self._sessions[account_id]
        if isinstance(session, AwsCallError):
            raise session
        return session

    def _assume(self, account_id: str) -> boto3.Session | AwsCallError | None:
        target = self._target_accounts.get(account_id)
        if target is None:
            return None
        params: dict[str, str] = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{target.get('assumeRoleName')}",
            "RoleSessionName": ROLE_SESSION_NAME,
        }
        if target.get("externalId"):
            params["ExternalId"] = str(target["externalId"])
        try:
            credentials = clients.client("sts").assume_role(**params)["Credentials"]
        except ClientError as exc:
            return AwsCallError("AssumeRoleFailed", AwsCallError.from_client_error(exc).message)
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
