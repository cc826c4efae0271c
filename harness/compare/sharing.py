"""What a subtree repeated from the previous step costs normalising and diffing: nothing (one object, memos by id)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Callable, Generic, Iterable, TypeVar

Result = TypeVar("Result")
PLAIN_LEAVES = frozenset((str, int, bool, type(None)))  # leaf types canonical already (exact types, not subclasses)
EMPTY: dict[str, Any] = {}
CONTAINERS = (dict, list, tuple)
TEXT_TYPES = frozenset((str, type(None)))  # leaves `==` never equals to another type's
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

    def parts(self, container: Any) -> list[tuple[Any, Any]]:
        """(key or index, child) of the children that are ambiguous leaves or hold one."""
        hit = self._parts.get(id(container))
        if hit is None:
            children = container.values() if isinstance(container, dict) else container
            if set(map(type, children)) <= TEXT_TYPES or all(map(self.plain.__contains__, map(id, children))):
                hit = self._parts[id(container)] = (container, [])  # only text, or records all judged: C speed
            else:
                items = container.items() if isinstance(container, dict) else enumerate(container)
                hit = self._parts[id(container)] = (container, [(key, item) for key, item in items if (
                    bool(self.parts(item)) if isinstance(item, CONTAINERS) else ambiguous_leaf(item))])
            if not hit[1]:
                self.plain.add(id(container))
        return hit[1]


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
        """A list beside the previous step's: an item equal to the one at its place, which holds no ambiguous leaf,
        is that one, decided in the loop (a table repeats a thousand records step after step)."""
        plain, size, result = self.ambiguous.plain, len(previous), []
        for index, item in enumerate(value):
            old = previous[index] if index < size else None
            if type(item) in PLAIN_LEAVES:
                result.append(item)
            elif type(item) is dict and type(old) is dict and id(old) in plain and item == old:
                result.append(old)
            else:
                result.append(self.value(item, counterpart(item, index, previous)))
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
        except KeyError:
            found = [results.get(id(obj), MISSING) for obj in objects]
            return [self.get(obj, compute) if result is MISSING else result for obj, result in zip(objects, found)]
