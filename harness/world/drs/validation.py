"""One walker over botocore shapes that checks a request or response dict against DRS's own service model."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import botocore.session
from botocore.model import ServiceModel, Shape


@dataclass(frozen=True)
class FieldProblem:
    """One member that does not fit its shape; `name` is a dotted path such as filters.sourceServerIDs[3]."""

    name: str
    message: str


@lru_cache(maxsize=1)
def drs_service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("drs")


def validate(shape: Shape, value: Any, path: str = "") -> list[FieldProblem]:
    """Every way `value` breaks `shape` (required members, types, enums, lengths, ranges, patterns)."""
    checker = _CHECKERS.get(shape.type_name, _check_anything)
    return checker(shape, value, path)


def _where(path: str) -> str:
    return path or "<root>"


def _check_structure(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    if not isinstance(value, dict):
        return [FieldProblem(_where(path), "must be an object")]
    problems = [
        FieldProblem(_join(path, name), "is required")
        for name in _required(shape)
        if value.get(name) is None
    ]
    for name, member_value in value.items():
        member = shape.members.get(name)
        if member is None:
            problems.append(FieldProblem(_join(path, name), "is not a member of " + shape.name))
        elif member_value is not None and not _fits(member, member_value):
            problems.extend(validate(member, member_value, _join(path, name)))
    return problems


def _check_list(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    if not isinstance(value, list):
        return [FieldProblem(_where(path), "must be a list")]
    problems = _check_size(shape, len(value), path, "items")
    for index, item in enumerate(value):
        if not _fits(shape.member, item):
            problems.extend(validate(shape.member, item, f"{path}[{index}]"))
    return problems


def _check_map(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    if not isinstance(value, dict):
        return [FieldProblem(_where(path), "must be a map")]
    problems = _check_size(shape, len(value), path, "entries")
    for key, item in value.items():
        problems.extend(validate(shape.key, key, f"{path}<key {key!r}>"))
        problems.extend(validate(shape.value, item, f"{path}[{key!r}]"))
    return problems


def _check_string(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    if not isinstance(value, str):
        return [FieldProblem(_where(path), "must be a string")]
    enum, _, _, pattern = _string_rules(shape)
    if enum is not None and value not in enum:
        return [FieldProblem(_where(path), f"must be one of {', '.join(shape.enum)}")]
    problems = _check_size(shape, len(value), path, "characters")
    # Patterns are checked on the whole value: DRS ids are fixed-format tokens, not substrings.
    if pattern is not None and pattern.fullmatch(value) is None:
        problems.append(FieldProblem(_where(path), f"must match pattern {pattern.pattern}"))
    return problems


def _fits(shape: Shape, value: Any) -> bool:
    """Whether a member is a string or boolean its shape accepts, decided without building its path or a list (a
    500-server answer has 30,000 strings); False sends it, and every other kind, to the full check."""
    kind = shape.type_name
    if kind == "string" and type(value) is str:
        enum, low, high, pattern = _string_rules(shape)
        return ((enum is None or value in enum) and low <= len(value) <= high
                and (pattern is None or pattern.fullmatch(value) is not None))
    return kind == "boolean" and type(value) is bool


@lru_cache(maxsize=None)  # shapes of the one service model, kept for the process: asked once each
def _string_rules(shape: Shape) -> tuple[frozenset[str] | None, float, float, re.Pattern[str] | None]:
    """A string shape's enum, length bounds (open ends infinite) and compiled pattern."""
    low, high, pattern = (shape.metadata.get(key) for key in ("min", "max", "pattern"))
    return (frozenset(shape.enum) if shape.enum else None, -math.inf if low is None else low,
            math.inf if high is None else high, re.compile(pattern) if pattern else None)


@lru_cache(maxsize=None)
def _required(shape: Shape) -> tuple[str, ...]:
    return tuple(shape.required_members)


def _check_integer(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldProblem(_where(path), "must be an integer")]
    return _check_bounds(shape, value, path, "")


def _check_boolean(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    return [] if isinstance(value, bool) else [FieldProblem(_where(path), "must be a boolean")]


def _check_anything(shape: Shape, value: Any, path: str) -> list[FieldProblem]:
    return []


def _check_size(shape: Shape, size: int, path: str, unit: str) -> list[FieldProblem]:
    return _check_bounds(shape, size, path, f" {unit}")


def _check_bounds(shape: Shape, amount: int, path: str, unit: str) -> list[FieldProblem]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and amount < low:
        return [FieldProblem(_where(path), f"must have at least {low}{unit}" if unit else f"must be >= {low}")]
    if high is not None and amount > high:
        return [FieldProblem(_where(path), f"must have at most {high}{unit}" if unit else f"must be <= {high}")]
    return []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_CHECKERS: dict[str, Callable[[Shape, Any, str], list[FieldProblem]]] = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "boolean": _check_boolean,
}
