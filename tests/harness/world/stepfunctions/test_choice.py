"""Choice rules: each comparison operator and its Path form, the Is* tests, And/Or/Not, and the Next taken."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from drs_parity.world.stepfunctions.choice import choose, evaluate_rule, matches, parse_timestamp
from drs_parity.world.stepfunctions.errors import StatesError

DATA: dict[str, Any] = {
    "status": "POLLING",
    "other": "PENDING",
    "count": 3,
    "limit": 3.0,
    "ratio": 0.5,
    "done": True,
    "when": "2026-01-15T10:00:00Z",
    "later": "2026-01-15T11:30:00+01:00",  # the same instant as 10:30Z
    "nothing": None,
    "list": [1, 2],
    "obj": {"a": 1},
    "emoji": "\U0001f600",
    "ideograph": "\uff21",
}


def holds(rule: dict[str, Any], data: Any = None) -> bool:
    return evaluate_rule(rule, DATA if data is None else data)


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringEquals", "POLLING", True),
        ("StringEquals", "polling", False),
        ("StringLessThan", "Q", True),
        ("StringLessThan", "POLLING", False),
        ("StringLessThanEquals", "POLLING", True),
        ("StringGreaterThan", "PAUSED", True),
        ("StringGreaterThan", "POLLING", False),
        ("StringGreaterThanEquals", "POLLING", True),
        ("StringGreaterThanEquals", "Z", False),
    ],
)
def test_string_comparisons(operator: str, value: str, expected: bool) -> None:
    assert holds({"Variable": "$.status", operator: value}) is expected


def test_strings_order_by_utf16_code_units_as_java_does() -> None:
    # U+1F600 is a surrogate pair starting 0xD83D, which sorts before U+FF21 in UTF-16 (not in code points)
    assert holds({"Variable": "$.emoji", "StringLessThanPath": "$.ideograph"}) is True


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("NumericEquals", 3, True),
        ("NumericEquals", 3.0, True),
        ("NumericEquals", 4, False),
        ("NumericLessThan", 3.5, True),
        ("NumericLessThan", 3, False),
        ("NumericLessThanEquals", 3, True),
        ("NumericGreaterThan", 2, True),
        ("NumericGreaterThan", 3, False),
        ("NumericGreaterThanEquals", 3, True),
        ("NumericGreaterThanEquals", 3.01, False),
    ],
)
def test_numeric_comparisons(operator: str, value: float, expected: bool) -> None:
    assert holds({"Variable": "$.count", operator: value}) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("TimestampEquals", "2026-01-15T10:00:00Z", True),
        ("TimestampEquals", "2026-01-15T11:00:00+01:00", True),
        ("TimestampEquals", "2026-01-15T10:00:00.000Z", True),
        ("TimestampLessThan", "2026-01-15T10:00:00.001Z", True),
        ("TimestampLessThan", "2026-01-15T10:00:00Z", False),
        ("TimestampLessThanEquals", "2026-01-15T10:00:00Z", True),
        ("TimestampGreaterThan", "2026-01-15T09:59:59Z", True),
        ("TimestampGreaterThan", "2026-01-15T10:00:00-01:00", False),
        ("TimestampGreaterThanEquals", "2026-01-15T10:00:00Z", True),
        ("TimestampEquals", "2026-01-15 10:00:00Z", False),  # not RFC 3339: never equal
    ],
)
def test_timestamp_comparisons_compare_instants(operator: str, value: str, expected: bool) -> None:
    assert holds({"Variable": "$.when", operator: value}) is expected


def test_boolean_equals() -> None:
    assert holds({"Variable": "$.done", "BooleanEquals": True}) is True
    assert holds({"Variable": "$.done", "BooleanEquals": False}) is False
    assert holds({"Variable": "$.count", "BooleanEquals": True}) is False  # 3 is not a boolean
    assert holds({"Variable": "$.done", "BooleanEqualsPath": "$.done"}) is True


@pytest.mark.parametrize(
    ("operator", "path", "expected"),
    [
        ("StringEqualsPath", "$.status", True),
        ("StringEqualsPath", "$.other", False),
        ("StringGreaterThanPath", "$.other", True),
        ("StringLessThanPath", "$.other", False),
        ("StringLessThanEqualsPath", "$.status", True),
        ("StringGreaterThanEqualsPath", "$.other", True),
    ],
)
def test_string_path_comparisons_read_the_other_operand(operator: str, path: str, expected: bool) -> None:
    assert holds({"Variable": "$.status", operator: path}) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("NumericEqualsPath", True),
        ("NumericLessThanPath", False),
        ("NumericLessThanEqualsPath", True),
        ("NumericGreaterThanPath", False),
        ("NumericGreaterThanEqualsPath", True),
    ],
)
def test_numeric_path_comparisons(operator: str, expected: bool) -> None:
    assert holds({"Variable": "$.count", operator: "$.limit"}) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("TimestampEqualsPath", False),
        ("TimestampLessThanPath", True),
        ("TimestampLessThanEqualsPath", True),
        ("TimestampGreaterThanPath", False),
        ("TimestampGreaterThanEqualsPath", False),
    ],
)
def test_timestamp_path_comparisons(operator: str, expected: bool) -> None:
    assert holds({"Variable": "$.when", operator: "$.later"}) is expected


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.count", "StringEquals": "3"},
        {"Variable": "$.status", "NumericEquals": 3},
        {"Variable": "$.done", "NumericEquals": 1},
        {"Variable": "$.status", "TimestampLessThan": "2030-01-01T00:00:00Z"},
        {"Variable": "$.nothing", "StringEquals": "null"},
        {"Variable": "$.status", "StringEqualsPath": "$.count"},
        {"Variable": "$.count", "NumericEqualsPath": "$.done"},
        {"Variable": "$.list", "StringMatches": "*"},
    ],
)
def test_a_value_of_another_type_never_matches(rule: dict[str, Any]) -> None:
    assert holds(rule) is False


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2026.txt", "log-*.txt", True),
        ("log-.txt", "log-*.txt", True),
        ("log-2026.csv", "log-*.txt", False),
        ("anything", "*", True),
        ("a*b", r"a\*b", True),
        ("axb", r"a\*b", False),
        ("a\\b", r"a\\b", True),
        ("a.b", "a.b", True),
        ("axb", "a.b", False),  # regex characters are literal
        ("multi\nline", "multi*", True),
        ("ab", "a*b*", True),
        ("", "", True),
    ],
)
def test_string_matches_wildcards_and_escapes(value: str, pattern: str, expected: bool) -> None:
    assert matches(value, pattern) is expected
    assert holds({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("path", "operator", "true_for_present"),
    [
        ("$.nothing", "IsNull", True),
        ("$.status", "IsNull", False),
        ("$.count", "IsNumeric", True),
        ("$.ratio", "IsNumeric", True),
        ("$.done", "IsNumeric", False),
        ("$.status", "IsNumeric", False),
        ("$.status", "IsString", True),
        ("$.nothing", "IsString", False),
        ("$.done", "IsBoolean", True),
        ("$.count", "IsBoolean", False),
        ("$.when", "IsTimestamp", True),
        ("$.status", "IsTimestamp", False),
        ("$.count", "IsTimestamp", False),
        ("$.nothing", "IsPresent", True),
        ("$.obj.a", "IsPresent", True),
    ],
)
def test_is_tests_compare_with_their_boolean_operand(path: str, operator: str, true_for_present: bool) -> None:
    assert holds({"Variable": path, operator: True}) is true_for_present
    assert holds({"Variable": path, operator: False}) is (not true_for_present)


@pytest.mark.parametrize("path", ["$.gone", "$.obj.b", "$.status.deeper", "$.list[5]"])
def test_is_present_is_false_for_a_missing_variable(path: str) -> None:
    assert holds({"Variable": path, "IsPresent": True}) is False
    assert holds({"Variable": path, "IsPresent": False}) is True


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.gone", "StringEquals": "x"},
        {"Variable": "$.gone", "IsNull": True},
        {"Variable": "$.gone", "IsString": False},
        {"Variable": "$.gone", "StringMatches": "*"},
        {"Variable": "$.obj.b", "NumericEquals": 1},
        {"Variable": "$.status", "StringEqualsPath": "$.gone"},
    ],
)
def test_any_other_test_of_a_missing_path_is_a_runtime_error(rule: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as raised:
        holds(rule)
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause.endswith("The choice state's condition path references an invalid value.")
    assert "'$.gone'" in raised.value.cause or "'$.obj.b'" in raised.value.cause


def test_the_variable_can_read_the_context_object() -> None:
    context = {"Execution": {"Name": "drill-1"}}
    assert evaluate_rule({"Variable": "$$.Execution.Name", "StringMatches": "drill-*"}, {}, context) is True


def test_and_or_not_combine_rules_and_stop_when_decided() -> None:
    true_rule = {"Variable": "$.done", "BooleanEquals": True}
    false_rule = {"Variable": "$.done", "BooleanEquals": False}
    missing = {"Variable": "$.gone", "StringEquals": "x"}  # would raise if it were evaluated
    assert holds({"And": [true_rule, true_rule]}) is True
    assert holds({"And": [true_rule, false_rule]}) is False
    assert holds({"And": [false_rule, missing]}) is False
    assert holds({"Or": [false_rule, true_rule]}) is True
    assert holds({"Or": [false_rule, false_rule]}) is False
    assert holds({"Or": [true_rule, missing]}) is True
    assert holds({"Not": false_rule}) is True
    assert holds({"Not": {"Or": [false_rule, {"And": [true_rule, {"Not": false_rule}]}]}}) is False


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.status"},
        {"Variable": "$.status", "StringEquals": "x", "StringMatches": "x"},
        {"Variable": "$.status", "StringContains": "x"},
        {"StringEquals": "POLLING"},
    ],
)
def test_a_rule_without_exactly_one_operator_and_a_variable_is_a_runtime_error(rule: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as raised:
        holds(rule)
    assert raised.value.error == "States.Runtime"


CHOICE = {
    "Type": "Choice",
    "Choices": [
        {"Variable": "$.status", "StringEquals": "DONE", "Next": "Finish"},
        {
            "And": [{"Variable": "$.count", "NumericGreaterThan": 2}, {"Variable": "$.done", "IsBoolean": True}],
            "Next": "Poll",
        },
        {"Variable": "$.count", "NumericGreaterThan": 0, "Next": "NeverReached"},
    ],
    "Default": "Wait",
}


def test_choose_takes_the_first_matching_rule_else_the_default() -> None:
    assert choose(CHOICE, DATA) == "Poll"
    assert choose(CHOICE, {**DATA, "status": "DONE"}) == "Finish"
    assert choose(CHOICE, {**DATA, "done": "yes"}) == "NeverReached"
    assert choose(CHOICE, {**DATA, "done": "yes", "count": 0}) == "Wait"


def test_no_match_and_no_default_is_no_choice_matched() -> None:
    state = {key: value for key, value in CHOICE.items() if key != "Default"}
    with pytest.raises(StatesError) as raised:
        choose(state, {**DATA, "done": "yes", "count": 0})
    assert raised.value.error == "States.NoChoiceMatched"


def test_choose_propagates_a_missing_variable_error() -> None:
    with pytest.raises(StatesError) as raised:
        choose(CHOICE, {"count": 1})
    assert raised.value.error == "States.Runtime"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-15T10:00:00Z", datetime(2026, 1, 15, 10, tzinfo=timezone.utc)),
        ("2026-01-15T10:00:00.123456789Z", datetime(2026, 1, 15, 10, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2026-01-15T10:00:00.5+05:30", datetime(2026, 1, 15, 4, 30, 0, 500000, tzinfo=timezone.utc)),
        ("2026-01-15T10:00:00-08:00", datetime(2026, 1, 15, 18, tzinfo=timezone.utc)),
    ],
)
def test_parse_timestamp_reads_rfc3339(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-15t10:00:00Z",
        "2026-01-15T10:00:00z",
        "2026-01-15T10:00:00",
        "2026-13-01T00:00:00Z",
        "2026-01-15",
        1768471200,
        None,
    ],
)
def test_parse_timestamp_rejects_anything_else(text: Any) -> None:
    assert parse_timestamp(text) is None
