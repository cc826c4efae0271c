"""What a subtree repeated from the previous step costs normalising and diffing: nothing (one object, memos by id)."""

from __future__ import annotations

import math
from decimal import Decimal
from itertools import compress, repeat
from operator import and_, eq, is_, not_
from typing import Any, Callable, Generic, Iterable, TypeVar

Result = TypeVar("Result")
PLAIN_LEAVES = frozenset((str, int, bool, type(None)))  # leaf types canonical already (exact types, not subclasses)
EMPTY: dict[str, Any] = {}
CONTAINERS = (dict, list, tuple)
TEXT_TYPES = frozenset((str, type(None)))  # leaves `==` never equals to another type's
FLAT_TYPES = frozenset((str, type(None), int))  # a flat record's leaves: of those only a 0 or a 1 is ambiguous
SEARCHED_LIST = 64  # lists up to this long are searched for a record equal to one that moved
MISSING = object()  # no result remembered (None is a result)


def canonical_number(value: Any) -> Any:
    """DynamoDB numbers as JSON would show them: integral -> int, others float without trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, float)):
        return value
    if not math.isfinite(value):  # NaN/Infinity have no JSON number form
        return str(value)
    return int(value) if value == int(value) else float(value)


class Ambiguity:
    """Where a value holds a leaf that `==` may equal to one of another type (True == 1 == 1.0): anything but a
    string, None or an int other than 0 and 1. Remembered per container, so a shared repeat is judged once."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[Any, list[tuple[Any, Any]]]] = {}  # the container kept alive with its parts
        self.plain: set[int] = set()  # ids of the containers (kept alive above) that hold no ambiguous leaf
        self.mixed: set[int] = set()  # ids of the containers (kept alive above) that hold one

    def parts(self, container: Any) -> list[tuple[Any, Any]]:
        """(key or index, child) of the children that are ambiguous leaves or hold one."""
        hit = self._parts.get(id(container))
        if hit is None:
            hit = self._parts[id(container)] = (container, self.ambiguous_children(container))
            (self.mixed if hit[1] else self.plain).add(id(container))
        return hit[1]

    def ambiguous_children(self, container: Any) -> list[tuple[Any, Any]]:
        """The parts of a container not judged before; C speed wherever its children allow."""
        children = container.values() if isinstance(container, dict) else container
        types = set(map(type, children))
        if types <= TEXT_TYPES or all(map(self.plain.__contains__, map(id, children))):
            return []  # only text, or records all judged plain: C speed
        if types <= FLAT_TYPES and 0 not in children and 1 not in children:  # `in` is `==`: finds only ints here
            return []  # a flat record without a 0 or a 1, found at C speed
        items = container.items() if isinstance(container, dict) else enumerate(container)
        if all(map(self._parts.__contains__, map(id, children))):  # records all judged (a table a step repeats)
            return list(compress(items, map(self.mixed.__contains__, map(id, children))))
        judged, mixed = self._parts, self.mixed  # a child judged before is looked up, without a call
        return [(key, item) for key, item in items if (
            (id(item) in mixed if id(item) in judged else bool(self.parts(item))) if isinstance(item, CONTAINERS)
            else ambiguous_leaf(item))]


def ambiguous_leaf(value: Any) -> bool:
    kind = type(value)
    return not (kind is str or value is None or (kind is int and value not in (0, 1)))


