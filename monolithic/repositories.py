"""DynamoDB repositories of the four tables; items cross this boundary as plain Python (no Decimal)."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any, Iterable

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

import server_items
from aws import dynamodb_table

Item = dict[str, Any]
BATCH_WRITE_LIMIT = 25  # BatchWriteItem takes at most 25 requests
UNPROCESSED_RESENDS = 3  # UnprocessedItems sent again at once, at most this often


class ConditionFailed(Exception):
    """The write's condition did not hold: the item changed (or vanished) since it was read."""


class ServerItemsNotWritten(Exception):
    """BatchWriteItem left server items unprocessed after every resend; `reason` is the contract's text."""

    def __init__(self, count: int) -> None:
        self.reason = f"UnprocessedItems: {count} server items not written"
        super().__init__(self.reason)


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
        """The execution item alone, by its hash key (it sorts before its server items: a Query of one item); its
        waves' serverStatuses are left empty: reads that show or compare servers use read()."""
        page = self.table.query(KeyConditionExpression=Key("executionId").eq(execution_id), Limit=1)
        return server_items.assemble(plain(page.get("Items", [])))

    def read(self, execution_id: str) -> Item | None:
        """The execution as read: its item and its server items (one Query, paged only past 1 MB), assembled."""
        return server_items.assemble(self.query_all(Key("executionId").eq(execution_id)))

    def executions(self) -> list[Item]:
        """Every execution item (a Scan; server items have no status)."""
        return self._pages(self.table.scan, FilterExpression=Attr("status").exists())

    def put_new(self, item: Item) -> None:
        super().put_new({**item, "waves": server_items.stored_waves(item["waves"])})

    def put_servers(self, execution: Item, read: dict[server_items.ServerKey, Item]) -> None:
        """Write the server statuses that changed since `read`: BatchWriteItem, 25 a request, unprocessed resent."""
        changed = server_items.changed_server_items(execution, read)
        for start in range(0, len(changed), BATCH_WRITE_LIMIT):
            self._batch_put(changed[start:start + BATCH_WRITE_LIMIT])

    def _batch_put(self, items: list[Item]) -> None:
        requests = {self.table.name: [{"PutRequest": {"Item": item}} for item in items]}
        for _ in range(1 + UNPROCESSED_RESENDS):
            requests = self.table.meta.client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not requests:
                return
        raise ServerItemsNotWritten(sum(len(pending) for pending in requests.values()))

    def of_plan(self, plan_id: str) -> list[Item]:
        return self.query_all(Key("planId").eq(plan_id), index="planIdIndex")

    def with_status(self, status: str) -> list[Item]:
        return self.query_all(Key("status").eq(status), index="StatusIndex")

    def update(self, item: Item, fields: Iterable[str], expected_statuses: Iterable[str]) -> None:
        """SET `fields` from `item` if the execution exists, its status is still one of `expected_statuses` and its
        version is still the one read; the version goes up by one (in `item` too)."""
        fields = list(fields)
        assignments = {f"#f{index}": (field, _stored(field, item[field])) for index, field in enumerate(fields)}
        self._versioned_set(item, assignments, expected_statuses)

    def claim_wave(self, item: Item, wave_number: int, expected_statuses: Iterable[str]) -> None:
        """Record that wave `wave_number` is being started (its startTime, set in `item`) before StartRecovery: of
        two writers that read the same version, only one claims it."""
        started = item["waves"][wave_number]["startTime"]
        self._versioned_set(item, {f"#f0[{wave_number}].#st": ("waves", started)}, expected_statuses,
                            extra_names={"#st": "startTime"})

    def _versioned_set(self, item: Item, assignments: dict[str, tuple[str, Any]], expected_statuses: Iterable[str],
                       extra_names: dict[str, str] | None = None) -> None:
        """SET each `path: (attribute, value)` and version + 1, under the status and version conditions."""
        status_values = {f":{status.lower()}": status for status in expected_statuses}
        names = {path.partition("[")[0]: attribute for path, (attribute, _) in assignments.items()}
        values = {f":f{index}": value for index, (_, value) in enumerate(assignments.values())}
        sets = [f"{path} = :f{index}" for index, path in enumerate(assignments)]
        _write(
            self.table.update_item,
            Key={"executionId": item["executionId"], "planId": item["planId"]},
            UpdateExpression="SET " + ", ".join([*sets, "#v = :next"]),
            ConditionExpression=f"attribute_exists(executionId) AND #s IN ({', '.join(status_values)}) AND #v = :read",
            ExpressionAttributeNames={**names, **(extra_names or {}), "#s": "status", "#v": "version"},
            ExpressionAttributeValues={**values, **status_values, ":read": item["version"],
                                       ":next": item["version"] + 1},
        )
        item["version"] += 1

def _stored(field: str, value: Any) -> Any:
    """A field as the execution item stores it (waves without their servers)."""
    return server_items.stored_waves(value) if field == "waves" else value
