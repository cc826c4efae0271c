"""`--shard K/N`: read strictly, and a deterministic, balanced, disjoint and covering slice of the matrix."""

from __future__ import annotations

import random

import pytest

from drs_parity.errors import InputError
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.gate.shard import Shard, ShardError, owners, parse_shard, shard_slice
from drs_parity.compare.divergence import Rule

COSTS = {"drill-12h": 760.0, "thousand-servers": 1040.0, "two-wave-drill": 40.0, "cancel-wave-1": 30.0,
         "api-contract": 12.0, "pause-resume": 45.0, "cross-account": 38.0}


class Cell:
    def __init__(self, name: str) -> None:
        self.name = name


def cells(names: list[str] | None = None) -> list[Cell]:
    return [Cell(name) for name in (names or list(COSTS))]


def slice_names(all_cells: list[Cell], shard: Shard) -> list[str]:
    return [cell.name for cell in shard_slice(all_cells, shard, lambda cell: cell.name, lambda cell: COSTS[cell.name])]


@pytest.mark.parametrize(("text", "shard"), [("1/3", Shard(1, 3)), ("3/3", Shard(3, 3)), (" 2 / 4 ", Shard(2, 4)),
                                             ("1/1", Shard(1, 1))])
def test_k_of_n_is_read(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard and str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "2", "1/0", "-1/2", "1/2/3", "", "1.5/2"])
def test_anything_else_is_one_input_error(text: str) -> None:
    with pytest.raises(ShardError, match=r"--shard must be K/N, shard K of N with 1 <= K <= N") as raised:
        parse_shard(text)
    assert isinstance(raised.value, InputError) and "\n" not in str(raised.value)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7])
def test_the_shards_are_disjoint_and_cover_the_matrix_in_its_order(count: int) -> None:
    matrix = cells()
    slices = [slice_names(matrix, Shard(index, count)) for index in range(1, count + 1)]
    dealt = [name for names in slices for name in names]
    assert sorted(dealt) == sorted(COSTS) and len(dealt) == len(set(dealt))
    for names in slices:  # each shard keeps the matrix's order
        assert names == [name for name in COSTS if name in names]


def test_the_same_cells_deal_the_same_whatever_order_they_are_listed_in() -> None:
    expected = owners(list(COSTS.items()), 3)
    for seed in range(5):
        shuffled = list(COSTS.items())
        random.Random(seed).shuffle(shuffled)
        assert owners(shuffled, 3) == expected


def test_the_longest_cells_go_to_different_shards_and_the_rest_fill_the_lightest() -> None:
    owner = owners(list(COSTS.items()), 2)
    longest = owner["thousand-servers"]
    assert owner["drill-12h"] != longest
    # 1040 alone against 760 and the five short ones (925): the most even split of these costs
    assert [name for name, shard in owner.items() if shard == longest] == ["thousand-servers"]


def test_more_shards_than_cells_leaves_some_shards_empty() -> None:
    matrix = cells(["two-wave-drill", "api-contract"])
    assert [slice_names(matrix, Shard(index, 4)) for index in range(1, 5)] == [
        ["two-wave-drill"], ["api-contract"], [], []]


def test_a_huge_shard_count_deals_as_one_shard_per_cell_without_weighing_every_shard() -> None:
    # a billion loads would be gigabytes (a trillion, a MemoryError traceback): shards past the cells stay empty
    assert owners(list(COSTS.items()), 10**12) == owners(list(COSTS.items()), len(COSTS))
    assert slice_names(cells(), Shard(10**12, 10**12)) == []


def test_a_shard_of_several_leaves_the_stale_rule_verdict_to_the_merge() -> None:
    stale = [Rule(path="logs[x]", reason="old")]
    whole = ParityResult("a", "b", "moto", [ScenarioResult("s")], stale_rules=stale, strict=True)
    assert whole.strict_failure and whole.exit_code == 1
    for shard, fails in ((Shard(1, 1), True), (Shard(2, 3), False)):
        result = ParityResult("a", "b", "moto", [ScenarioResult("s")], stale_rules=stale, strict=True, shard=shard,
                              matrix=["s", "t", "u"])
        assert result.strict_failure is fails and result.partial is not fails and result.cells == ["s", "t", "u"]
