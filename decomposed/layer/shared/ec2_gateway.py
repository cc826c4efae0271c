"""EC2 facts of recovery instances, asked for in bulk."""

from typing import Any

from shared.accounts import AccountContexts
from shared.aws_calls import chunks, reported_as_call_error

INSTANCE_IDS_PER_CALL = 1000


class Ec2Gateway:
    def __init__(self, accounts: AccountContexts) -> None:
        self._accounts = accounts

    def instances_by_id(self, account_id: str | None, region: str | None, instance_ids: list[str]) -> dict[str, Any]:
        """instanceId -> instance for the sorted ids, in chunks of 1000; no call for no ids. Raises AwsCallError."""
        found: dict[str, Any] = {}
        if not instance_ids:
            return found
        with reported_as_call_error():
            ec2 = self._accounts.client("ec2", account_id, region)
            for chunk in chunks(sorted(instance_ids), INSTANCE_IDS_PER_CALL):
                for reservation in _all_reservations(ec2, chunk):
                    found.update({instance["InstanceId"]: instance for instance in reservation.get("Instances", [])})
        return found


def _all_reservations(ec2: Any, instance_ids: list[str]) -> list[dict[str, Any]]:
    # A long InstanceIds list may come back in pages: follow NextToken if given.
    params: dict[str, Any] = {"InstanceIds": instance_ids}
    reservations: list[dict[str, Any]] = []
    while True:
        page = ec2.describe_instances(**params)
        reservations.extend(page.get("Reservations", []))
        if not page.get("NextToken"):
            return reservations
        params["NextToken"] = page["NextToken"]
