"""DynamoDB repositories: items in and out as plain Python values (DynamoDB Decimals become int/float)."""

from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from shared import clients, config
from shared.domain import storage
from shared.domain.lifecycle import is_final_execution
from shared.errors import client_error_code

Item = dict[str, Any]
CONDITION_FAILED = "ConditionalCheckFailedException"
WRITES_PER_BATCH = 25  # BatchWriteItem's limit
BATCH_RESENDS = 3  # UnprocessedItems are sent again at once, this many times at most


class ServerItemsNotWritten(Exception):
    """Server items BatchWriteItem still left unprocessed after every resend."""

    def __init__(self, count: int) -> None:
        super().__init__(f"UnprocessedItems: {count} server items not written")


def to_plain(value: Any) -> Any:
    """DynamoDB numbers as int when integral, else float, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: to_plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [to_plain(inner) for inner in value]
    return value


def _all_pages(call: Callable[..., dict[str, Any]], **params: Any) -> Iterator[Item]:
    while True:
        page = call(**params)
        yield from (to_plain(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _condition_failed(exc: ClientError) -> bool:
    return client_error_code(exc) == CONDITION_FAILED


class VersionedRepository:
    """A table of user-managed items keyed by one hash key, written under an optimistic `version` check."""

    def __init__(self, table_name: Callable[[], str], key: str) -> None:
        self._table_name = table_name
        self.key = key

    @property
    def _table(self) -> Any:
        return clients.dynamodb_table(self._table_name())

    def get(self, item_id: str) -> Item | None:
        item = self._table.get_item(Key={self.key: item_id}).get("Item")
        return to_plain(item) if item else None

    def list_all(self) -> list[Item]:
        return list(_all_pages(self._table.scan))

    def create(self, item: Item) -> None:
        self._table.put_item(Item=item, ConditionExpression=Attr(self.key).not_exists())

    def replace_if_version(self, item: Item, expected_version: int) -> bool:
        """Writes `item` only if the stored version is still `expected_version`; False when it is not."""
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("version").eq(expected_version))
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def delete(self, item_id: str) -> None:
        self._table.delete_item(Key={self.key: item_id})


def protection_groups() -> VersionedRepository:
    return VersionedRepository(config.protection_groups_table, "groupId")


def recovery_plans() -> VersionedRepository:
    return VersionedRepository(config.recovery_plans_table, "planId")


class TargetAccountRepository:
    """Operator-written cross-account settings (assumeRoleName, externalId) by accountId."""

    def get(self, account_id: str) -> Item | None:
        item = clients.dynamodb_table(config.target_accounts_table()).get_item(Key={"accountId": account_id})
        return to_plain(item["Item"]) if "Item" in item else None


class ExecutionRepository:
    """execution-history: HASH executionId, RANGE planId; GSIs StatusIndex and planIdIndex."""

    @property
    def _table(self) -> Any:
        return clients.dynamodb_table(config.execution_history_table())

    def get(self, execution_id: str) -> Item | None:
        """The execution as read: one Query on the hash key (pages past 1 MB followed) for the execution item and
        its server items, assembled; the caller need not know the plan (the range key)."""
        key = Key("executionId").eq(execution_id)
        return storage.execution_as_read(list(_all_pages(self._table.query, KeyConditionExpression=key)))

    def get_item(self, execution_id: str) -> Item | None:
        """The execution item only (it sorts before its server items, so a Query of one item); its waves'
        serverStatuses come back empty."""
        page = self._table.query(KeyConditionExpression=Key("executionId").eq(execution_id), Limit=1)
        return storage.execution_as_read([to_plain(item) for item in page.get("Items", [])])

    def create(self, item: Item) -> None:
        stored = {**item, "waves": storage.waves_to_store(item["waves"])}
        self._table.put_item(Item=stored, ConditionExpression=Attr("executionId").not_exists())

    def list_all(self) -> list[Item]:
        """Every execution item; server items carry no status."""
        return list(_all_pages(self._table.scan, FilterExpression=Attr("status").exists()))

    def put_changed_servers(self, execution: Item, as_read: dict[storage.WaveServer, Item]) -> None:
        """Puts the server items whose status changed since `as_read`, 25 a BatchWriteItem; raises ClientError, or
        ServerItemsNotWritten when DynamoDB keeps leaving some unprocessed."""
        items = storage.server_items_to_write(execution, as_read)
        for first in range(0, len(items), WRITES_PER_BATCH):
            self._put_batch(items[first:first + WRITES_PER_BATCH])

    def _put_batch(self, items: list[Item]) -> None:
        pending: dict[str, Any] = {self._table.name: [{"PutRequest": {"Item": item}} for item in items]}
        attempts = 1 + BATCH_RESENDS
        while pending and attempts:
            pending = self._table.meta.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            attempts -= 1
        if pending:
            raise ServerItemsNotWritten(sum(len(requests) for requests in pending.values()))

    def with_status(self, status: str) -> list[Item]:
        return list(
            _all_pages(self._table.query, IndexName="StatusIndex", KeyConditionExpression=Key("status").eq(status))
        )

    def of_plan(self, plan_id: str) -> list[Item]:
        return list(
            _all_pages(self._table.query, IndexName="planIdIndex", KeyConditionExpression=Key("planId").eq(plan_id))
        )

    def active_of_plan(self, plan_id: str) -> Item | None:
        """The oldest execution of the plan that is not final, if any."""
        active = [item for item in self.of_plan(plan_id) if not is_final_execution(item)]
        return min(active, key=lambda item: (item.get("startTime") or 0, item["executionId"]), default=None)

    def update_if_status(self, execution: Item, fields: Item, statuses: Iterable[str]) -> bool:
        """SETs `fields` only if the item exists, its status is one of `statuses` and its version is the one
        `execution` was read at; the version is raised by one (in `execution` too). False when a condition fails."""
        names = {"#s": "status"}
        values: dict[str, Any] = {}
        assignments = []
        for index, (field, value) in enumerate(fields.items()):
            name = "#s" if field == "status" else f"#f{index}"
            names[name] = field
            values[f":v{index}"] = storage.waves_to_store(value) if field == "waves" else value
            assignments.append(f"{name} = :v{index}")
        return self._set_versioned(execution, assignments, names, values, statuses)

    def claim_wave_start(self, execution: Item, wave_number: int, statuses: Iterable[str]) -> bool:
        """Writes the wave's startTime (already set in `execution`) before its StartRecovery, under the same
        conditions as update_if_status: of two writers at the same version, one claims the start, the other gets
        False and must not start it."""
        names = {"#w": "waves", "#st": "startTime"}
        values = {":started": execution["waves"][wave_number]["startTime"]}
        return self._set_versioned(execution, [f"#w[{int(wave_number)}].#st = :started"], names, values, statuses)

    def _set_versioned(self, execution: Item, assignments: list[str], names: dict[str, str], values: dict[str, Any],
                       statuses: Iterable[str]) -> bool:
        status_placeholders = []
        for status in statuses:
            values[f":{status.lower()}"] = status
            status_placeholders.append(f":{status.lower()}")
        version = int(execution["version"])
        try:
            self._table.update_item(
                Key={"executionId": execution["executionId"], "planId": execution["planId"]},
                UpdateExpression="SET " + ", ".join([*assignments, "#version = :next_version"]),
                ConditionExpression=f"attribute_exists(executionId) AND #s IN ({', '.join(status_placeholders)}) "
                                    "AND #version = :read_version",
                ExpressionAttributeNames={**names, "#s": "status", "#version": "version"},
                ExpressionAttributeValues={**values, ":read_version": version, ":next_version": version + 1},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        execution["version"] = version + 1
        return True
