"""The States.* intrinsic functions: their arguments, results and the failures AWS reports for them."""

from __future__ import annotations

import hashlib
import random
import uuid
from typing import Any

import pytest

from drs_parity.world.stepfunctions.errors import StatesError
from drs_parity.world.stepfunctions.intrinsics import evaluate_intrinsic, is_intrinsic, parse_intrinsic

DATA: dict[str, Any] = {
    "name": "Arnav",
    "template": "Hello, my name is {}.",
    "items": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    "dupes": [1, 2, 3, 3, 3, 1, "1", True, {"a": 1}, {"a": 1}],
    "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
    "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
    "escaped": '{"foo": "bar"}',
    "csv": "1,2,3,4,5",
    "index": 5,
    "nothing": None,
}


def run(expression: str, data: Any = None, **kwargs: Any) -> Any:
    return evaluate_intrinsic(expression, DATA if data is None else data, **kwargs)


def failure(expression: str, data: Any = None) -> StatesError:
    with pytest.raises(StatesError) as raised:
        run(expression, data)
    return raised.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('x')", True),
        ("  States.UUID()  ", True),
        ("States.Array($.a, States.Array(1))", True),
        ("$.a", False),
        ("States.Format", False),
        ("Format('x')", False),
        (3, False),
    ],
)
def test_is_intrinsic_recognises_a_call(text: Any, expected: bool) -> None:
    assert is_intrinsic(text) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Format('Hello, my name is {}.', $.name)", "Hello, my name is Arnav."),
        ("States.Format($.template, $.name)", "Hello, my name is Arnav."),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('{}-{}-{}', 1, 2.5, true)", "1-2.5-true"),
        ("States.Format('{} {}', null, $.nothing)", "null null"),
        ("States.Format('{}', $.json1)", "{a={a1=1, a2=2}, b=2}"),
        ("States.Format('{}', $.items[0:2])", "[1, 2]"),
        (r"States.Format('it\'s \{\} {} \\', $.name)", "it's {} Arnav \\"),
        ("States.Format('{}', States.Format('<{}>', $.name))", "<Arnav>"),
    ],
)
def test_format_fills_each_placeholder_in_order(expression: str, expected: str) -> None:
    assert run(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('{} {}', $.name)",
        "States.Format('{}')",
        "States.Format('x', 1)",
        "States.Format($.items)",
        "States.Format()",
    ],
)
def test_format_with_the_wrong_number_of_values_or_a_non_string_template_fails(expression: str) -> None:
    assert failure(expression).error == "States.IntrinsicFailure"


def test_string_to_json_and_back() -> None:
    assert run("States.StringToJson($.escaped)") == {"foo": "bar"}
    assert run("States.StringToJson('[1, 2]')") == [1, 2]
    assert run("States.StringToJson('')") is None
    assert run("States.JsonToString($.json1)") == '{"a":{"a1":1,"a2":2},"b":2}'
    assert run("States.JsonToString($.name)") == '"Arnav"'
    assert run("States.StringToJson(States.JsonToString($.json2))") == DATA["json2"]


