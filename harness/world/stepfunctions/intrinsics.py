"""The States.* intrinsic functions of payload templates: parsing a call and evaluating it over the state's data."""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

from drs_parity.world.stepfunctions.errors import INTRINSIC_FAILURE, StatesError
from drs_parity.world.stepfunctions.jsonpath import read_path

# The default random source: fixed so a run without an execution's own source is still reproducible.
DEFAULT_SEED = 20260115
_DEFAULT_RNG = random.Random(DEFAULT_SEED)
MAX_STRING = 10_000  # AWS's limit on the input of Base64Encode/Base64Decode/Hash
MAX_RANGE = 1000  # AWS's limit on the array ArrayRange builds
INT32 = (-(2**31), 2**31 - 1)  # MathAdd's operands and result are Java ints on AWS


@dataclass(frozen=True)
class Call:
    """A call `States.Name(args...)`; name is without the `States.` prefix."""

    name: str
    args: tuple[Argument, ...]


@dataclass(frozen=True)
class Text:
    """A quoted string argument as written, escapes kept (States.Format tells `\\{` from a placeholder)."""

    raw: str

    @property
    def value(self) -> str:
        return re.sub(r"\\(.)", r"\1", self.raw)


@dataclass(frozen=True)
class PathArg:
    """A path argument, `$.a`, `$` or `$$.Execution.Id`."""

    path: str


@dataclass(frozen=True)
class Literal:
    """A number, true, false or null argument."""

    value: Any


Argument = Union[Call, Text, PathArg, Literal]
_CALL = re.compile(r"\s*States\.([A-Za-z0-9]+)\(")
_INTRINSIC = re.compile(r"\s*States\.[A-Za-z0-9]+\(.*\)\s*", re.DOTALL)
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def is_intrinsic(text: Any) -> bool:
    """Whether a `.$` value is an intrinsic call rather than a path."""
    return isinstance(text, str) and _INTRINSIC.fullmatch(text) is not None


