"""moto's DynamoDB with the world's cheaper model functions answers byte for byte what moto alone answers."""

import datetime
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb import responses
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from drs_parity.world.fast_dynamodb import (
    attribute_size, equal, install_fast_dynamodb, item_size, less, regular_json, result_dict,
)
from drs_parity.world.world import World

Answer = tuple[str, int, bytes]  # operation, HTTP status, body

NESTED = {"M": {"waves": {"L": [{"M": {"jobId": {"NULL": True}, "ids": {"SS": ["s-1", "s-2"]}, "n": {"NS": ["1", "5"]},
                                      "blobs": {"BS": [b"\x00", b"ab"]}, "ok": {"BOOL": False}, "when": {"N": "-1.5e3"},
                                      "name": {"S": "sørvér ✓"}, "raw": {"B": b"\x10\xff"}}}]},
                "blank": {"M": {}}, "none": {"L": []}}}


def create_tables(dynamodb: Any) -> None:
    indexes = [("StatusIndex", {"ProjectionType": "ALL"}), ("KeysIndex", {"ProjectionType": "KEYS_ONLY"}),
               ("SomeIndex", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["count"]})]
    dynamodb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "status")],
        GlobalSecondaryIndexes=[{"IndexName": name, "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                 "Projection": projection} for name, projection in indexes])


def item(pk: str, sk: str, status: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "status": {"S": status}, "count": {"N": "0"}, "doc": NESTED,
            "tags": {"SS": ["a", "b"]}, "blob": {"B": b"\x01\x02"}}


def writes(dynamodb: Any) -> None:
    for number in range(6):
        dynamodb.put_item(TableName="t", Item=item("exec-1", f"srv-{number}", "POLLING" if number % 2 else "DONE"))
    dynamodb.put_item(TableName="t", Item=item("exec-1", "srv-0", "LAUNCHED"), ReturnValues="ALL_OLD")
    dynamodb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": item("exec-2", f"srv-{n}", "DONE")}}
                                                  for n in range(3)]})
    _failing(lambda: dynamodb.put_item(TableName="t", Item=item("exec-1", "srv-1", "X"),
                                       ConditionExpression="attribute_not_exists(pk)",
                                       ReturnValuesOnConditionCheckFailure="ALL_OLD"))


def updates(dynamodb: Any) -> None:
    key = {"pk": {"S": "exec-1"}, "sk": {"S": "srv-1"}}
    for value, returned in (("1", "ALL_NEW"), ("2", "UPDATED_OLD"), ("3", "UPDATED_NEW"), ("4", "ALL_OLD"),
                            ("5", "NONE")):  # one expression, parsed once, with other values each time
        dynamodb.update_item(TableName="t", Key=key, ReturnValues=returned,
                             UpdateExpression="SET #c = :v, doc.waves[0].jobId = :v, #s = :s",
                             ExpressionAttributeNames={"#c": "count", "#s": "status"},
                             ExpressionAttributeValues={":v": {"N": value}, ":s": {"S": f"S{value}"}})
    dynamodb.update_item(TableName="t", Key=key, ReturnValues="ALL_NEW",
                         UpdateExpression="SET doc.waves = list_append(doc.waves, :w), extra = if_not_exists(extra, :e)"
                                          " ADD #c :one REMOVE doc.blank",
                         ExpressionAttributeNames={"#c": "count"},
                         ExpressionAttributeValues={":w": {"L": [NESTED]}, ":e": {"S": "x"}, ":one": {"N": "1"}})
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "exec-3"}, "sk": {"S": "new"}}, ReturnValues="ALL_NEW",
                         UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": {"S": "NEW"}})
    dynamodb.update_item(TableName="t", Key=key, AttributeUpdates={"count": {"Action": "ADD", "Value": {"N": "2"}}},
                         ReturnValues="UPDATED_NEW")


