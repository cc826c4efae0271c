"""moto's XML answers written by the fast writer are xmltodict's text, byte for byte; anything else is xmltodict's."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import boto3
import pytest
import xmltodict
from botocore.exceptions import ClientError
from moto.core import serialize

from drs_parity.world import fast_xml
from drs_parity.world.fast_xml import MotoXmltodict, Unsupported, xml_text
from drs_parity.world.world import World
from tests.harness.world.ec2_answers import SPECIAL, ec2_operations

FLAGS = [(True, True), (True, False), (False, True), (False, False)]  # full_document, short_empty_elements

BODIES: list[dict[str, Any]] = [
    {"R": {"@xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": "r-1", "item": [{"a": "1"}, {"a": ""}]}},
    {"R": {"text": SPECIAL, "@attr": SPECIAL, "@quote": "say \"hi\"", "@both": "'\"", "@none": None, "@n": 3}},
    {"R": {"empty": [], "none": None, "blank": "", "zero": 0, "no": False, "yes": True, "pi": 3.25, "big": 10**20}},
    {"R": {"set": {"item": [{"k": "x", "v": {"item": [{"deep": "1"}, None, "", "t"]}}]}, "tail": "z"}},
    {"R": {"#text": "text after children", "child": "c", "@a": "1"}},
    {"R": {"#text": None, "only": {}}, },
    {"R": {"#text": "", "@a": "x"}},
    {"R": {"tuple": ("a", "b"), "noTuple": (), "nested": [["x", "y"], ("z",)], "dictInList": [{}]}},
    {"R": "plain"},
    {"R": None},
    {"R": {"#text": 5}},
]
MANY_ROOTS = {"A": "1", "B": {"c": "2"}, "D": ["3", "4"]}


@pytest.mark.parametrize("full_document, short", FLAGS)
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_writer_gives_xmltodicts_text(body: dict[str, Any], full_document: bool, short: bool) -> None:
    expected = xmltodict.unparse(copy.deepcopy(body), full_document=full_document, short_empty_elements=short)
    assert xml_text(body, full_document, short) == expected


@pytest.mark.parametrize("short", [True, False])
def test_a_fragment_may_have_several_roots(short: bool) -> None:
    expected = xmltodict.unparse(MANY_ROOTS, full_document=False, short_empty_elements=short)
    assert xml_text(MANY_ROOTS, False, short) == expected


UNVOUCHED = {  # dicts xmltodict writes by rules of its own; each made afresh (a generator is read once)
    "comment": lambda: {"R": {"#comment": "note", "a": "1"}},
    "bytes": lambda: {"R": {"a": b"\xffbytes"}},
    "set": lambda: {"R": {"a": {"x", "y"}}},
    "generator": lambda: {"R": {"a": (letter for letter in "xy")}},
    "xmlns-map": lambda: {"R": {"@xmlns": {"p": "urn:p"}, "a": "1"}},
    "root-list": lambda: {"R": ["1"]},
}


@pytest.mark.parametrize("make", UNVOUCHED.values(), ids=UNVOUCHED.keys())
def test_what_the_writer_does_not_vouch_for_is_xmltodicts_text(make: Any) -> None:
    body = make()
    with pytest.raises(Unsupported):
        xml_text(body, True, True)
    assert MotoXmltodict(xmltodict).unparse(body, short_empty_elements=True) == xmltodict.unparse(
        make(), short_empty_elements=True)


@pytest.mark.parametrize("options", [{"pretty": True}, {"encoding": "latin-1"}, {"attr_prefix": "$"}])
def test_options_the_writer_does_not_follow_are_xmltodicts(options: dict[str, Any]) -> None:
    body = {"R": {"a": "1", "b": {"c": "", "$d": "2"}}}
    assert MotoXmltodict(xmltodict).unparse(body, **options) == xmltodict.unparse(body, **options)


@pytest.mark.parametrize("body", [
    {"bad name": "x"}, {"R": {"a/b": "x"}}, {"R": {"@a=b": "x"}}, {"?pi": "x"}, {"R": {1: "x"}}, {"A": "1", "B": "2"},
    {},
], ids=["space", "slash", "attribute", "question", "number", "two-roots", "no-root"])
def test_what_xmltodict_refuses_it_still_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as by_xmltodict:
        xmltodict.unparse(copy.deepcopy(body))
    with pytest.raises(ValueError) as by_stand_in:
        MotoXmltodict(xmltodict).unparse(body)
    assert str(by_stand_in.value) == str(by_xmltodict.value)


class Comparing(MotoXmltodict):
    """The stand-in, checking each text it writes against xmltodict's for the same dict."""

    def __init__(self) -> None:
        super().__init__(xmltodict)
        self.compared: list[tuple[str, str]] = []  # (fast text, xmltodict's)

    def unparse(self, input_dict: Any, *args: Any, **options: Any) -> Any:
        expected = xmltodict.unparse(copy.deepcopy(input_dict), *args, **options)
        self.compared.append((super().unparse(input_dict, *args, **options), expected))
        return self.compared[-1][0]


@pytest.fixture
def comparing() -> Iterator[Comparing]:
    with World("moto"):
        assert isinstance(serialize.xmltodict, MotoXmltodict)
        stand_in = serialize.xmltodict = Comparing()  # the world's stop puts moto's own xmltodict back
        yield stand_in


def test_moto_answers_are_xmltodicts_text_and_take_the_fast_path(comparing: Comparing,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    xmltodict_calls: list[int] = []
    real_unparse = xmltodict.unparse
    monkeypatch.setattr(comparing, "_module", type("Counting", (), {"unparse": staticmethod(
        lambda *args, **kwargs: xmltodict_calls.append(1) or real_unparse(*args, **kwargs))})())

    codes = ec2_operations(boto3.client("ec2", region_name="us-east-1"))
    iam = boto3.client("iam")  # the query protocol's serialiser
    iam.create_role(RoleName="r&<>", AssumeRolePolicyDocument='{"Statement": []}', Description=SPECIAL)
    iam.get_role(RoleName="r&<>")
    with pytest.raises(ClientError):
        iam.get_role(RoleName="missing")
    compared_before_s3 = len(comparing.compared)
    s3 = boto3.client("s3", region_name="us-east-1")  # rest-xml: long empty elements
    s3.create_bucket(Bucket="b-1")
    s3.put_bucket_tagging(Bucket="b-1", Tagging={"TagSet": [{"Key": "k", "Value": SPECIAL}]})
    s3.get_bucket_tagging(Bucket="b-1")
    s3.list_buckets()

    assert codes == ["InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound"]
    assert len(comparing.compared) >= 14 and len(comparing.compared) > compared_before_s3
    assert [fast for fast, expected in comparing.compared if fast != expected] == []
    assert any("&amp;" in fast and "&lt;" in fast and "✓" in fast for fast, _ in comparing.compared)
    assert xmltodict_calls == []  # every answer was written by the fast writer


def test_the_writer_lasts_while_a_moto_world_runs() -> None:
    assert serialize.xmltodict is xmltodict
    with World("moto"):
        assert isinstance(serialize.xmltodict, MotoXmltodict)
        undo = fast_xml.install_fast_xml()  # a second user: its undo leaves the first world's writer in place
        undo()
        undo()  # an undo called twice counts once
        assert isinstance(serialize.xmltodict, MotoXmltodict)
        assert serialize.xmltodict.parse("<a>1</a>") == {"a": "1"}  # the rest of xmltodict is xmltodict's
    assert serialize.xmltodict is xmltodict