def evaluate_intrinsic(
    expression: str,
    data: Any,
    context: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> Any:
    """The value of an intrinsic call; paths read data (`$$` the context object); rng drives MathRandom and UUID."""
    return _Evaluator(data, context, rng or _DEFAULT_RNG).call(parse_intrinsic(expression))


# ---- parsing -----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def parse_intrinsic(expression: str) -> Call:
    """Parse one call; malformed text is a States.IntrinsicFailure naming it."""
    parser = _Parser(expression)
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(expression):
        raise parser.fail(f"unexpected text at position {parser.pos}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> StatesError:
        return StatesError(INTRINSIC_FAILURE, f"Invalid intrinsic function call '{self.text}': {why}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, char: str) -> bool:
        self.skip_spaces()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def call(self) -> Call:
        match = _CALL.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected States.<Function>( at position {self.pos}")
        self.pos = match.end()
        args: list[Argument] = []
        if self.take(")"):
            return Call(match.group(1), ())
        while True:
            args.append(self.argument())
            if self.take(")"):
                return Call(match.group(1), tuple(args))
            if not self.take(","):
                raise self.fail(f"expected ',' or ')' at position {self.pos}")

    def argument(self) -> Argument:
        self.skip_spaces()
        if self.pos >= len(self.text):
            raise self.fail("the call is not closed")
        if self.text[self.pos] == "'":
            return self.string()
        if self.text[self.pos] == "$":
            return PathArg(self.until_separator())
        if self.text.startswith("States.", self.pos):
            return self.call()
        return self.literal()

    def string(self) -> Text:
        start = index = self.pos + 1
        while index < len(self.text):
            char = self.text[index]
            if char == "\\":
                # AWS: only ' { } \ may be escaped; any other backslash is an error
                if self.text[index + 1 : index + 2] not in ("'", "{", "}", "\\"):
                    raise self.fail(f"open escape backslash at position {index}")
                index += 2
                continue
            if char == "'":
                self.pos = index + 1
                return Text(self.text[start:index])
            index += 1
        raise self.fail("a string is not closed")

    def until_separator(self) -> str:
        # a path or literal runs to the next ',' or ')' outside its own brackets, parentheses and quotes
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif char in ",)":
                break
            self.pos += 1
        return self.text[start : self.pos].rstrip()

    def literal(self) -> Literal:
        token = self.until_separator()
        if token in ("null", "true", "false") or _NUMBER.fullmatch(token):
            return Literal(json.loads(token))
        raise self.fail(f"unexpected argument '{token}'")


# ---- evaluation --------------------------------------------------------------------------------------------------


class _Evaluator:
    def __init__(self, data: Any, context: Mapping[str, Any] | None, rng: random.Random) -> None:
        self.data = data
        self.context = context
        self.rng = rng

    def call(self, call: Call) -> Any:
        if call.name == "Format":
            return self.format(call)
        function = FUNCTIONS.get(call.name)
        if function is None:
            raise StatesError(INTRINSIC_FAILURE, f"States.{call.name} is not an intrinsic function")
        return function(Args(call.name, [self.value(arg) for arg in call.args], self.rng))

    def value(self, arg: Argument) -> Any:
        if isinstance(arg, Call):
            return self.call(arg)
        if isinstance(arg, Text):
            return arg.value
        if isinstance(arg, PathArg):
            # a copy: the result of a payload template never aliases the state's input
            return copy.deepcopy(read_path(arg.path, self.data, self.context))
        return arg.value

    def format(self, call: Call) -> str:
        if not call.args:
            raise StatesError(INTRINSIC_FAILURE, "States.Format: expected at least 1 argument, got 0")
        first = call.args[0]
        values = Args("Format", [self.value(arg) for arg in call.args], self.rng)
        template = first.raw if isinstance(first, Text) else values.string(0)
        parts = _template_parts(template, escaped=isinstance(first, Text))
        filling = values.values[1:]
        if len(parts) - 1 != len(filling):
            raise values.fail(f"the template has {len(parts) - 1} placeholders but {len(filling)} values were given")
        return parts[0] + "".join(_format_value(value) + part for value, part in zip(filling, parts[1:]))


def _template_parts(template: str, escaped: bool) -> list[str]:
    # the literal text between `{}` placeholders; in a quoted template `\{` `\}` `\'` `\\` stand for the character
    parts, current, index = [], [], 0
    while index < len(template):
        if escaped and template[index] == "\\":
            current.append(template[index + 1 : index + 2])
            index += 2
        elif template.startswith("{}", index):
            parts.append("".join(current))
            current, index = [], index + 2
        else:
            current.append(template[index])
            index += 1
    parts.append("".join(current))
    return parts


def _format_value(value: Any) -> str:
    # AWS prints strings bare, other scalars as JSON, objects and arrays the way Java's toString does
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_format_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


@dataclass
class Args:
    """The evaluated arguments of one call, with the checks AWS makes on them."""

    name: str
    values: list[Any]
    rng: random.Random

    def fail(self, why: str) -> StatesError:
        return StatesError(INTRINSIC_FAILURE, f"States.{self.name}: {why}")

    def count(self, low: int, high: int | None = None) -> None:
        high = low if high is None else high
        if not low <= len(self.values) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.fail(f"expected {wanted} arguments, got {len(self.values)}")

    def typed(self, position: int, kinds: type | tuple[type, ...], what: str) -> Any:
        value = self.values[position]
        # JSON booleans are not numbers, though Python's bool is an int
        if not isinstance(value, kinds) or isinstance(value, bool) and kinds is not bool:
            raise self.fail(f"argument {position + 1} must be {what}, got {json.dumps(value)}")
        return value

    def array(self, position: int) -> list[Any]:
        return self.typed(position, list, "an array")

    def string(self, position: int) -> str:
        return self.typed(position, str, "a string")

    def object(self, position: int) -> dict[str, Any]:
        return self.typed(position, dict, "a JSON object")

    def integer(self, position: int) -> int:
        # AWS rounds a non-integer to the nearest integer, half up, as Java's Math.round
        number = self.typed(position, (int, float), "a number")
        if isinstance(number, int):
            return number  # exact: no detour through a float
        if not math.isfinite(number):
            raise self.fail(f"argument {position + 1} must be a finite number")
        return math.floor(number + 0.5)

    def short_string(self, position: int) -> str:
        text = self.string(position)
        if len(text) > MAX_STRING:
            raise self.fail(f"argument {position + 1} has {len(text)} characters (at most {MAX_STRING})")
        return text


def _json_key(value: Any) -> str:
    # JSON equality for ArrayContains/ArrayUnique: true is not 1, key order does not matter
    return json.dumps(value, sort_keys=True)


def _string_to_json(args: Args) -> Any:
    args.count(1)
    text = args.string(0)
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise args.fail(f"the string is not JSON: {error}") from None


def _json_to_string(args: Args) -> str:
    args.count(1)
    return json.dumps(args.values[0], separators=(",", ":"), ensure_ascii=False)


def _array_partition(args: Args) -> list[list[Any]]:
    args.count(2)
    items, size = args.array(0), args.integer(1)
    if size <= 0:
        raise args.fail(f"the chunk size must be a positive integer, got {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def _array_contains(args: Args) -> bool:
    args.count(2)
    wanted = _json_key(args.values[1])
    return any(_json_key(item) == wanted for item in args.array(0))


def _array_range(args: Args) -> list[int]:
    args.count(3)
    first, last, step = args.integer(0), args.integer(1), args.integer(2)
    if step == 0:
        raise args.fail("the step must not be 0")
    span = range(first, last + (1 if step > 0 else -1), step)
    if len(span) > MAX_RANGE:
        raise args.fail(f"the array would have {len(span)} items (at most {MAX_RANGE})")
    return list(span)


def _array_get_item(args: Args) -> Any:
    args.count(2)
    items, number = args.array(0), args.typed(1, (int, float), "an integer index")
    if not float(number).is_integer() or not 0 <= number < len(items):
        raise args.fail(f"index {json.dumps(number)} is not an index of an array of {len(items)} items")
    index = int(number)
    return items[index]


def _array_length(args: Args) -> int:
    args.count(1)
    return len(args.array(0))


def _array_unique(args: Args) -> list[Any]:
    args.count(1)
    seen: dict[str, Any] = {}
    for item in args.array(0):
        seen.setdefault(_json_key(item), item)
    return list(seen.values())


def _base64_encode(args: Args) -> str:
    args.count(1)
    return base64.b64encode(args.short_string(0).encode("utf-8")).decode("ascii")


def _base64_decode(args: Args) -> str:
    args.count(1)
    try:
        return base64.b64decode(args.short_string(0), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise args.fail(f"the string is not Base64 of UTF-8 text: {error}") from None


HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(args: Args) -> str:
    args.count(2)
    text, algorithm = args.short_string(0), args.string(1)
    if algorithm not in HASHES:
        raise args.fail(f"unknown algorithm '{algorithm}' (one of {', '.join(HASHES)})")
    return hashlib.new(HASHES[algorithm], text.encode("utf-8")).hexdigest()


def _json_merge(args: Args) -> dict[str, Any]:
    args.count(3)
    first, second = args.object(0), args.object(1)
    if args.typed(2, bool, "a boolean"):
        raise args.fail("only shallow merging is supported: the third argument must be false")
    return {**first, **second}


def _math_random(args: Args) -> int:
    args.count(2, 3)
    start, end = args.integer(0), args.integer(1)
    if start >= end:
        raise args.fail(f"the start ({start}) must be less than the end ({end})")
    # with a seed the answer depends on the seed alone, as on AWS; without, on the execution's random source
    source = random.Random(args.integer(2)) if len(args.values) == 3 else args.rng
    return source.randrange(start, end)  # the end is exclusive


def _math_add(args: Args) -> int:
    args.count(2)
    total = args.integer(0) + args.integer(1)
    for number in (args.integer(0), args.integer(1), total):
        if not INT32[0] <= number <= INT32[1]:
            raise args.fail(f"{number} is outside the range {INT32[0]} to {INT32[1]}")
    return total


def _string_split(args: Args) -> list[str]:
    args.count(2)
    text, delimiters = args.string(0), args.string(1)
    if not delimiters:
        return [text] if text else []
    # every character of the second argument splits; empty pieces are dropped (Java's StringTokenizer)
    pieces = re.split("|".join(re.escape(char) for char in delimiters), text)
    return [piece for piece in pieces if piece]


def _uuid(args: Args) -> str:
    args.count(0)
    return str(uuid.UUID(int=args.rng.getrandbits(128), version=4))


# States.Format is not here: it needs its template as written (see _Evaluator.format)
FUNCTIONS: dict[str, Callable[[Args], Any]] = {
    "StringToJson": _string_to_json, "JsonToString": _json_to_string, "Array": lambda args: list(args.values),
    "ArrayPartition": _array_partition, "ArrayContains": _array_contains, "ArrayRange": _array_range,
    "ArrayGetItem": _array_get_item, "ArrayLength": _array_length, "ArrayUnique": _array_unique,
    "Base64Encode": _base64_encode, "Base64Decode": _base64_decode, "Hash": _hash, "JsonMerge": _json_merge,
    "MathRandom": _math_random, "MathAdd": _math_add, "StringSplit": _string_split, "UUID": _uuid,
}
