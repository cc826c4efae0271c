"""Choice state rules: every comparison operator, the Is* tests, And/Or/Not, and which Next a Choice state takes."""

from __future__ import annotations

import operator
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from drs_parity.world.stepfunctions.errors import NO_CHOICE_MATCHED, RUNTIME, StatesError
from drs_parity.world.stepfunctions.jsonpath import PathNotFound, read_path

Compare = Callable[[Any, Any], bool]
_ORDER: dict[str, Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
# RFC 3339 as ASL requires it: an uppercase T, and an uppercase Z when there is no numeric offset
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """An ASL timestamp as an aware datetime (microseconds kept, finer digits dropped), or None if it is not one."""
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=_zone(match.group(8)))
    except ValueError:
        return None


def _zone(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _string_key(value: Any) -> bytes | None:
    # Step Functions orders strings as Java does, by UTF-16 code units; big-endian bytes sort the same way
    return value.encode("utf-16-be", "surrogatepass") if isinstance(value, str) else None


def _number_key(value: Any) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _boolean_key(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# Each family turns a value into something comparable, or None when the value is not of the family's type
# (then the comparison is simply false, as on AWS).
_FAMILIES: dict[str, Callable[[Any], Any]] = {
    "String": _string_key,
    "Numeric": _number_key,
    "Timestamp": parse_timestamp,
    "Boolean": _boolean_key,
}


def _comparisons() -> dict[str, tuple[Callable[[Any], Any], Compare, bool]]:
    table: dict[str, tuple[Callable[[Any], Any], Compare, bool]] = {}
    for family, key in _FAMILIES.items():
        for name, compare in _ORDER.items():
            if family == "Boolean" and name != "Equals":
                continue
            table[family + name] = (key, compare, False)
            table[family + name + "Path"] = (key, compare, True)
    return table


COMPARISONS = _comparisons()

IS_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": lambda value: _number_key(value) is not None,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: parse_timestamp(value) is not None,
}

OPERATORS = frozenset(COMPARISONS) | frozenset(IS_TESTS) | {"IsPresent", "StringMatches"}


def choose(state: Mapping[str, Any], data: Any, context: Mapping[str, Any] | None = None) -> str:
    """The Next of the first Choices rule that matches, else Default; neither is States.NoChoiceMatched."""
    for rule in state.get("Choices", []):
        if evaluate_rule(rule, data, context):
            return rule["Next"]
    default = state.get("Default")
    if default is None:
        raise StatesError(NO_CHOICE_MATCHED, "No Choice rule matched the input and the state has no Default")
    return default


def evaluate_rule(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any] | None = None) -> bool:
    """Whether one rule (a comparison or And/Or/Not of rules) holds; And/Or stop at the first rule that decides."""
    if "And" in rule:
        return all(evaluate_rule(inner, data, context) for inner in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(inner, data, context) for inner in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context)
    return _comparison(rule, data, context)


def _comparison(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any] | None) -> bool:
    name = _operator(rule)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise StatesError(RUNTIME, f"The choice rule with {name} has no Variable path")
    expected = rule[name]
    if name == "IsPresent":
        return _is_present(variable, data, context) == expected
    value = _condition_value(variable, data, context)
    if name in IS_TESTS:
        return IS_TESTS[name](value) == expected
    if name == "StringMatches":
        return isinstance(value, str) and isinstance(expected, str) and matches(value, expected)
    key, compare, by_path = COMPARISONS[name]
    if by_path:
        expected = _condition_value(expected, data, context)
    left, right = key(value), key(expected)
    return left is not None and right is not None and compare(left, right)


def _operator(rule: Mapping[str, Any]) -> str:
    names = [key for key in rule if key in OPERATORS]
    if len(names) != 1:
        unknown = sorted(set(rule) - {"Variable", "Next", "Comment"})
        raise StatesError(RUNTIME, f"A choice rule needs exactly one comparison operator, found {unknown}")
    return names[0]


def _is_present(variable: str, data: Any, context: Mapping[str, Any] | None) -> bool:
    try:
        read_path(variable, data, context)
    except PathNotFound:
        return False
    return True


def _condition_value(path: Any, data: Any, context: Mapping[str, Any] | None) -> Any:
    try:
        return read_path(path, data, context)
    except PathNotFound:
        raise StatesError(
            RUNTIME, f"Invalid path '{path}': The choice state's condition path references an invalid value."
        ) from None


def matches(value: str, pattern: str) -> bool:
    """StringMatches: `*` is any run of characters; `\\*` a literal star and `\\\\` a literal backslash."""
    return _pattern(pattern).fullmatch(value) is not None


def _pattern(pattern: str) -> re.Pattern[str]:
    pieces, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            pieces.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        pieces.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(pieces), re.DOTALL)
