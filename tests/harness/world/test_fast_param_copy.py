"""boto3's DynamoDB params copy made by copied_params: equal to boto3's deepcopy, nothing shared, the world's calls the same."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb import transform
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary

from drs_parity.world import fast_param_copy
from drs_parity.world.fast_param_copy import copied_params
from drs_parity.world.world import World


def boto3_copy(params: Any) -> Any:
    return copy.deepcopy(params, memo=transform._ForgetfulDict())


def shared_key_params() -> dict[str, Any]:
    key, item = Key("pk"), {"n": Decimal("1.5"), "tags": {"a", "b"}, "raw": Binary(b"\x00"), "t": (1, [2])}
    return {"TableName": "t", "KeyConditionExpression": key.eq("x") & key.begins_with("y"),
            "FilterExpression": Attr("n").between(Decimal("1"), Decimal("2")) | Attr("s").not_exists(),
            "Item": item, "Again": item, "List": [item, None, True, 1, 2.5, b"b", "s"], 7: "int key"}


def identities(value: Any) -> list[int]:
    """The ids of every dict and list in `value` (what must be fresh in a copy)."""
    if isinstance(value, dict):
        return [id(value), *(i for member in value.values() for i in identities(member))]
    if isinstance(value, list):
        return [id(value), *(i for member in value for i in identities(member))]
    return []


def test_the_copy_equals_boto3s_and_shares_nothing_with_the_params_or_itself() -> None:
    params = {key: value for key, value in shared_key_params().items() if key != 7}
    copied = copied_params(params)
    assert copied == boto3_copy(params) == params
    assert not set(identities(copied)) & set(identities(params))
    assert copied["Item"] is not copied["Again"]  # boto3's memo forgets: a repeated dict is copied twice
    condition = copied["KeyConditionExpression"]
    assert condition is not params["KeyConditionExpression"]
    assert condition.get_expression()["values"][0] is not condition.get_expression()["values"][1]
    assert copied["Item"]["tags"] is not params["Item"]["tags"]
    assert copied["Item"]["n"] is params["Item"]["n"]  # deepcopy hands a Decimal back as it is


def test_tuples_and_conditions_are_copied_as_deepcopy_copies_them() -> None:
    atomic, holding_a_list = (1, "a", None), (1, [2])
    assert copied_params(atomic) is atomic  # deepcopy keeps a tuple whose members all copy to themselves
    assert copied_params(holding_a_list) == holding_a_list and copied_params(holding_a_list) is not holding_a_list
    condition = Key("pk").eq("x") & Attr("n").is_in([1, 2])
    copied = copied_params(condition)
    assert type(copied) is type(condition) and copied == condition == boto3_copy(condition)
    assert copied.get_expression()["values"][1] is not condition.get_expression()["values"][1]
    assert copied.get_expression()["values"][1].get_expression()["values"][1] is not \
        condition.get_expression()["values"][1].get_expression()["values"][1]  # the list in it too


def test_a_condition_class_with_its_own_copy_goes_to_deepcopy() -> None:
    class Remembered(Key):  # another module's subclass, copying itself as itself
        def __deepcopy__(self, memo: dict) -> "Remembered":
            return self

    key = Remembered("pk")
    assert copied_params({"k": key})["k"] is key


def test_what_it_does_not_copy_itself_goes_to_deepcopy_as_boto3_does() -> None:
    params = shared_key_params()  # an int key: the whole dict to deepcopy
    assert copied_params(params) == boto3_copy(params)
    assert copied_params(params)["Item"] is not copied_params(params)["Again"]

    class Params(dict):  # a subclass: deepcopy's own reconstruction
        pass

    subclassed = Params(TableName="t")
    assert type(copied_params(subclassed)) is Params and copied_params(subclassed) == subclassed


def test_a_worlds_tables_copy_with_it_and_send_what_boto3_would() -> None:
    seen: list[tuple[Any, Any]] = []

    def both(params: Any, **kwargs: Any) -> Any:
        seen.append((boto3_copy(params), copied_params(params)))
        return copied_params(params)

    with World("moto") as world, pytest.MonkeyPatch.context() as monkeypatch:
        assert transform.copy_dynamodb_params is fast_param_copy.copy_dynamodb_params
        monkeypatch.setattr(transform, "copy_dynamodb_params", both)  # undone before the world undoes the patch
        table = create_table(world)
        table.put_item(Item={"pk": "x", "n": Decimal("2"), "tags": {"a"}})
        assert table.query(KeyConditionExpression=Key("pk").eq("x"),
                           FilterExpression=Attr("n").gt(1))["Items"][0]["tags"] == {"a"}
        table.update_item(Key={"pk": "x"}, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": 3},
                          ConditionExpression=Attr("pk").exists())
    assert transform.copy_dynamodb_params is not fast_param_copy.copy_dynamodb_params  # undone with the world
    assert len(seen) == 3 and all(expected == given for expected, given in seen)


def create_table(world: World) -> Any:
    """Table "t" through a boto3 resource (in-process moto: the world's environment is the process's)."""
    world.client("dynamodb").create_table(
        TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return boto3.resource("dynamodb", region_name=world.region).Table("t")
