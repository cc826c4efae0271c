"""The in-process moto world's fast DynamoDB response path gives byte for byte what moto's own serialiser gives."""

import copy
from decimal import Decimal
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS, JSONSerializer

from drs_parity.run.driver import check_expectations, run_side
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.world.backends import MotoServerBackend, free_port, shared_moto_server
from drs_parity.world.fast_responses import wire_attribute_value, wire_shaped_dynamodb_serializer
from drs_parity.world.world import World

Serialised = tuple[str, dict[str, Any], dict[str, Any]]  # operation, fast answer, moto's answer

# every kind of AttributeValue, nested, with the shapes the implementations write (waves of server statuses)
EVERY_TYPE = {
    "pk": {"S": "exec-1"}, "sk": {"S": "plan-1"}, "status": {"S": "POLLING"},
    "number": {"N": "12345678901234567890.5"}, "negative": {"N": "-3"}, "empty": {"S": ""},
    "unicode": {"S": "sørvér ✓"}, "blob": {"B": b"\x00\xffbinary"}, "blobs": {"BS": [b"a", b"\x01\x02"]},
    "strings": {"SS": ["a", "b"]}, "numbers": {"NS": ["1", "2.5"]}, "nothing": {"NULL": True},
    "yes": {"BOOL": True}, "no": {"BOOL": False}, "emptyMap": {"M": {}}, "emptyList": {"L": []},
    "waves": {"L": [{"M": {"waveNumber": {"N": "0"}, "jobId": {"NULL": True}, "serverStatuses": {"L": [
        {"M": {"sourceServerId": {"S": "s-1"}, "launchTime": {"N": "1768471200"}, "tags": {"M": {
            "Tier": {"S": "web"}, "raw": {"B": b"\x10"}}}}}]}}}]},
}


@pytest.fixture
def world_and_pairs() -> Iterator[tuple[World, list[Serialised]]]:
    """A started moto world whose DynamoDB answers are each serialised both ways, and the pairs."""
    pairs: list[Serialised] = []

    class Comparing(wire_shaped_dynamodb_serializer()):  # type: ignore[misc]
        def serialize(self, result: Any) -> Any:
            fast = super().serialize(result)
            moto = JSONSerializer(self.operation_model, pretty_print=self.pretty_print,
                                  value_picker=self._value_picker).serialize(result)
            pairs.append((self.operation_name, copy.deepcopy(fast), moto))  # moto adds headers to what it gets
            return fast

    with World("moto") as world:
        SERVICE_SPECIFIC_SERIALIZERS["dynamodb"]["json"] = Comparing  # the world's stop undoes it with its own
        yield world, pairs


@pytest.fixture
def serialised(world_and_pairs: tuple[World, list[Serialised]]) -> list[Serialised]:
    return world_and_pairs[1]


def create_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "status")],
        GlobalSecondaryIndexes=[{"IndexName": "StatusIndex", "KeySchema": [{"AttributeName": "status",
                                                                             "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def item(number: int) -> dict[str, Any]:
    return {**EVERY_TYPE, "pk": {"S": f"exec-{number}"}}


def client_operations(dynamodb: Any) -> None:
    """Every DynamoDB operation the implementations and the harness use, with and without return values."""
    key = {"pk": {"S": "exec-1"}, "sk": {"S": "plan-1"}}
    dynamodb.describe_table(TableName="t")
    dynamodb.list_tables()
    for number in range(1, 4):
        dynamodb.put_item(TableName="t", Item=item(number))
    dynamodb.put_item(TableName="t", Item=item(1), ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
    dynamodb.get_item(TableName="t", Key=key, ConsistentRead=True)
    dynamodb.get_item(TableName="t", Key={"pk": {"S": "absent"}, "sk": {"S": "x"}})
    dynamodb.get_item(TableName="t", Key=key, ProjectionExpression="waves[0].serverStatuses, yes")
    dynamodb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": key["pk"]})
    dynamodb.query(TableName="t", IndexName="StatusIndex", KeyConditionExpression="#s = :s", Limit=2,
                   ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "POLLING"}},
                   ReturnConsumedCapacity="INDEXES")
    dynamodb.scan(TableName="t", Limit=2)
    dynamodb.scan(TableName="t", Select="COUNT")
    update_operations(dynamodb, key)
    dynamodb.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "exec-2"}, "sk": {"S": "plan-1"}}]}})
    dynamodb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": item(4)}}]})
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "exec-4"}, "sk": {"S": "plan-1"}}, ReturnValues="ALL_OLD")
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "exec-3"}, "sk": {"S": "plan-1"}})


def update_operations(dynamodb: Any, key: dict[str, Any]) -> None:
    for return_values in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "NONE"):
        dynamodb.update_item(TableName="t", Key=key, ReturnValues=return_values,
                             UpdateExpression="SET #s = :s, waves[0].jobId = :j ADD strings :a",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "COMPLETED"}, ":j": {"S": "drsjob-1"},
                                                        ":a": {"SS": ["c"]}})


