"""The JSONPath subset Step Functions reads ($, $$, fields, indexes, *, slices, .., filters), answered as Jayway."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from drs_parity.world.stepfunctions.errors import RUNTIME, StatesError


@dataclass(frozen=True)
class Token:
    """One step of a path: kind is field, index, wild, slice, filter or deep (the `..` before the next step)."""

    kind: str
    name: str = ""
    indexes: tuple[int, ...] = ()
    bounds: tuple[int | None, int | None] = (None, None)

    @property
    def definite(self) -> bool:
        # Jayway's rule: a path is definite (one value, not a list) while it only names fields and single indexes
        return self.kind == "field" or (self.kind == "index" and len(self.indexes) == 1)


@dataclass(frozen=True)
class ParsedPath:
    """A parsed path: whether it reads the context object ($$), its steps, and whether it names one value."""

    text: str
    context: bool
    tokens: tuple[Token, ...]

    @property
    def definite(self) -> bool:
        return all(token.definite for token in self.tokens)


class PathNotFound(StatesError):
    """A definite path that names nothing in the data; payload templates reword it for the field that used it."""

    def __init__(self, path: str, searched: Any, where: str) -> None:
        super().__init__(RUNTIME, f"Invalid path '{path}' : No results for path: {where}")
        self.path = path
        self.searched = searched


def invalid_path(path: str, why: str) -> StatesError:
    return StatesError(RUNTIME, f"Invalid path '{path}': {why}")


def to_json(value: Any) -> str:
    """Compact JSON as Step Functions quotes data in its causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_path(path: str, data: Any, context: Mapping[str, Any] | None = None) -> Any:
    """The value `path` names in data (or in the context object for `$$`); a list for an indefinite path."""
    parsed = parse_path(path)
    root = _root(parsed, data, context)
    matches = _evaluate(parsed, root)
    return matches[0] if parsed.definite else matches


def _root(parsed: ParsedPath, data: Any, context: Mapping[str, Any] | None) -> Any:
    if not parsed.context:
        return data
    if context is None:
        raise invalid_path(parsed.text, "there is no context object here")
    return context


def _evaluate(parsed: ParsedPath, root: Any) -> list[Any]:
    nodes = [root]
    definite = True
    for position, token in enumerate(parsed.tokens):
        definite = definite and token.definite
        found: list[Any] = []
        for node in nodes:
            found.extend(_step(token, node, root))
        if definite and not found:
            where = normalized(parsed.tokens[: position + 1], parsed.context)
            raise PathNotFound(parsed.text, root, where)
        nodes = found
    return nodes


def normalized(tokens: tuple[Token, ...], context: bool = False) -> str:
    """Jayway's normalized form of a path, `$['a'][0]`, as AWS quotes it in error causes."""
    parts = ["$$" if context else "$"]
    for token in tokens:
        if token.kind == "field":
            parts.append(f"['{token.name}']")
        elif token.kind == "index":
            parts.append("[" + ",".join(str(i) for i in token.indexes) + "]")
        else:
            parts.append({"wild": "[*]", "deep": "..", "filter": "[?]", "slice": "[:]"}[token.kind])
    return "".join(parts)


def _step(token: Token, node: Any, root: Any) -> list[Any]:
    if token.kind == "field":
        return [node[token.name]] if isinstance(node, dict) and token.name in node else []
    if token.kind == "index":
        return _at_indexes(node, token.indexes)
    if token.kind == "wild":
        return _children(node)
    if token.kind == "slice":
        return node[slice(*token.bounds)] if isinstance(node, list) else []
    if token.kind == "filter":
        test = compile_filter(token.name)
        return [child for child in _children(node) if test(child, root)]
    return list(_descendants(node))


def _at_indexes(node: Any, indexes: tuple[int, ...]) -> list[Any]:
    if not isinstance(node, list):
        return []
    return [node[i] for i in indexes if -len(node) <= i < len(node)]


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    return list(node) if isinstance(node, list) else []


def _descendants(node: Any) -> Iterator[Any]:
    # `..` makes the next step apply to this node and to every node below it, in document order
    yield node
    for child in _children(node):
        yield from _descendants(child)


# ---- parsing ----------------------------------------------------------------------------------------------------

_NAME_END = re.compile(r"[.\[]")


