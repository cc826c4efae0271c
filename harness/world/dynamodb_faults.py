"""DynamoDB's scripted faults via botocore hooks: lagging GSI, backfilling index, throughput exceeded, small pages."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from boto3.dynamodb.types import TypeSerializer

from drs_parity.world.botohooks import wire_response
from drs_parity.world.clock import VirtualClock
from drs_parity.world.fault_window import Window
from drs_parity.world.host import FunctionHost, call_params, function_call

LAGGED_SUFFIX = "-drs-parity-lagged"  # the copy of a table a lagging index is read from
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
INDEX_READS = ("Query", "Scan")
_ATTRIBUTE_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}
# what DynamoDB answers, by billing mode, when a request exceeds the table's throughput
_THROUGHPUT_MESSAGES = {
    "PROVISIONED": "The level of configured provisioned throughput for the table was exceeded. Consider increasing "
                   "your provisioning level with the UpdateTable API.",
    "PAY_PER_REQUEST": "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                       "scaling your table or index so please try again shortly. If exceptions persist, check if you "
                       "have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                       "bp-partition-key-design.html",
}


@dataclass
class _Lag:
    table: str
    index: str
    seconds: float
    copy: str  # the table the index is read from: the base table as it was `seconds` ago
    key: tuple[str, ...]  # the base table's key attributes


@dataclass
class _Backfilling:
    table: str
    index: str
    until: float


@dataclass
class _Throughput:
    operation: str
    window: Window  # of table names
    message: str


@dataclass
class _SmallPages:
    table: str
    index: str | None  # None: the table and every index
    size: int


class DynamoDbFaults:
    """The DynamoDB faults of one world, by physical table name; they hit the calls functions make, never the
    harness's own (its scans and seeds see the tables as they are)."""

    def __init__(self, clock: VirtualClock, dynamodb: Any, host: FunctionHost) -> None:
        self._clock = clock
        self._dynamodb = dynamodb  # a harness-internal client
        self._host = host
        self._lags: list[_Lag] = []
        self._backfilling: list[_Backfilling] = []
        self._throughput: list[_Throughput] = []
        self._pages: list[_SmallPages] = []
        self._ids = itertools.count(1)
        self._installed = False

    # -- scripting ---------------------------------------------------------------------------------------------------
    def add_lag(self, table: str, index: str, seconds: float) -> None:
        """Reads of `index` answer with the table as it was `seconds` ago (writes reach a copy that late)."""
        described = self._index_of(table, index)
        copy = f"{table}{LAGGED_SUFFIX}-{index}"
        self._dynamodb.create_table(TableName=copy, BillingMode="PAY_PER_REQUEST", **_schema(described))
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page.get("Items", ()):
                self._dynamodb.put_item(TableName=copy, Item=item)
        key = tuple(element["AttributeName"] for element in described["KeySchema"])
        self._lags.append(_Lag(table, index, seconds, copy, key))
        self._install()

    def add_backfilling(self, table: str, index: str, until: float) -> None:
        """Until `until`, reads of `index` are refused and DescribeTable shows it CREATING and backfilling."""
        self._index_of(table, index)
        self._backfilling.append(_Backfilling(table, index, until))
        self._install()

    def add_throughput_exceeded(self, table: str, operation: str, start: float, count: int) -> None:
        """The next `count` requests (each botocore attempt is one) of `operation` on `table` from `start` on fail."""
        mode = self._describe(table).get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        self._throughput.append(_Throughput(operation, Window(frozenset({table}), start, count),
                                            _THROUGHPUT_MESSAGES.get(mode, _THROUGHPUT_MESSAGES["PROVISIONED"])))
        self._install()

    def add_small_pages(self, table: str, index: str | None, size: int) -> None:
        """Query and Scan pages of `table` (or of one of its indexes) hold at most `size` items (LastEvaluatedKey
        set), the way AWS's 1 MB page limit cuts them on a large table."""
        if index is not None:
            self._index_of(table, index)
        else:
            self._describe(table)
        self._pages.append(_SmallPages(table, index, size))
        self._install()

    def _describe(self, table: str) -> dict[str, Any]:
        try:
            return self._dynamodb.describe_table(TableName=table)["Table"]
        except self._dynamodb.exceptions.ResourceNotFoundException:
            raise ValueError(f"table {table} does not exist") from None

    def _index_of(self, table: str, index: str) -> dict[str, Any]:
        described = self._describe(table)
        names = [gsi["IndexName"] for gsi in described.get("GlobalSecondaryIndexes", ())]
        if index not in names:
            raise ValueError(f"table {table} has no global secondary index {index!r} (it has: "
                             f"{', '.join(names) or 'none'})")
        return described

    def _install(self) -> None:
        if self._installed:
            return
        self._installed = True
        self._host.register_hook("before-parameter-build", self._shape_request, "dynamodb")
        self._host.register_hook("before-send", self._refuse, "dynamodb")
        self._host.register_hook("after-call", self._after_call, "dynamodb")

    # -- the hooks ---------------------------------------------------------------------------------------------------
    def _shape_request(self, params: dict[str, Any], context: dict[str, Any], event_name: str, **_: Any) -> None:
        """A function's Query or Scan: pages made small, a lagging index read from the late copy."""
        operation = event_name.rsplit(".", 1)[-1]
        if operation not in INDEX_READS or function_call(context) is None:
            return
        table, index = params.get("TableName"), params.get("IndexName")
        for pages in self._pages:
            if pages.table == table and pages.index in (None, index):
                params["Limit"] = min(int(params.get("Limit") or pages.size), pages.size)
        lag = next((lag for lag in self._lags if (lag.table, lag.index) == (table, index)), None)
        if lag is not None:
            params["TableName"] = lag.copy

    def _refuse(self, request: Any, event_name: str, **_: Any) -> Any:
        """A function's request DynamoDB refuses: an index still backfilling, throughput exceeded."""
        call = function_call(request.context or {})
        if call is None:
            return None
        operation, params, now = event_name.rsplit(".", 1)[-1], call[1], self._clock.now()
        if operation in INDEX_READS and any(
                (fill.table, fill.index) == (params.get("TableName"), params.get("IndexName")) and now < fill.until
                for fill in self._backfilling):
            return self._error("com.amazon.coral.validate#ValidationException",
                               f"Cannot read from backfilling global secondary index: {params['IndexName']}")
        tables = set(tables_named(params))
        for fault in self._throughput:
            if fault.operation == operation and any(fault.window.take(table, now) for table in tables):
                return self._error("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                                   fault.message)
        return None

    def _error(self, kind: str, message: str) -> Any:
        headers = {"x-amzn-RequestId": f"drs-parity-dynamodb-{next(self._ids)}",
                   "Content-Type": "application/x-amz-json-1.0"}
        return wire_response("https://dynamodb.amazonaws.com/", 400, headers,
                             json.dumps({"__type": kind, "message": message}).encode())

    def _after_call(self, event_name: str, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
                    **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        operation = event_name.rsplit(".", 1)[-1]
        if operation == "DescribeTable" and function_call(context) is not None:
            self._show_backfilling(parsed.get("Table") or {})
        elif operation in WRITES and self._lags:
            self._copy_late(call_params(context))

    def _show_backfilling(self, table: dict[str, Any]) -> None:
        now = self._clock.now()
        for index in table.get("GlobalSecondaryIndexes", ()):
            if any((fill.table, fill.index) == (table.get("TableName"), index.get("IndexName")) and now < fill.until
                   for fill in self._backfilling):
                index.update(IndexStatus="CREATING", Backfilling=True)

    def _copy_late(self, params: dict[str, Any]) -> None:
        """Each item a write touched, as it is now, reaches the lagging copies of its table `lag` seconds later."""
        for lag in self._lags:
            for key in written_keys(params, lag.table, lag.key):
                item = self._dynamodb.get_item(TableName=lag.table, Key=key, ConsistentRead=True).get("Item")
                self._clock.call_at(self._clock.now() + lag.seconds, self._replay(lag.copy, key, item),
                                    name=f"gsi-lag:{lag.table}")

    def _replay(self, copy: str, key: dict[str, Any], item: dict[str, Any] | None) -> Callable[[], None]:
        def replay() -> None:
            if item is None:
                self._dynamodb.delete_item(TableName=copy, Key=key)
            else:
                self._dynamodb.put_item(TableName=copy, Item=item)

        return replay


# -- reading requests --------------------------------------------------------------------------------------------------
def _schema(table: dict[str, Any]) -> dict[str, Any]:
    """CreateTable's key and index arguments for a copy of the described table (its capacity left out)."""
    indexes = {kind: [{field: index[field] for field in ("IndexName", "KeySchema", "Projection")}
                      for index in table.get(kind, ())]
               for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")}
    return {"KeySchema": table["KeySchema"], "AttributeDefinitions": table["AttributeDefinitions"],
            **{kind: value for kind, value in indexes.items() if value}}


def tables_named(params: dict[str, Any]) -> Iterator[str]:
    """Every table a request names: TableName, the tables of a batch, the tables of a transaction."""
    if isinstance(params.get("TableName"), str):
        yield params["TableName"]
    yield from (params.get("RequestItems") or {})
    for item in params.get("TransactItems") or ():
        yield from (action["TableName"] for action in item.values() if isinstance(action, dict))


def written_keys(params: dict[str, Any], table: str, key: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The keys (as AttributeValues) of the items of `table` a write request touches."""
    if params.get("TableName") == table:
        yield _key(params.get("Key") or params.get("Item") or {}, key)
    for request in (params.get("RequestItems") or {}).get(table, ()):
        put, delete = request.get("PutRequest"), request.get("DeleteRequest")
        yield _key(put["Item"] if put else delete["Key"], key)
    for item in params.get("TransactItems") or ():
        for kind, action in item.items():
            if kind != "ConditionCheck" and action.get("TableName") == table:  # a condition check writes nothing
                yield _key(action.get("Key") or action.get("Item") or {}, key)


def _key(values: dict[str, Any], key: tuple[str, ...]) -> dict[str, Any]:
    """The key attributes of an item or key, as AttributeValues whether the code passed plain values or not."""
    return {name: _attribute_value(values[name]) for name in key if name in values}


def _attribute_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _ATTRIBUTE_TYPES:
        return value
    return TypeSerializer().serialize(value)
