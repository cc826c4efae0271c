"""DynamoDB answers parsed with the AttributeValue shortcut: what botocore's own JSON parser gives, errors included."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.parsers
import pytest
from botocore.parsers import JSONParser, ResponseParserError

from drs_parity.world import fast_parsing
from drs_parity.world.backends import boto_session
from drs_parity.world.fast_parsing import AttributeValueParser, install_fast_attribute_values

MODEL = boto_session().client("dynamodb", region_name="us-east-1").meta.service_model
BLOB = base64.b64encode(b"\x00bytes").decode()
ITEMS = [  # every kind of AttributeValue, nested, and the odd answers botocore parses its own way
    {"k": {"S": "é"}, "n": {"N": "1.50"}, "b": {"B": BLOB}, "null": {"NULL": True}, "yes": {"BOOL": False}},
    {"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [BLOB, None]}, "empty": {"L": []}},
    {"m": {"M": {"deep": {"L": [{"M": {"x": {"S": "y"}}}, None, {"NS": ["3"]}]}, "none": None}}},
    {"nothing": {"S": None}, "emptymap": {"M": {}}, "typed": {"S": "a", "__type": "x"}},
]
ODD = [{"a": {"S": "a", "N": "1"}}, {"a": {"NEW": "member"}}, {"a": {}}]  # several members, an unknown one, none


def parsed(parser_class: type[JSONParser], items: list[Any], operation: str = "Query") -> Any:
    body = json.dumps({"Items": items, "Count": len(items), "LastEvaluatedKey": items[0]}).encode()
    answer = {"status_code": 200, "headers": {}, "body": body}
    return parser_class().parse(answer, MODEL.operation_model(operation).output_shape)


def outcome(parser_class: type[JSONParser], items: list[Any]) -> Any:
    try:
        return parsed(parser_class, items)
    except ResponseParserError as error:
        return ("error", str(error))


def test_every_kind_of_attribute_value_parses_as_botocore_parses_it() -> None:
    assert fast_parsing._plan(MODEL.shape_for("AttributeValue")) is not None  # the shortcut applies to it
    fast = parsed(AttributeValueParser, ITEMS)
    assert fast == parsed(JSONParser, ITEMS)
    assert fast["Items"][0]["b"] == {"B": b"\x00bytes"} and fast["Items"][1]["bs"]["BS"] == [b"\x00bytes", None]
    assert list(fast["Items"][2]["m"]["M"]) == ["deep", "none"]  # map keys in the answer's order


@pytest.mark.parametrize("item", ODD)
def test_an_attribute_value_without_exactly_one_known_member_is_botocore_s_to_parse(item: dict[str, Any]) -> None:
    assert outcome(AttributeValueParser, [item]) == outcome(JSONParser, [item])


def test_other_shapes_and_services_keep_botocore_s_parsing() -> None:
    answer = parsed(AttributeValueParser, ITEMS, "Scan")
    assert answer == parsed(JSONParser, ITEMS, "Scan")
    description = MODEL.operation_model("DescribeTable").output_shape
    assert fast_parsing._plan(description) is None and fast_parsing._plan(description.members["Table"]) is None


def test_clients_parse_with_it_only_while_installed() -> None:
    own = botocore.parsers.PROTOCOL_PARSERS
    undo = install_fast_attribute_values()
    try:
        assert botocore.parsers.ResponseParserFactory().create_parser("json").__class__ is AttributeValueParser
        assert botocore.parsers.PROTOCOL_PARSERS["rest-json"] is own["rest-json"]
    finally:
        undo()
    assert botocore.parsers.PROTOCOL_PARSERS is own and own["json"] is JSONParser
