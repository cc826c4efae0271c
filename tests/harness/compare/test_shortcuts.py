"""The C-speed shortcuts of sharing, memos and the diff's sameness give what the plain walk gives, types included."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from drs_parity.compare.diff import Sameness
from drs_parity.compare.normalise import REFERENCE
from drs_parity.compare.sharing import Ambiguity, ObjectMemo, canonical_number, shared_steps
from drs_parity.compare.substitution import Substitution, TimeWindow
from drs_parity.compare.transformers import Identifiers, References

# Leaves `==` may equal to each other's across types, and some it cannot.
LEAVES: tuple[Any, ...] = (0, 1, True, False, 0.0, 1.0, 5, 5.0, Decimal(5), Decimal("2.5"), 2.5, "a", "b", None)


def typed(value: Any) -> Any:
    """The value with every leaf's type spelled out: equal only where equal with the same types all the way down."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def canonical(value: Any) -> Any:
    """What sharing must give, built the plain way: a fresh copy with canonical numbers and lists for tuples."""
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return canonical_number(value)


def record(rng: random.Random, index: int) -> dict[str, Any]:
    return {"id": f"s-{index}", "wave": rng.choice(LEAVES), "state": rng.choice(("PENDING", "LAUNCHED")),
            "nested": {"flag": rng.choice(LEAVES)} if rng.random() < 0.3 else None}


def evolving_steps(seed: int, size: int) -> list[dict[str, Any]]:
    """Steps whose table repeats most records of the step before (equal, rebuilt), changes a few (a leaf turning
    to an equal one of another type among them), grows and shrinks."""
    rng = random.Random(seed)
    table = [record(rng, index) for index in range(size)]
    steps = []
    for index in range(12):
        table = [dict(item, nested=dict(item["nested"]) if item["nested"] else None) for item in table]
        for item in rng.sample(table, k=min(len(table), 4)):
            item[rng.choice(("wave", "state"))] = rng.choice(LEAVES)
        if rng.random() < 0.3:
            table.append(record(rng, len(table)))
        elif rng.random() < 0.2 and table:
            table.pop(rng.randrange(len(table)))
        steps.append({"index": index, "tables": {"t": table}, "ids": tuple(item["id"] for item in table)})
    return steps


@pytest.mark.parametrize("size", [3, 100])  # a short list is searched for moved records, a long one is not
@pytest.mark.parametrize("seed", range(8))
def test_shared_steps_are_the_plain_canonical_copy_types_included(seed: int, size: int) -> None:
    steps = evolving_steps(seed, size)
    assert [typed(step) for step in shared_steps(steps)] == [typed(canonical(step)) for step in steps]


def test_a_long_list_keeps_the_records_it_repeats_and_rebuilds_one_whose_1_became_true() -> None:
    first = [{"id": index, "wave": 1 if index == 7 else 3} for index in range(100)]
    second = [dict(item) for item in first]
    second[7]["wave"] = True
    before, after = shared_steps([{"t": first}, {"t": second}])
    assert all(after["t"][index] is before["t"][index] for index in range(100) if index != 7)
    assert after["t"][7] is not before["t"][7] and after["t"][7]["wave"] is True


@pytest.mark.parametrize("seed", range(8))
def test_sameness_is_equality_with_the_same_types(seed: int) -> None:
    rng = random.Random(seed)
    left_steps, right_steps = evolving_steps(seed, 40), evolving_steps(seed + 100, 40)
    same = Sameness()  # one memo over every pair, as the diff of a timeline keeps
    for left, right in zip(shared_steps(left_steps), shared_steps(right_steps)):
        for a, b in ((left, right), (left, left), (left["tables"], dict(left["tables"]))):
            assert same(a, b) == (typed(a) == typed(b))
        b = {"t": [dict(item) for item in left["tables"]["t"]]}
        if b["t"]:
            changed = rng.randrange(len(b["t"]))
            b["t"][changed]["wave"] = rng.choice(LEAVES)
        assert same(left["tables"], b) == (typed(left["tables"]) == typed(b))


def test_a_nan_in_an_equal_subtree_is_not_the_same() -> None:
    nan = float("nan")
    shared = [nan]
    assert not Sameness()({"a": {"b": shared}}, {"a": {"b": shared}})


@pytest.mark.parametrize("container, ambiguous", [
    ({"a": "x", "b": None, "c": 5}, []),
    ({"a": "x", "b": 0, "c": 5}, ["b"]),
    ({"a": "x", "b": True}, ["b"]),
    ({"a": "x", "b": 2.5}, ["b"]),
])
def test_a_flat_records_ambiguous_leaves(container: dict[str, Any], ambiguous: list[str]) -> None:
    assert [key for key, _ in Ambiguity().parts(container)] == ambiguous


def test_a_container_of_records_all_judged_names_those_holding_an_ambiguous_leaf() -> None:
    ambiguity = Ambiguity()
    records = [{"n": 1}, {"n": 5}, {"n": False}, {"n": "x"}]
    for item in records:
        ambiguity.parts(item)
    assert [index for index, _ in ambiguity.parts(records)] == [0, 2]
    assert [key for key, _ in ambiguity.parts({"a": records[1], "b": records[0]})] == ["b"]


def test_an_object_memo_computes_each_new_object_once_in_order_and_looks_the_others_up() -> None:
    memo: ObjectMemo[int] = ObjectMemo()
    computed: list[int] = []

    def compute(item: list[int]) -> int:
        computed.append(item[0])
        return item[0] * 10

    one, two, three = [1], [2], [3]
    assert memo.each([one], compute) == [10]
    assert memo.each([two, one, three, two], compute) == [20, 10, 30, 20]
    assert computed == [1, 2, 3]


def test_a_list_of_strings_worked_out_before_and_a_mixed_list_substitute_alike() -> None:
    substitution = Substitution(TimeWindow(1768471200, 1768471200), Identifiers(REFERENCE), References())
    assert substitution.value(["a", "i-0123456789abcdef0"]) == ["a", "i-0123456789abcdef0"]
    assert substitution.value(["a", "i-0123456789abcdef0", 7, None, ["a"]]) == [
        "a", "i-0123456789abcdef0", 7, None, ["a"]]
