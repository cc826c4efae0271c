"""moto's JSON parse planned per shape: the parameters moto's JSONParser gives, on every request of a world's run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from moto.core.parse import XFormedDict
from moto.core.responses import BaseResponse
from moto.dynamodb.responses import DynamoHandler

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.run.driver import SideRun, prepared_world
from drs_parity.world import fast_moto_requests
from drs_parity.world.json_request_plans import ShapePlans, planned_json_parse


def same(expected: Any, given: Any) -> bool:
    """Equal, and of the same types all the way down (a map type, a float where moto gives a float)."""
    if type(expected) is not type(given):
        return False
    if isinstance(expected, Mapping):
        return list(expected) == list(given) and all(same(expected[key], given[key]) for key in expected)
    if isinstance(expected, list):
        return len(expected) == len(given) and all(same(left, right) for left, right in zip(expected, given))
    return bool(expected == given)


def comparing_every_parse(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Every JSON request's parameters from moto's own parse, next to the planned parse's."""
    seen: list[tuple[str, Any, Any]] = []
    moto_own, planned = fast_moto_requests._moto["parse_parameters"], fast_moto_requests.planned_parse_parameters

    def both(response: Any, request: Any) -> None:
        moto_own(response, request)
        if request.headers.get("Content-Type", "").startswith("application/x-amz-json"):
            expected = response.__dict__.pop("params")
            planned(response, request)
            seen.append((response._get_action(), expected, response.params))

    monkeypatch.setattr(BaseResponse, "parse_parameters", both)  # undone before the world undoes the fast path
    return seen


@pytest.mark.parametrize("side", ["monolithic", "decomposed"])
def test_every_json_request_of_a_drill_gets_the_parameters_moto_parses(side: str) -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    with prepared_world(scenario) as world, pytest.MonkeyPatch.context() as monkeypatch:
        seen = comparing_every_parse(monkeypatch)
        SideRun(world, load_system(side), scenario).run()
    operations = {operation for operation, _, _ in seen}
    assert {"PutItem", "UpdateItem", "Query", "GetItem"} <= operations
    assert [operation for operation, expected, given in seen if not same(expected, given)] == []


class _Model:
    """The bits of a botocore operation model the planned parse reads."""

    def __init__(self, input_shape: Any) -> None:
        self.input_shape = input_shape
        self.service_model = object()


def test_scalars_maps_nulls_and_recursion_parse_as_moto_parses() -> None:
    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("TransactWriteItems")
    body = ('{"TransactItems": [{"Put": {"TableName": "t", "Item": {"k": {"M": {"l": {"L": [{"N": "1"}, {"NULL": true}'
            ', {"B": "AAE="}]}, "b": {"BOOL": false}}}}, "ConditionExpression": null}}], '
            '"ClientRequestToken": "x", "ReturnConsumedCapacity": "TOTAL", "Unknown": 1}')
    for map_type in (dict, DynamoHandler.PROTOCOL_PARSER_MAP_TYPE, XFormedDict):
        expected = JSONParser(operation, map_type=map_type).parse({"body": body.encode()})  # type: ignore[typeddict-item]
        assert same(expected, planned_json_parse(operation, map_type, body.encode()))
    assert planned_json_parse(_Model(None), dict, b"{}") == {}


def test_numbers_timestamps_and_documents_follow_jsonparser() -> None:
    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    for service, action, body in (
            ("logs", "GetLogEvents", b'{"logGroupName": "g", "logStreamName": "s", "startTime": 5, "limit": 3}'),
            ("events", "PutEvents", b'{"Entries": [{"Time": 1700000000.5, "Detail": "{}"}]}'),
            ("sqs", "SendMessage", b'{"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": "7"}')):
        operation = get_service_model(service).operation_model(action)
        expected = JSONParser(operation, map_type=dict).parse({"body": body})  # type: ignore[typeddict-item]
        assert same(expected, planned_json_parse(operation, dict, body)), service


def test_a_recursive_shape_is_planned_once() -> None:
    from moto.core.utils import get_service_model

    plans = ShapePlans(dict)
    item = get_service_model("dynamodb").operation_model("PutItem").input_shape.members["Item"]
    first = plans.plan(item)
    assert plans.plan(item) is first and first({"a": {"L": [{"M": {"b": {"S": "c"}}}]}}) == {
        "a": {"L": [{"M": {"b": {"S": "c"}}}]}}
