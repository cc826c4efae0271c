"""Shards of a run's matrix: `K/N` read, and the deterministic slice, balanced by expected duration, each shard runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from drs_parity.errors import InputError
from drs_parity.gate.jobs import estimated_cost

Cell = TypeVar("Cell")
SHARD_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


class ShardError(InputError):
    """A `--shard` value that names no shard: one line, exit 2."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1 to `count`) of a matrix split `count` ways."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def to_dict(self) -> dict[str, int]:
        """The shard's JSON form."""
        return {"index": self.index, "count": self.count}


def parse_shard(text: str) -> Shard:
    """`K/N` as a Shard; ShardError unless both are whole numbers with 1 <= K <= N."""
    match = SHARD_FORM.fullmatch(text)
    index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not 1 <= index <= count:
        raise ShardError(f"--shard must be K/N, shard K of N with 1 <= K <= N (for example 1/3), not {text!r}")
    return Shard(index, count)


def owners(cells: Sequence[tuple[str, float]], count: int) -> dict[str, int]:
    """Each cell's shard (1 to `count`), cells given as (name, expected cost, never negative): the costliest cell
    first, each to the shard with the least expected work so far (ties: the lower shard). Names break equal costs, so
    the deal depends only on the cells, never on the order they were listed in: every machine deals the same. Shards
    past the number of cells get none (an empty shard is always among the lightest then), so only that many are
    weighed: `1/1000000000` deals the same without a list of a billion loads."""
    loads = [0.0] * min(count, len(cells))
    owner: dict[str, int] = {}
    for name, cost in sorted(cells, key=lambda cell: (-cell[1], cell[0])):
        lightest = min(range(len(loads)), key=lambda shard: (loads[shard], shard))
        loads[lightest] += cost
        owner[name] = lightest + 1
    return owner


def shard_slice(cells: Sequence[Cell], shard: Shard, name: Callable[[Cell], str],
                cost: Callable[[Any], float] = estimated_cost) -> list[Cell]:
    """The cells shard `shard` runs, in the matrix's order (its scenarios' expected run times balance the shards)."""
    owner = owners([(name(cell), cost(cell)) for cell in cells], shard.count)
    return [cell for cell in cells if owner[name(cell)] == shard.index]