class Sharing:
    """Steps with canonical numbers, each built anew except where a subtree strictly equals the one at the same place
    in the step before (already made so): there that object is reused, so the passes after this one meet a repeat
    as the same object and do its work once."""

    def __init__(self) -> None:
        self.ambiguous = Ambiguity()

    def steps(self, steps: Iterable[Any]) -> list[Any]:
        result: list[Any] = []
        for step in steps:
            result.append(self.value(step, result[-1] if result else None))
        return result

    def value(self, value: Any, previous: Any) -> Any:
        if isinstance(value, dict):
            if type(previous) is dict and value == previous and self.same_types(value, previous):
                return previous
            before = previous if type(previous) is dict else EMPTY
            return {key: item if type(item) in PLAIN_LEAVES else self.value(item, before.get(key))
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            if type(value) is list and type(previous) is list and value == previous \
                    and self.same_types(value, previous):
                return previous
            if type(previous) is not list or not previous:
                return [item if type(item) in PLAIN_LEAVES else self.value(item, None) for item in value]
            return self.records(value, previous)
        return value if type(value) in PLAIN_LEAVES else canonical_number(value)

    def records(self, value: list[Any], previous: list[Any]) -> list[Any]:
        """A list beside the previous step's: an item equal to the one at its place, of the same types where that one
        holds an ambiguous leaf, is that one. Those at their place holding none are found at C speed (a table
        repeats a thousand records step after step); the loop decides the others."""
        plain, size = self.ambiguous.plain, len(previous)
        kept = list(map(and_, map(plain.__contains__, map(id, previous)), map(eq, value, previous)))
        result = previous[:len(kept)] + list(value[len(kept):])  # value may be a tuple
        for index in compress(range(len(value)), map(not_, kept + [False] * (len(value) - len(kept)))):
            item = value[index]
            old = previous[index] if index < size else None
            if type(item) in PLAIN_LEAVES:
                result[index] = item
            elif type(item) is dict and type(old) is dict and item == old and (
                    id(old) in plain or self.same_types(item, old)):
                result[index] = old
            else:
                result[index] = self.value(item, counterpart(item, index, previous))
        return result

    def same_types(self, value: Any, previous: Any) -> bool:
        """Given value == previous (C speed): whether value made canonical is previous, types included. Only where
        previous holds an ambiguous leaf can a type differ (a raw 5.0 or Decimal 5 is canonical 5, a True is not)."""
        for key, old in self.ambiguous.parts(previous):
            new = value[key]
            if isinstance(old, CONTAINERS):
                if not self.same_types(new, old):
                    return False
            elif type(new) is not type(old) and type(canonical_number(new)) is not type(old):
                return False
        return True


def counterpart(item: Any, index: int, previous: list[Any]) -> Any:
    """The previous step's record to share `item` with: the one at its place, or else (in a short list, such as a
    step's calls, whose order varies) an equal one elsewhere; else the one at its place, to look inside."""
    here = previous[index] if index < len(previous) else None
    if here is not None and type(here) is type(item) and here == item or len(previous) > SEARCHED_LIST:
        return here
    return next((old for old in previous if type(old) is type(item) and old == item), here)


def shared_steps(steps: Iterable[Any]) -> list[Any]:
    """Every step with canonical numbers, each sharing what it repeats of the step before."""
    return Sharing().steps(steps)


class ObjectMemo(Generic[Result]):
    """Results by object identity; the object is kept with its result, so its id cannot be reused meanwhile."""

    def __init__(self) -> None:
        self._kept: dict[int, Any] = {}
        self._results: dict[int, Result] = {}

    def get(self, obj: Any, compute: Callable[[Any], Result]) -> Result:
        result = self._results.get(id(obj), MISSING)
        if result is MISSING:
            result = self._results[id(obj)] = compute(obj)
            self._kept[id(obj)] = obj
        return result  # type: ignore[return-value]

    def each(self, objects: list[Any], compute: Callable[[Any], Result]) -> list[Result]:
        """`get` of every object. A step's table repeats a thousand records of the step before: when all were seen,
        their results are looked up without a Python-level loop."""
        results = self._results
        try:
            return list(map(results.__getitem__, map(id, objects)))
        except KeyError:  # some are new: the others still looked up at C speed, the new ones computed in order
            found = list(map(results.get, map(id, objects), repeat(MISSING)))
            for index in compress(range(len(found)), map(is_, found, repeat(MISSING))):
                found[index] = self.get(objects[index], compute)
            return found