def failing_operations(dynamodb: Any) -> list[dict[str, Any]]:
    """Errors, including those carrying items (the condition failure with the old item); their error responses."""
    attempts: list[Callable[[], Any]] = [
        lambda: dynamodb.put_item(TableName="t", Item=item(1), ConditionExpression="attribute_not_exists(pk)"),
        lambda: dynamodb.put_item(TableName="t", Item=item(1), ConditionExpression="attribute_not_exists(pk)",
                                  ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        lambda: dynamodb.update_item(TableName="t", Key={"pk": {"S": "gone"}, "sk": {"S": "x"}},
                                     UpdateExpression="SET #s = :s", ConditionExpression="attribute_exists(pk)",
                                     ExpressionAttributeNames={"#s": "status"},
                                     ExpressionAttributeValues={":s": {"S": "X"}}),
        lambda: dynamodb.transact_write_items(TransactItems=[{"Put": {
            "TableName": "t", "Item": item(1), "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]),
        lambda: dynamodb.describe_table(TableName="missing"),
        lambda: dynamodb.get_item(TableName="t", Key={"pk": {"S": "only-half"}}),
    ]
    errors = []
    for attempt in attempts:
        with pytest.raises(ClientError) as raised:
            attempt()
        errors.append(raised.value.response)
    return errors


def test_every_dynamodb_answer_is_byte_identical_to_motos_own_serialisation(serialised: list[Serialised]) -> None:
    dynamodb = boto3.client("dynamodb")
    create_table(dynamodb)
    client_operations(dynamodb)
    errors = failing_operations(dynamodb)

    differing = [operation for operation, fast, moto in serialised if fast != moto]
    assert differing == []
    operations = {operation for operation, _, _ in serialised}
    assert operations >= {"CreateTable", "DescribeTable", "PutItem", "GetItem", "Query", "Scan", "UpdateItem",
                          "DeleteItem", "BatchGetItem", "BatchWriteItem"}
    with_items = [moto["body"] for operation, _, moto in serialised if '"B": "' in moto["body"]]
    assert len(with_items) >= 10  # the comparison did cover items, binary included
    # this moto answers DynamoDB errors with its own JSON error bodies, past the serialiser: they are untouched
    assert [error["Error"]["Code"] for error in errors] == [
        "ConditionalCheckFailedException", "ConditionalCheckFailedException", "ConditionalCheckFailedException",
        "TransactionCanceledException", "ResourceNotFoundException", "ValidationException"]
    assert errors[1]["Item"]["pk"] == {"S": "exec-1"} and errors[1]["Item"]["blob"] == EVERY_TYPE["blob"]


def test_the_resource_layer_reads_what_was_written(serialised: list[Serialised]) -> None:
    create_table(boto3.client("dynamodb"))
    table = boto3.resource("dynamodb").Table("t")
    written = {"pk": "exec-9", "sk": "plan-1", "status": "POLLING", "count": Decimal("3"), "blob": b"\x00\x01",
               "tags": {"Tier": "web"}, "ids": {"a", "b"}, "waves": [{"n": Decimal("0"), "end": None}]}
    table.put_item(Item=written)

    read = table.get_item(Key={"pk": "exec-9", "sk": "plan-1"})["Item"]
    assert {**read, "blob": bytes(read["blob"])} == written
    assert all(fast == moto for _, fast, moto in serialised)


def test_the_fast_path_is_installed_only_while_an_in_process_moto_world_is_active() -> None:
    before = {service: dict(protocols) for service, protocols in SERVICE_SPECIFIC_SERIALIZERS.items()}
    with World("moto"):
        assert SERVICE_SPECIFIC_SERIALIZERS["dynamodb"]["json"] is wire_shaped_dynamodb_serializer()
    assert SERVICE_SPECIFIC_SERIALIZERS == before


def test_moto_servers_moto_in_this_process_takes_the_fast_path_too_while_its_world_runs() -> None:
    before = {service: dict(protocols) for service, protocols in SERVICE_SPECIFIC_SERIALIZERS.items()}
    port = free_port()
    backend = MotoServerBackend(moto_server_port=port)
    try:
        backend.start()
        assert SERVICE_SPECIFIC_SERIALIZERS["dynamodb"]["json"] is wire_shaped_dynamodb_serializer()
        backend.stop()
        assert SERVICE_SPECIFIC_SERIALIZERS == before
    finally:
        backend.stop()
        shared_moto_server(port).stop()


@pytest.mark.parametrize("value, wire", [
    ({"B": b"\x00"}, {"B": "AA=="}),
    ({"BS": [b"\x01", "text"]}, {"BS": ["AQ==", "dGV4dA=="]}),
    ({"M": {"a": {"N": "1"}, "gone": None}}, {"M": {"a": {"N": "1"}}}),
    ({"L": [{"S": "x"}, None]}, {"L": [{"S": "x"}, None]}),
    ({"S": "x", "unknown": 1, "N": None}, {"S": "x"}),
])
def test_wire_attribute_value_follows_motos_serialiser_on_edge_cases(value: dict[str, Any],
                                                                     wire: dict[str, Any]) -> None:
    assert wire_attribute_value(value) == wire


@pytest.mark.parametrize("side", ["monolithic", "decomposed"])
def test_a_whole_drill_of_either_side_gets_motos_own_bytes(world_and_pairs: tuple[World, list[Serialised]],
                                                           side: str) -> None:
    world, serialised = world_and_pairs
    timeline = run_side(side, "thirty-minute-drill", world=world)

    assert check_expectations(load_scenarios(["thirty-minute-drill"])[0], timeline) == []
    assert len(serialised) > 100
    assert [operation for operation, fast, moto in serialised if fast != moto] == []
