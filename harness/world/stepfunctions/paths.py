"""A state's data flow: InputPath and OutputPath (select), payload templates, ResultPath (write_result)."""

from __future__ import annotations

import copy
import random
from typing import Any, Callable, Mapping

from drs_parity.world.stepfunctions.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from drs_parity.world.stepfunctions.intrinsics import evaluate_intrinsic, is_intrinsic
from drs_parity.world.stepfunctions.jsonpath import PathNotFound, Token, parse_path, read_path, to_json

__all__ = ["NULL_PATH", "NullPath", "apply_parameters", "path_field", "read_path", "select", "write_result"]


class NullPath:
    """The JSON null a definition gives as InputPath, OutputPath or ResultPath (not the same as leaving it out)."""

    def __repr__(self) -> str:
        return "NULL_PATH"


NULL_PATH = NullPath()


def path_field(state: Mapping[str, Any], key: str) -> str | NullPath:
    """A state's InputPath/OutputPath/ResultPath for select and write_result: "$" when absent, NULL_PATH for null."""
    if key not in state:
        return "$"
    value = state[key]
    return NULL_PATH if value is None else value


def select(data: Any, path: str | NullPath | None, context: Mapping[str, Any] | None = None) -> Any:
    """InputPath/OutputPath: None (absent) or "$" keeps data, NULL_PATH (JSON null) gives {}, else the path's value."""
    if path is None or path == "$":
        return data
    if isinstance(path, NullPath):
        return {}
    return read_path(path, data, context)


def write_result(data: Any, result: Any, result_path: str | NullPath | None) -> Any:
    """ResultPath: "$" replaces data with result, None or NULL_PATH (JSON null) keeps data, `$.a.b` puts result there.

    Returns new data; the input is never changed (branches off the written path are shared, not copied).
    """
    if result_path is None or isinstance(result_path, NullPath):
        return data
    if result_path == "$":
        return result
    tokens = _reference_tokens(result_path, data)
    return _assign(data, tokens, result, lambda: _match_failure(result_path, data))


def _reference_tokens(result_path: str, data: Any) -> tuple[Token, ...]:
    # ResultPath takes a reference path: fields and single indexes only, never the context object
    try:
        parsed = parse_path(result_path)
    except StatesError:
        raise _match_failure(result_path, data) from None
    if parsed.context or not parsed.definite:
        raise _match_failure(result_path, data)
    return parsed.tokens


def _match_failure(result_path: str, data: Any) -> StatesError:
    cause = f"Unable to apply ReferencePath {result_path} to input {to_json(data)}"
    return StatesError(RESULT_PATH_MATCH_FAILURE, cause)


_ABSENT = object()


def _assign(node: Any, tokens: tuple[Token, ...], value: Any, failure: Callable[[], StatesError]) -> Any:
    if not tokens:
        return value
    token, rest = tokens[0], tokens[1:]
    if token.kind == "field":
        if node is _ABSENT:
            node = {}  # ResultPath creates the objects its path runs through
        if not isinstance(node, dict):
            raise failure()
        updated = dict(node)
        updated[token.name] = _assign(node.get(token.name, _ABSENT), rest, value, failure)
        return updated
    index = token.indexes[0]
    if not isinstance(node, list) or not -len(node) <= index < len(node):
        raise failure()
    updated_list = list(node)
    updated_list[index] = _assign(node[index], rest, value, failure)
    return updated_list


def apply_parameters(
    template: Any,
    data: Any,
    context: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> Any:
    """A payload template (Parameters, ResultSelector, ItemSelector) filled in: `key.$` takes a path or an intrinsic.

    Values read from data are copies, so the payload never aliases the state's input.
    """
    if isinstance(template, dict):
        return dict(_field(key, value, data, context, rng) for key, value in template.items())
    if isinstance(template, list):
        return [apply_parameters(item, data, context, rng) for item in template]
    return template


def _field(
    key: str, value: Any, data: Any, context: Mapping[str, Any] | None, rng: random.Random | None
) -> tuple[str, Any]:
    if not key.endswith(".$"):
        return key, apply_parameters(value, data, context, rng)
    if not isinstance(value, str):
        raise StatesError(RUNTIME, f"The value for the field '{key}' must be a STRING that contains a JSONPath")
    try:
        return key[:-2], _dynamic(key, value, data, context, rng)
    except PathNotFound as missing:
        raise StatesError(
            RUNTIME,
            f"The JSONPath '{missing.path}' specified for the field '{key}' "
            f"could not be found in the input '{to_json(missing.searched)}'",
        ) from None


def _dynamic(key: str, value: str, data: Any, context: Mapping[str, Any] | None, rng: random.Random | None) -> Any:
    text = value.strip()
    if text.startswith("$"):
        return copy.deepcopy(read_path(text, data, context))
    if is_intrinsic(text):
        return evaluate_intrinsic(text, data, context, rng=rng)
    cause = f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
    raise StatesError(RUNTIME, cause)
