"""moto's JSON parameters kept per body: the parameters moto's own parse gives, a copy of their own every time."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from moto.core.responses import BaseResponse

from drs_parity.world import fast_moto_requests
from drs_parity.world.world import World

QUERY = {"TableName": "t", "KeyConditionExpression": "k = :k", "ExpressionAttributeValues": {":k": {"S": "é"}}}


def table(world: World) -> Any:
    dynamodb = world.client("dynamodb")
    dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    return dynamodb


def recording_moto_parse(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every request's parameters as the fast path gave them, next to moto's own parse of the same request."""
    seen: list[tuple[Any, Any]] = []
    fast, moto_own = fast_moto_requests.parse_parameters, fast_moto_requests._moto["parse_parameters"]

    def both(response: Any, request: Any) -> None:
        moto_own(response, request)
        expected = response.__dict__.pop("params", None)
        fast(response, request)
        seen.append((expected, getattr(response, "params", None)))

    monkeypatch.setattr(BaseResponse, "parse_parameters", both)  # undone before the world undoes the fast path
    return seen


def test_every_request_gets_the_parameters_moto_parses() -> None:
    with World("moto") as world, pytest.MonkeyPatch.context() as monkeypatch:
        dynamodb = table(world)
        seen = recording_moto_parse(monkeypatch)
        for _ in range(3):  # once parsed and seen, once parsed and kept, then answered from what was kept
            dynamodb.put_item(TableName="t", Item={"k": {"S": "é"}, "b": {"B": b"\x00\xff"}, "n": {"N": "1.50"}})
            dynamodb.query(**QUERY)
            dynamodb.describe_table(TableName="t")
        world.client("ec2").describe_instances()  # another protocol: moto's own parse
    assert len(seen) == 10 and all(expected == given for expected, given in seen)
    assert seen[6][1]["Item"]["b"]["B"] == b"\x00\xff"  # the third PutItem's, unpickled


def test_a_body_sent_again_is_parsed_twice_at_most_and_each_request_gets_its_own_copy() -> None:
    with World("moto") as world, pytest.MonkeyPatch.context() as monkeypatch:
        dynamodb = table(world)
        parsed: list[Any] = []
        planned = fast_moto_requests.planned_parse_parameters

        def counting(response: Any, request: Any) -> None:
            planned(response, request)
            parsed.append(response.params)

        monkeypatch.setattr(fast_moto_requests, "planned_parse_parameters", counting)
        given: list[Any] = []
        monkeypatch.setattr(BaseResponse, "call_action", lambda response: given.append(response.params) or (
            200, {}, "{}"))
        for _ in range(4):
            dynamodb.query(**QUERY)
    assert len(parsed) == 2 and len(given) == 4
    assert all(params == given[0] for params in given)
    assert len({id(params) for params in given}) == 4
    assert given[3]["ExpressionAttributeValues"] is not given[2]["ExpressionAttributeValues"]


def test_a_body_sent_once_is_not_kept() -> None:
    with World("moto") as world:
        dynamodb = table(world)
        for number in range(3):
            dynamodb.put_item(TableName="t", Item={"k": {"S": str(number)}})
        assert not fast_moto_requests._parsed


def test_moto_parses_its_requests_itself_after_the_last_world() -> None:
    moto_own = BaseResponse.__dict__["parse_parameters"]
    with World("moto"):
        assert BaseResponse.__dict__["parse_parameters"] is not moto_own
    assert BaseResponse.__dict__["parse_parameters"] is moto_own


@pytest.mark.parametrize("text", [
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ec2/aws4_request, Signature=0",
    "AWS AKIAIOSFODNN7EXAMPLE:signature", ""])
def test_an_authorization_header_is_searched_once_with_the_match_moto_finds(text: str) -> None:
    pattern = BaseResponse.access_key_regex
    remembered = fast_moto_requests.RememberedPattern(pattern)
    found = [remembered.search(text) for _ in range(3)]
    expected = pattern.search(text)
    assert all((match and match.group(1)) == (expected and expected.group(1)) for match in found)
    assert remembered.search.cache_info().misses == 1 and remembered.pattern is pattern
    assert remembered.groupindex == pattern.groupindex  # the rest of the pattern is the pattern's


def test_moto_finds_access_keys_with_a_remembered_pattern_while_a_world_runs() -> None:
    moto_own = BaseResponse.access_key_regex
    with World("moto") as world:
        assert isinstance(BaseResponse.access_key_regex, fast_moto_requests.RememberedPattern)
        assert world.client("sts").get_caller_identity()["Account"] == world.account_id
    assert BaseResponse.access_key_regex is moto_own


def test_a_date_header_is_the_text_werkzeug_writes_for_moto_s_reading_of_the_clock() -> None:
    from moto.core import utils
    from werkzeug.http import http_date

    headers = fast_moto_requests.DateHeaders(http_date)
    for reading in (0.0, 0.999, 1_700_000_000.0, 1_700_000_000.5, 1_700_000_001.0, 1_700_000_000.25):
        naive = datetime.datetime.fromtimestamp(reading, datetime.UTC).replace(tzinfo=None)  # moto's utcnow()
        assert headers(reading) == http_date(naive)
    naive = utils.utcnow()
    assert headers(naive) == http_date(naive)  # anything but a reading: werkzeug's own


def test_a_worlds_answers_carry_the_date_moto_writes() -> None:
    from moto.core import responses
    from moto.core.utils import utcnow
    from werkzeug.http import http_date

    with World("moto") as world:
        assert responses.utcnow is fast_moto_requests.date_header_now
        dynamodb = table(world)
        before = http_date(utcnow())
        date = dynamodb.describe_table(TableName="t")["ResponseMetadata"]["HTTPHeaders"]["date"]
        assert date in (before, http_date(utcnow()))
    assert responses.utcnow is utcnow and responses.http_date is http_date  # undone with the world