def failing_updates(dynamodb: Any) -> None:
    key = {"pk": {"S": "exec-1"}, "sk": {"S": "srv-2"}}
    attempts = [
        {"UpdateExpression": "SET #c = :v", "ConditionExpression": "#c = :old", "ReturnValuesOnConditionCheckFailure":
         "ALL_OLD", "ExpressionAttributeNames": {"#c": "count"},
         "ExpressionAttributeValues": {":v": {"N": "1"}, ":old": {"N": "9"}}},
        {"UpdateExpression": "SET #c = = :v", "ExpressionAttributeNames": {"#c": "count"},
         "ExpressionAttributeValues": {":v": {"N": "1"}}},
        {"UpdateExpression": "SET #c = :v", "ExpressionAttributeNames": {"#c": "count"}},
        {"UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "other"}}},
        {"UpdateExpression": "SET a = :v SET b = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        {"UpdateExpression": "SET a = :v, a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
        {"UpdateExpression": "SET big = :v", "ExpressionAttributeValues": {":v": {"S": "x" * 300_000}}},
        {"UpdateExpression": "SET bigger = :v", "ExpressionAttributeValues": {":v": {"S": "y" * 200_000}}},
    ]
    for attempt in attempts * 2:  # twice: a cached parse fails the second time as the first
        _failing(lambda: dynamodb.update_item(TableName="t", Key=key, **attempt))
    _failing(lambda: dynamodb.put_item(TableName="t", Item={**item("exec-4", "a", "DONE"),
                                                             "huge": {"S": "z" * 410_000}}))


def _failing(call: Callable[[], Any]) -> None:
    try:
        call()
    except ClientError:
        pass  # the error's bytes are recorded by the hook


def reads(dynamodb: Any) -> None:
    dynamodb.get_item(TableName="t", Key={"pk": {"S": "exec-1"}, "sk": {"S": "srv-1"}},
                      ProjectionExpression="doc.waves[0], #c", ExpressionAttributeNames={"#c": "count"})
    for index in ("StatusIndex", "KeysIndex", "SomeIndex"):
        pages(dynamodb, "query", IndexName=index, KeyConditionExpression="#s = :s",
              ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "POLLING"}}, Limit=1)
        pages(dynamodb, "scan", IndexName=index, Limit=2)
    pages(dynamodb, "query", KeyConditionExpression="pk = :p AND begins_with(sk, :b)", ScanIndexForward=False,
          ExpressionAttributeValues={":p": {"S": "exec-1"}, ":b": {"S": "srv"}, ":n": {"N": "0"}}, Limit=2,
          FilterExpression="#c >= :n", ExpressionAttributeNames={"#c": "count"}, ReturnConsumedCapacity="TOTAL")
    pages(dynamodb, "query", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "exec-1"}},
          Select="COUNT")
    pages(dynamodb, "query", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "exec-1"}},
          ProjectionExpression="sk, doc.waves[0].ids")
    pages(dynamodb, "scan", Limit=3, FilterExpression="attribute_exists(doc)")
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "exec-2"}, "sk": {"S": "srv-0"}}, ReturnValues="ALL_OLD")
    dynamodb.transact_write_items(TransactItems=[{"Update": {
        "TableName": "t", "Key": {"pk": {"S": "exec-2"}, "sk": {"S": "srv-1"}}, "UpdateExpression": "SET #c = :v",
        "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":v": {"N": "7"}}}}])
    pages(dynamodb, "scan", ConsistentRead=True)  # everything written, read back


def pages(dynamodb: Any, operation: str, **request: Any) -> None:
    while True:
        page = getattr(dynamodb, operation)(TableName="t", **request)
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def answers(fast: bool) -> list[Answer]:
    """The raw answers to the whole series, in a fresh moto, with or without the replacements."""
    recorded: list[Answer] = []

    def record(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        recorded.append((operation_model.name, response_dict["status_code"], response_dict["body"]))

    with mock_aws():
        undo = install_fast_dynamodb() if fast else None
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            create_tables(dynamodb)  # its answer holds the time: not recorded
            dynamodb.meta.events.register("before-parse.dynamodb.*", record)
            for step in (writes, updates, failing_updates, reads):
                step(dynamodb)
        finally:
            if undo is not None:
                undo()
    return recorded


@pytest.fixture(scope="module")
def both() -> tuple[list[Answer], list[Answer]]:
    return answers(fast=False), answers(fast=True)


def test_every_answer_is_byte_identical_with_and_without_the_replacements(
        both: tuple[list[Answer], list[Answer]]) -> None:
    moto_alone, fast = both
    assert len(fast) == len(moto_alone) > 60
    for number, (theirs, ours) in enumerate(zip(moto_alone, fast)):
        assert ours == theirs, f"answer {number} ({theirs[0]}) differs"


def test_the_series_reaches_the_errors_and_limits_it_is_meant_to(both: tuple[list[Answer], list[Answer]]) -> None:
    bodies = b"\n".join(body for _, status, body in both[1] if status == 400)
    for expected in (b"ConditionalCheckFailedException", b"Item size to update has exceeded the maximum allowed size",
                     b"Item size has exceeded the maximum allowed size", b"Invalid UpdateExpression",
                     b"attribute value used in expression is not defined", b"Cannot update attribute pk",
                     b"section can only be used once", b"Two document paths overlap"):
        assert expected in bodies, expected
    assert sum(1 for operation, _, body in both[1] if operation == "Query" and b"LastEvaluatedKey" in body) >= 3


def test_one_expression_with_other_values_each_time_sets_each_value() -> None:
    with mock_aws():
        undo = install_fast_dynamodb()
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            create_tables(dynamodb)
            key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
            seen = []
            for value in ("first", "second"):
                answer = dynamodb.update_item(TableName="t", Key=key, UpdateExpression="SET doc = :v",
                                              ExpressionAttributeValues={":v": {"M": {"v": {"S": value}}}},
                                              ReturnValues="UPDATED_NEW")
                seen.append(answer["Attributes"]["doc"]["M"]["v"]["S"])
            stored = dynamodb.get_item(TableName="t", Key=key)["Item"]["doc"]["M"]["v"]["S"]
        finally:
            undo()
    assert (seen, stored) == (["first", "second"], "second")


@pytest.mark.parametrize("value", [NESTED, {"S": "ü" * 3}, {"N": "-12.50"}, {"B": b"\x00" * 5}, {"BOOL": True},
                                   {"NULL": True}, {"SS": ["a", "bc"]}, {"NS": ["1", "-2.5"]}, {"BS": [b"x", b"yz"]},
                                   {"L": [{"S": "a"}, {"M": {"k": {"N": "1"}}}]}])
def test_sizes_and_plain_json_are_motos_own(value: dict[str, Any]) -> None:
    typed = DynamoType(value)
    expected = (typed.size(), typed.to_regular_json())
    with mock_aws():
        undo = install_fast_dynamodb()
        try:
            assert DynamoType.size is attribute_size and DynamoType.to_regular_json is regular_json
            assert (typed.size(), typed.to_regular_json()) == expected
        finally:
            undo()


def test_an_items_size_is_motos_own() -> None:
    stored = Item(DynamoType({"S": "p"}), DynamoType({"S": "s"}), {**item("p", "s", "DONE"), "clé ✓": {"S": "ü"}})
    expected = stored.size()
    with mock_aws():
        undo = install_fast_dynamodb()
        try:
            assert Item.size is item_size and stored.size() == expected
        finally:
            undo()


def test_comparisons_are_motos_own() -> None:
    values = [DynamoType(value) for value in ({"S": "a"}, {"S": "b"}, {"S": "a"}, {"S": "10"}, {"N": "10"},
                                              {"N": "9.5"}, {"NULL": True}, {"SS": ["a"]}, NESTED)]
    pairs = [(one, other) for one in values for other in values]
    expected = [(one == other, one != other, _lower(one, other)) for one, other in pairs]
    with mock_aws():
        undo = install_fast_dynamodb()
        try:
            assert DynamoType.__eq__ is equal and DynamoType.__lt__ is less
            assert [(one == other, one != other, _lower(one, other)) for one, other in pairs] == expected
        finally:
            undo()


def _lower(one: DynamoType, other: DynamoType) -> Any:
    try:
        return one < other
    except TypeError as error:  # moto's own refusal, e.g. a string against a number
        return str(error)


def test_the_replacements_are_installed_only_while_an_in_process_moto_world_runs() -> None:
    original_size, original_init = DynamoType.size, Item.__init__
    with World("moto"):
        assert DynamoType.size is attribute_size
        assert UpdateExpressionParser.make("SET a = :v") is UpdateExpressionParser.make("SET a = :v")
        with World("moto"):
            pass  # a second world stopping leaves the first one's replacements in place
        assert DynamoType.size is attribute_size
    assert (DynamoType.size, Item.__init__) == (original_size, original_init)
    assert UpdateExpressionParser.make("SET a = :v") is not UpdateExpressionParser.make("SET a = :v")


@pytest.fixture(autouse=True)
def no_replacements_left() -> Iterator[None]:
    yield
    assert DynamoType.size is not attribute_size


def test_answers_are_converted_to_motos_own_dicts() -> None:
    class Named(str):  # a subclass goes to moto's own function
        pass

    stored = Item(DynamoType({"S": "p"}), DynamoType({"S": "s"}), item("p", "s", "DONE"))
    results = [{"Count": 1, "Items": [stored.attrs], "LastEvaluatedKey": {"pk": DynamoType({"S": "p"})}},
               {"Item": stored.attrs, "ConsumedCapacity": {"CapacityUnits": 0.5, "TableName": Named("t")}},
               {"Table": {"CreationDateTime": datetime.datetime(2026, 1, 15), "ok": True, "none": None}},
               [DynamoType(NESTED), DynamoType({"B": b"\x00"}), DynamoType({"BS": [b"x"]}), stored]]
    with mock_aws():
        undo = install_fast_dynamodb()
        try:
            assert responses.dynamo_to_dict is result_dict  # what every answer (DynamoResult) converts with
            converted = [result_dict(result) for result in results]
        finally:
            undo()
    expected = [dynamo_to_dict(result) for result in results]
    assert converted == expected and repr(converted) == repr(expected)
