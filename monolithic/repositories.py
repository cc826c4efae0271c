"""DynamoDB repositories of the four tables; items cross this boundary as plain Python (no Decimal)."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any, Iterable

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from aws import dynamodb_table

Item = dict[str, Any]


class ConditionFailed(Exception):
    """The write's condition did not hold: the item changed (or vanished) since it was read."""


def plain(value: Any) -> Any:
    """DynamoDB's Decimal as int (or float when not integral), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(element) for element in value]
    if isinstance(value, dict):
        return {key: plain(element) for key, element in value.items()}
    return value


def _write(operation: Any, **params: Any) -> None:
    try:
        operation(**params)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed() from error
        raise


class _Table:
    """Reads and writes shared by every repository; the table name comes from the environment at call time."""

    env_var = ""
    key = ""

    @property
    def table(self) -> Any:
        return dynamodb_table(os.environ[self.env_var])

    def get(self, key_value: str) -> Item | None:
        item = self.table.get_item(Key={self.key: key_value}).get("Item")
        return plain(item) if item is not None else None

    def _pages(self, operation: Any, **params: Any) -> list[Item]:
        items: list[Item] = []
        while True:
            page = operation(**params)
            items.extend(plain(page.get("Items", [])))
            if "LastEvaluatedKey" not in page:
                return items
            params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def scan_all(self) -> list[Item]:
        return self._pages(self.table.scan)

    def query_all(self, condition: Any, index: str | None = None) -> list[Item]:
        extra = {"IndexName": index} if index else {}
        return self._pages(self.table.query, KeyConditionExpression=condition, **extra)

    def put_new(self, item: Item) -> None:
        _write(self.table.put_item, Item=item, ConditionExpression=Attr(self.key).not_exists())

    def replace_version(self, item: Item, expected_version: int) -> None:
        """Overwrite only if the stored version is still the one read (optimistic locking)."""
        _write(self.table.put_item, Item=item, ConditionExpression=Attr("version").eq(expected_version))

    def delete(self, key_value: str) -> None:
        self.table.delete_item(Key={self.key: key_value})


class ProtectionGroups(_Table):
    env_var, key = "PROTECTION_GROUPS_TABLE", "groupId"


class RecoveryPlans(_Table):
    env_var, key = "RECOVERY_PLANS_TABLE", "planId"


class TargetAccounts(_Table):
    env_var, key = "TARGET_ACCOUNTS_TABLE", "accountId"


class Executions(_Table):
    env_var, key = "EXECUTION_HISTORY_TABLE", "executionId"

    def find(self, execution_id: str) -> Item | None:
        """The execution by its hash key alone (one Query: the range key planId need not be known)."""
        items = self.query_all(Key("executionId").eq(execution_id))
        return items[0] if items else None

    def of_plan(self, plan_id: str) -> list[Item]:
        return self.query_all(Key("planId").eq(plan_id), index="planIdIndex")

    def with_status(self, status: str) -> list[Item]:
        return self.query_all(Key("status").eq(status), index="StatusIndex")

    def update(self, item: Item, fields: Iterable[str], expected_statuses: Iterable[str]) -> None:
        """SET `fields` from `item` if the execution exists and its status is still one of `expected_statuses`."""
        fields = list(fields)
        statuses = list(expected_statuses)
        names = {f"#f{index}": field for index, field in enumerate(fields)}
        values = {f":f{index}": item[field] for index, field in enumerate(fields)}
        status_values = {f":{status.lower()}": status for status in statuses}
        _write(
            self.table.update_item,
            Key={"executionId": item["executionId"], "planId": item["planId"]},
            UpdateExpression="SET " + ", ".join(f"#f{index} = :f{index}" for index in range(len(fields))),
            ConditionExpression=f"attribute_exists(executionId) AND #s IN ({', '.join(status_values)})",
            ExpressionAttributeNames={**names, "#s": "status"},
            ExpressionAttributeValues={**values, **status_values},
        )