@pytest.mark.parametrize(
    "expression", ["States.StringToJson('not json')", "States.StringToJson($.json1)", "States.JsonToString()"]
)
def test_json_conversion_failures(expression: str) -> None:
    assert failure(expression).error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Array()", []),
        ("States.Array($.index)", [5]),
        (
            "States.Array('a', 1, -2.5, true, false, null, $.json2.c, States.Array(1))",
            ["a", 1, -2.5, True, False, None, 3, [1]],
        ),
        ("States.ArrayPartition($.items, 4)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition($.items, 3.6)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition(States.Array(), 2)", []),
        ("States.ArrayContains($.items, $.index)", True),
        ("States.ArrayContains($.items, 10)", False),
        ("States.ArrayContains($.dupes, $.json1)", False),
        ("States.ArrayContains($.dupes, States.StringToJson('{\"a\": 1}'))", True),
        ("States.ArrayContains(States.Array(1), true)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(1, 10, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayRange(1.4, 2.5, 1)", [1, 2, 3]),
        ("States.ArrayRange(3, 1, 1)", []),
        ("States.ArrayGetItem($.items, $.index)", 6),
        ("States.ArrayGetItem($.items, 0)", 1),
        ("States.ArrayGetItem($.items, 8.0)", 9),
        ("States.ArrayLength($.items)", 9),
        ("States.ArrayLength(States.Array())", 0),
        ("States.ArrayUnique($.dupes)", [1, 2, 3, "1", True, {"a": 1}]),
    ],
)
def test_array_functions(expression: str, expected: Any) -> None:
    assert run(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "States.ArrayPartition($.items, 0)",
        "States.ArrayPartition($.name, 2)",
        "States.ArrayPartition($.items, '2')",
        "States.ArrayPartition($.items)",
        "States.ArrayContains($.name, 'A')",
        "States.ArrayRange(1, 9, 0)",
        "States.ArrayRange(1, 2000, 1)",
        "States.ArrayRange(1, 'x', 1)",
        "States.ArrayGetItem($.items, 9)",
        "States.ArrayGetItem($.items, -1)",
        "States.ArrayGetItem($.items, 1.5)",
        "States.ArrayGetItem($.items, true)",
        "States.ArrayLength($.json1)",
        "States.ArrayUnique('abc')",
    ],
)
def test_array_function_failures(expression: str) -> None:
    assert failure(expression).error == "States.IntrinsicFailure"


def test_base64_round_trips_and_checks_its_input() -> None:
    assert run("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    assert run("States.Base64Decode(States.Base64Encode('héllo'))") == "héllo"
    assert failure("States.Base64Decode('not base64!')").error == "States.IntrinsicFailure"
    assert failure("States.Base64Encode($.items)").error == "States.IntrinsicFailure"
    assert "at most 10000" in failure("States.Base64Encode($.big)", {"big": "x" * 10_001}).cause


@pytest.mark.parametrize(
    ("algorithm", "library"),
    [("MD5", "md5"), ("SHA-1", "sha1"), ("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512")],
)
def test_hash_uses_the_named_algorithm(algorithm: str, library: str) -> None:
    assert run(f"States.Hash($.name, '{algorithm}')") == hashlib.new(library, b"Arnav").hexdigest()


def test_hash_matches_the_aws_documentation_and_rejects_unknown_algorithms() -> None:
    # the documentation prints this digest with one digit dropped ("...d18d7485e8..."); this is the full SHA-1
    assert run("States.Hash('input data', 'SHA-1')") == "aaff4a450a104cd177d28d18d74485e8cae074b7"
    assert "unknown algorithm 'SHA-2'" in failure("States.Hash($.name, 'SHA-2')").cause
    assert failure("States.Hash($.items, 'MD5')").error == "States.IntrinsicFailure"


def test_json_merge_is_shallow_only() -> None:
    assert run("States.JsonMerge($.json1, $.json2, false)") == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}
    assert "shallow" in failure("States.JsonMerge($.json1, $.json2, true)").cause
    assert failure("States.JsonMerge($.json1, $.items, false)").error == "States.IntrinsicFailure"
    assert failure("States.JsonMerge($.json1, $.json2)").error == "States.IntrinsicFailure"
    assert DATA["json1"] == {"a": {"a1": 1, "a2": 2}, "b": 2}  # the inputs are not changed


def test_math_random_is_in_range_and_reproducible() -> None:
    values = [run("States.MathRandom(1, 4)", rng=random.Random(seed)) for seed in range(50)]
    assert set(values) == {1, 2, 3}  # the end is exclusive
    expression = "States.MathRandom(1, 999)"
    assert run(expression, rng=random.Random(3)) == run(expression, rng=random.Random(3))
    # with a seed argument the answer depends on the seed alone
    assert run("States.MathRandom(1, 1000000, 42)", rng=random.Random(1)) == run(
        "States.MathRandom(1, 1000000, 42)", rng=random.Random(2)
    )
    assert failure("States.MathRandom(5, 5)").error == "States.IntrinsicFailure"
    assert failure("States.MathRandom(1)").error == "States.IntrinsicFailure"