@functools.lru_cache(maxsize=1024)
def parse_path(path: str) -> ParsedPath:
    """Parse `$...` or `$$...`; an unreadable path is a States.Runtime error naming it."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise invalid_path(str(path), "a path must start with '$'")
    context = path.startswith("$$")
    rest = path[2:] if context else path[1:]
    tokens: list[Token] = []
    pos = 0
    while pos < len(rest):
        pos = _parse_step(path, rest, pos, tokens)
    if tokens and tokens[-1].kind == "deep":
        raise invalid_path(path, "'..' must be followed by a field or a bracket")
    return ParsedPath(path, context, tuple(tokens))


def _parse_step(path: str, rest: str, pos: int, tokens: list[Token]) -> int:
    if rest.startswith("..", pos):
        tokens.append(Token("deep"))
        pos += 2
        if rest.startswith("[", pos):
            return _parse_bracket(path, rest, pos, tokens)
        return _parse_name(path, rest, pos, tokens)
    if rest.startswith(".[", pos):
        # `$.abc.['def ghi']`: AWS's documentation writes bracket steps after a dot
        return _parse_bracket(path, rest, pos + 1, tokens)
    if rest.startswith(".", pos):
        return _parse_name(path, rest, pos + 1, tokens)
    if rest.startswith("[", pos):
        return _parse_bracket(path, rest, pos, tokens)
    raise invalid_path(path, f"unexpected '{rest[pos]}'")


def _parse_name(path: str, rest: str, pos: int, tokens: list[Token]) -> int:
    match = _NAME_END.search(rest, pos)
    end = match.start() if match else len(rest)
    name = rest[pos:end]
    if not name:
        raise invalid_path(path, "a field name is empty")
    tokens.append(Token("wild") if name == "*" else Token("field", name=name))
    return end


def _parse_bracket(path: str, rest: str, pos: int, tokens: list[Token]) -> int:
    end = _closing(path, rest, pos)
    tokens.append(_bracket_token(path, rest[pos + 1 : end].strip()))
    return end + 1


def _closing(path: str, rest: str, pos: int) -> int:
    # the `]` that closes the bracket at pos, skipping quoted text and nested brackets of a filter
    depth, quote = 0, ""
    for index in range(pos, len(rest)):
        char = rest[index]
        if quote:
            quote = "" if char == quote and rest[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    raise invalid_path(path, "a '[' is not closed")


_INDEXES = re.compile(r"-?\d+(\s*,\s*-?\d+)*")
_SLICE = re.compile(r"(-?\d*)\s*:\s*(-?\d*)")


def _bracket_token(path: str, inner: str) -> Token:
    if inner == "*":
        return Token("wild")
    if inner.startswith("?(") and inner.endswith(")"):
        compile_filter(inner[2:-1])  # a malformed filter fails here, once, rather than on every node
        return Token("filter", name=inner[2:-1])
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        return Token("field", name=inner[1:-1].replace("\\" + inner[0], inner[0]))
    if _INDEXES.fullmatch(inner):
        return Token("index", indexes=tuple(int(part) for part in inner.split(",")))
    match = _SLICE.fullmatch(inner)
    if match:
        start, stop = (int(text) if text else None for text in match.groups())
        return Token("slice", bounds=(start, stop))
    raise invalid_path(path, f"unsupported bracket '[{inner}]'")


# ---- filters: [?(@.x == 1 && @.y)] ----------------------------------------------------------------------------

Test = Callable[[Any, Any], bool]
_UNDEFINED = object()
_OPERAND = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s=!<>&|()]+)"""
_ATOM = re.compile(rf"\s*({_OPERAND})\s*(?:(==|!=|<=|>=|<|>)\s*({_OPERAND}))?\s*")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@functools.lru_cache(maxsize=256)
def compile_filter(expression: str) -> Test:
    """A test for one filter expression: comparisons of @/$ paths and literals joined by && and ||."""
    alternatives = [_all_of(part) for part in _split(expression, "||")]
    return lambda node, root: any(test(node, root) for test in alternatives)


def _split(expression: str, operator: str) -> list[str]:
    # split on an operator outside quotes: filters are short, a character scan is plenty
    parts, start, quote = [], 0, ""
    for index, char in enumerate(expression):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif expression.startswith(operator, index) and index >= start:
            parts.append(expression[start:index])
            start = index + len(operator)
    parts.append(expression[start:])
    return parts


def _all_of(expression: str) -> Test:
    atoms = [_atom(part) for part in _split(expression, "&&")]
    return lambda node, root: all(test(node, root) for test in atoms)


def _atom(text: str) -> Test:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    match = _ATOM.fullmatch(text)
    if not match:
        raise StatesError(RUNTIME, f"Invalid path: unsupported filter '{text}'")
    left, operator, right = match.groups()
    if operator is None:
        return lambda node, root: _operand(left, node, root) is not _UNDEFINED
    compare = _COMPARE[operator]
    return lambda node, root: _compare(compare, _operand(left, node, root), _operand(right, node, root))


def _compare(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    if left is _UNDEFINED or right is _UNDEFINED or _kind(left) != _kind(right):
        # Jayway: a missing value or values of different JSON types only ever satisfy !=
        return compare is _COMPARE["!="] and not (left is _UNDEFINED or right is _UNDEFINED)
    try:
        return bool(compare(left, right))
    except TypeError:
        return False


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def _operand(text: str, node: Any, root: Any) -> Any:
    if text.startswith(("@", "$")):
        path = "$" + text[1:]
        try:
            value = read_path(path, root if text.startswith("$") else node)
        except StatesError:
            return _UNDEFINED
        return value
    if text[0] in "'\"":
        return text[1:-1].replace("\\" + text[0], text[0])
    try:
        return json.loads(text)
    except ValueError:
        raise StatesError(RUNTIME, f"Invalid path: unsupported filter operand '{text}'") from None
