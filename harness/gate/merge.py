"""Shards' results joined into the whole run's: every shard of one run once, each cell in the matrix's order."""

from __future__ import annotations

import itertools
from typing import Any, Collection, Sequence

from drs_parity.errors import InputError
from drs_parity.gate.results import ParityResult
from drs_parity.gate.shard import Shard

Part = tuple[str, ParityResult]  # a shard's results and where they came from (its report's path)
WHOLE = Shard(1, 1)  # a run without --shard is the one shard of its matrix


class MergeError(InputError):
    """Reports that are not the shards of one run, or not all of them: one line naming the files, exit 2."""


def run_settings(result: ParityResult) -> dict[str, Any]:
    """What every shard of one run shares: the pair, the backend, the rules, calibration, --strict and the matrix."""
    return {"left": result.left, "right": result.right, "backend": result.backend, "rules": result.rules_source,
            "calibrated": result.calibrated, "strict": result.strict, "matrix": result.cells}


def shown(value: Any, limit: int = 80) -> str:
    """A setting's value for an error line, cut at `limit` characters."""
    text = ", ".join(map(str, value)) if isinstance(value, list) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def require_one_run(parts: Sequence[Part]) -> None:
    """Every part has the first one's settings; MergeError naming both files and the first setting that differs."""
    first_source, first = parts[0]
    expected = run_settings(first)
    for source, result in parts[1:]:
        for name, value in run_settings(result).items():
            if value != expected[name]:
                raise MergeError(f"{first_source} and {source} are not shards of one run: {name} "
                                 f"{shown(expected[name])} in one, {shown(value)} in the other")


def shard_of(result: ParityResult) -> Shard:
    """The part's shard (a whole run is shard 1/1)."""
    return result.shard or WHOLE


def require_every_shard_once(parts: Sequence[Part]) -> None:
    """The parts are shards 1 to N of one split, each once; MergeError naming what overlaps or is missing."""
    first_source, first = parts[0]
    seen: dict[int, str] = {}
    for source, result in parts:
        shard = shard_of(result)
        if shard.count != shard_of(first).count:
            raise MergeError(f"{first_source} is shard {shard_of(first)} but {source} is shard {shard}: "
                             f"shards of different splits")
        if shard.index in seen:
            raise MergeError(f"{seen[shard.index]} and {source} are both shard {shard} (overlapping shards)")
        seen[shard.index] = source
    count = shard_of(first).count
    present = {index for index in seen if 1 <= index <= count}  # a doctored report may name shard 5/2
    if len(present) < count:
        raise MergeError(f"missing shard {missing_shards(present, count)} (given: "
                         f"{', '.join(str(shard_of(result)) for _, result in parts)})")


def missing_shards(seen: Collection[int], count: int, shown_at_most: int = 10) -> str:
    """The shards of `count` not in `seen`, the first few named (`2/3`), the rest counted: a split of a million
    shards is not listed a million times."""
    missing = (index for index in range(1, count + 1) if index not in seen)
    named = [f"{index}/{count}" for index in itertools.islice(missing, shown_at_most)]
    rest = count - len(seen) - len(named)
    return ", ".join(named) + (f" and {rest} more" if rest else "")


def require_each_cell_once(parts: Sequence[Part]) -> None:
    """Every cell of the matrix is in exactly one part."""
    where: dict[str, str] = {}
    for source, result in parts:
        for scenario in result.scenarios:
            if scenario.scenario in where:
                raise MergeError(f"scenario {scenario.scenario} is in both {where[scenario.scenario]} and {source}")
            where[scenario.scenario] = source
    absent = [name for name in parts[0][1].cells if name not in where]
    if absent:
        raise MergeError(f"scenario {shown(absent)} of the matrix is in no report given")


def merge_shards(parts: Sequence[Part]) -> ParityResult:
    """The whole run's results from all its shards' (checked to be every shard of one run, each once): scenarios
    in the matrix's order, a rule stale only where it was stale in every shard, the shards' times added up."""
    if not parts:
        raise MergeError("no reports to merge")
    require_one_run(parts)
    require_every_shard_once(parts)
    require_each_cell_once(parts)
    first = parts[0][1]
    by_name = {scenario.scenario: scenario for _, result in parts for scenario in result.scenarios}
    stale = [rule for rule in first.stale_rules if all(rule in result.stale_rules for _, result in parts)]
    return ParityResult(first.left, first.right, first.backend, [by_name[name] for name in first.cells],
                        stale_rules=stale, rules_source=first.rules_source, calibrated=first.calibrated,
                        seconds=sum(result.seconds for _, result in parts), strict=first.strict,
                        matrix=list(first.cells))