def test_math_add_rounds_and_stays_in_java_int_range() -> None:
    assert run("States.MathAdd(111, -1)") == 110
    assert run("States.MathAdd($.index, 2.5)") == 8  # 2.5 rounds half up to 3
    assert run("States.MathAdd(-2.5, 0)") == -2
    assert failure("States.MathAdd(2147483647, 1)").error == "States.IntrinsicFailure"
    assert failure("States.MathAdd('1', 1)").error == "States.IntrinsicFailure"
    assert failure("States.MathAdd(true, 1)").error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.StringSplit($.csv, ',')", ["1", "2", "3", "4", "5"]),
        ("States.StringSplit('This.is+a,test=string', '.+,=')", ["This", "is", "a", "test", "string"]),
        ("States.StringSplit('a,,b,', ',')", ["a", "b"]),
        ("States.StringSplit('', ',')", []),
        ("States.StringSplit('abc', '')", ["abc"]),
        (
            "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 0)",
            "img",
        ),
    ],
)
def test_string_split(expression: str, expected: list[str]) -> None:
    assert run(expression, {**DATA, "arn": "arn:aws:x/img.v1/2"}) == expected


def test_uuid_is_a_v4_uuid_from_the_random_source() -> None:
    first = run("States.UUID()", rng=random.Random(1))
    assert uuid.UUID(first).version == 4
    assert first == run("States.UUID()", rng=random.Random(1))
    assert first != run("States.UUID()", rng=random.Random(2))
    assert run("States.UUID()") != run("States.UUID()")  # the default source moves on
    assert failure("States.UUID(1)").error == "States.IntrinsicFailure"


def test_paths_read_data_and_the_context_object() -> None:
    context = {"Execution": {"Name": "exec-1"}}
    assert run("States.Format('{}/{}', $$.Execution.Name, $['name'])", context=context) == "exec-1/Arnav"
    assert run("States.Array($)", {"a": 1}) == [{"a": 1}]
    assert run("States.Array($.items[?(@ > 7)])") == [[8, 9]]


def test_results_never_alias_the_input() -> None:
    data = {"obj": {"k": [1]}}
    result = run("States.Array($.obj)", data)
    result[0]["k"].append(2)
    assert data == {"obj": {"k": [1]}}


def test_a_missing_path_argument_is_a_runtime_error() -> None:
    error = failure("States.Array($.gone)")
    assert (error.error, error.cause) == ("States.Runtime", "Invalid path '$.gone' : No results for path: $['gone']")


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("States.Nope(1)", "States.Nope is not an intrinsic function"),
        ("States.Format('a\\b')", "open escape backslash"),
        ("States.Format('open)", "a string is not closed"),
        ("States.Array(1", "expected ',' or ')'"),
        ("States.Array(1,)", "unexpected argument ''"),
        ("States.Array(nope)", "unexpected argument 'nope'"),
        ("States.Array(1) extra", "unexpected text"),
        ("Array(1)", "expected States.<Function>("),
    ],
)
def test_malformed_calls_are_intrinsic_failures(expression: str, why: str) -> None:
    error = failure(expression)
    assert error.error == "States.IntrinsicFailure" and why in error.cause


def test_parsing_keeps_the_structure_of_nested_calls() -> None:
    call = parse_intrinsic("States.Format('{}', States.Array($.a[0], 'x'), -1.5e2)")
    assert call.name == "Format" and len(call.args) == 3
    assert call.args[1].name == "Array"  # type: ignore[union-attr]
    assert call.args[2].value == -150.0  # type: ignore[union-attr]
