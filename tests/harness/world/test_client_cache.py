"""Clients made through the client cache: one model and class per service, and clients that behave as botocore's own."""

from __future__ import annotations

import gc
from typing import Any, Iterator

import boto3
import botocore.session
import pytest
from botocore import parsers
from botocore.client import ClientCreator

from drs_parity.world import client_cache
from drs_parity.world.backends import boto_session
from drs_parity.world.client_cache import class_handlers_key, install_client_cache
from drs_parity.world.world import World

ORIGINAL_CLASS_MAKER = ClientCreator._create_client_class


@pytest.fixture
def cache() -> Iterator[None]:
    undo = install_client_cache()
    yield
    undo()


def client(session: Any, service: str = "dynamodb") -> Any:
    return session.client(service, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing", endpoint_url="http://127.0.0.1:9")


def public_surface(made: Any) -> tuple[str, list[str], list[str]]:
    """What a user of a client sees of its class: its name, its methods and its operations."""
    cls = type(made)
    return cls.__name__, sorted(name for name in dir(cls) if not name.startswith("__")), sorted(cls._PY_TO_OP_NAME)


@pytest.mark.parametrize("service", ["dynamodb", "ec2", "drs", "s3", "lambda"])
def test_a_cached_client_class_offers_what_botocores_own_offers(service: str) -> None:
    own = client(boto_session(), service)  # no world: botocore's own class
    undo = install_client_cache()
    try:
        cached, again = client(boto_session(), service), client(boto_session(), service)
    finally:
        undo()

    assert type(cached) is not type(own) and type(again) is type(cached)
    assert public_surface(cached) == public_surface(own)


def test_clients_of_one_service_share_their_class_and_model_across_sessions(cache: None) -> None:
    first, second = client(boto_session()), client(boto_session())

    assert type(first) is type(second)
    assert first.meta.service_model is second.meta.service_model
    assert first is not second and first.meta.events is not second.meta.events  # each client its own emitter


def test_a_session_whose_handlers_add_to_the_class_gets_a_class_of_its_own(cache: None) -> None:
    plain = client(boto_session())
    special = boto_session()

    def add_a_method(class_attributes: dict[str, Any], **_: Any) -> None:
        class_attributes["describe_the_tests"] = lambda self: "added"

    special.events.register("creating-client-class.dynamodb", add_a_method)
    extended = client(special)

    assert extended.describe_the_tests() == "added"
    assert not hasattr(plain, "describe_the_tests")
    assert type(client(boto_session())) is type(plain)


def test_a_handler_known_only_by_identity_is_still_run_for_each_client(cache: None) -> None:
    made: list[str] = []
    session = boto_session()

    def counting(**_: Any) -> None:  # a closure over a list: no value to compare, so no shared class
        made.append("class")

    session.events.register("creating-client-class.dynamodb", counting)
    client(session), client(session)

    assert made == ["class", "class"]


def test_handlers_are_told_apart_by_value() -> None:
    session = boto_session()
    emitter = session._session.get_component("event_emitter")

    key = class_handlers_key(emitter, "creating-client-class.s3")

    assert key is not None and len(key) >= 2  # botocore's presigned URL and post, boto3's transfer methods
    assert key == class_handlers_key(boto_session()._session.get_component("event_emitter"),
                                     "creating-client-class.s3")
    assert key != class_handlers_key(emitter, "creating-client-class.dynamodb")


def test_the_cache_is_installed_only_while_a_world_runs() -> None:
    with World():
        assert ClientCreator._create_client_class is not ORIGINAL_CLASS_MAKER
    assert ClientCreator._create_client_class is ORIGINAL_CLASS_MAKER


def test_a_models_entry_goes_with_its_loader(cache: None) -> None:
    session = botocore.session.get_session()  # a loader of its own: its documents are its own
    made = session.create_client("sts", region_name="us-east-1", aws_access_key_id="testing",
                                 aws_secret_access_key="testing")
    model_id = id(made.meta.service_model)
    assert model_id in client_cache._by_model

    del made, session
    gc.collect()

    assert model_id not in client_cache._by_model


def test_a_world_makes_and_answers_with_cached_clients() -> None:
    with World() as world:
        dynamodb = world.client("dynamodb")
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        other = boto3.client("dynamodb")
        other.put_item(TableName="t", Item={"k": {"S": "a"}})

        assert type(other) is type(dynamodb)
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"] == {"k": {"S": "a"}}


def test_a_response_parser_is_made_once_per_protocol_and_defaults(cache: None) -> None:
    factory = parsers.ResponseParserFactory()
    first, again = factory.create_parser("json"), factory.create_parser("json")
    other_protocol = factory.create_parser("query")
    factory.set_parser_defaults(timestamp_parser=str)
    with_new_defaults = factory.create_parser("json")

    assert first is again and other_protocol is not first
    assert with_new_defaults is not first and with_new_defaults._timestamp_parser is str
    assert parsers.ResponseParserFactory().create_parser("json") is not first  # per factory


def test_a_parser_reused_across_responses_parses_each_as_a_new_one_would(cache: None) -> None:
    with World() as world:
        ec2 = world.client("ec2")
        answers = [ec2.describe_regions(RegionNames=[region])["Regions"] for region in ("us-east-1", "eu-west-1")]

    assert [[region["RegionName"] for region in answer] for answer in answers] == [["us-east-1"], ["eu-west-1"]]
