"""Readable paths of the normalised form (`tables.t[<key>].field`), and volatile paths' values made markers."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from drs_parity.compare.divergence import glob_regex
from drs_parity.compare.transformers import VolatilePath


def is_record_key(kind: str, parts: list[Any], position: int, list_keys: Iterable[str]) -> bool:
    """Whether the path element at `position` is a record key (rendered in brackets) rather than a field name."""
    if isinstance(parts[position], int):
        return True
    if position == 0:
        return kind != "tables"  # api requests, call operations and log messages are record keys; table names are not
    if kind == "tables" and position == 1:
        return True
    return parts[position - 1] in list_keys and not isinstance(parts[position - 1], int)


def segment(kind: str, parts: list[Any], list_keys: Iterable[str]) -> str:
    """The last element of `parts` as it reads in a path: `[key]` or `.field`."""
    part = parts[-1]
    return f"[{part}]" if is_record_key(kind, parts, len(parts) - 1, list_keys) else f".{part}"


def readable_path(kind: str, parts: list[Any], list_keys: Iterable[str]) -> str:
    """deepdiff's path list -> `tables.execution-history[<executionId:1>].waves[1].serverStatuses[s-1].serverName`."""
    keys = set(list_keys)
    text = kind
    for position, part in enumerate(parts):
        text += f"[{part}]" if is_record_key(kind, parts, position, keys) else f".{part}"
    return text


class VolatileMatcher:
    """The volatile paths of a run, compiled; `marker_for(path)` is the marker of the first that matches."""

    def __init__(self, paths: Iterable[VolatilePath]) -> None:
        self.compiled: list[tuple[re.Pattern[str], str]] = [(glob_regex(entry.path), entry.marker)
                                                            for entry in paths]

    def marker_for(self, path: str) -> str | None:
        for regex, marker in self.compiled:
            if regex.match(path):
                return marker
        return None


def volatile_applied(step: Mapping[str, Any], matcher: VolatileMatcher, kinds: Iterable[str],
                     list_keys: Iterable[str]) -> dict[str, Any]:
    """The normalised step with every value whose readable path a volatile path matches replaced by its marker
    (the whole value, so a matched record or list is one marker too)."""
    keys = frozenset(list_keys)
    result = dict(step)
    for kind in kinds:
        if kind in step:
            result[kind] = marked(step[kind], kind, [], kind, matcher, keys)
    return result


def marked(value: Any, kind: str, parts: list[Any], path: str, matcher: VolatileMatcher,
           list_keys: frozenset[str]) -> Any:
    """`value` (at `parts`, reading `path`) with the values at volatile paths replaced."""
    marker = matcher.marker_for(path) if parts else None
    if marker is not None:
        return marker
    if isinstance(value, dict):
        children = ((key, parts + [key]) for key in value)
        return {key: marked(value[key], kind, at, path + segment(kind, at, list_keys), matcher, list_keys)
                for key, at in children}
    if isinstance(value, list):
        children = ((index, parts + [index]) for index in range(len(value)))
        return [marked(value[index], kind, at, path + segment(kind, at, list_keys), matcher, list_keys)
                for index, at in children]
    return value
