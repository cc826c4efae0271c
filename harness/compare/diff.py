"""The diff of two normalised timelines: deepdiff per step and kind, readable paths, first step and persistence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from drs_parity.compare.divergence import Divergence
from drs_parity.compare.normalise import CONTRACT_LIST_KEYS, KINDS, PAIRED_KINDS
from drs_parity.compare.paths import readable_path as path_of
from drs_parity.compare.sharing import Ambiguity
from drs_parity.run.capture import collector_paused

# Kinds whose group lists are multisets (the monolith polls inline, the decomposed system queues the poller).
MULTISET_KINDS = ("calls", "logs")
STEPS_KIND = "steps"  # a structural difference: step count or step names
DEEPDIFF_DEEPER_THRESHOLD = 0.33  # deepdiff's default threshold_to_diff_deeper


@dataclass(frozen=True)
class RawDifference:
    """One difference inside one step, before persistence is folded in."""

    kind: str
    path: str
    left: Any
    right: Any
    left_absent: bool = False
    right_absent: bool = False


# -- readable paths --------------------------------------------------------------------------------------------------
def readable_path(kind: str, parts: list[Any], list_keys: Iterable[str] = CONTRACT_LIST_KEYS) -> str:
    """deepdiff's path list -> `tables.execution-history[<executionId:1>].waves[1].serverStatuses[s-1].serverName`."""
    return path_of(kind, parts, list_keys)


# -- one step --------------------------------------------------------------------------------------------------------
def present(value: Any) -> bool:
    """Whether deepdiff saw a value here (not its NotPresent marker)."""
    return not isinstance(value, NotPresent)


def plain(value: Any) -> Any:
    """The value, None where deepdiff saw none."""
    return value if present(value) else None


class Sameness:
    """Equal with the same types all the way down (1, 1.0 and True differ, as deepdiff sees them). A normalised
    step repeats most of the previous one as the same objects, so each pair of containers is judged once."""

    def __init__(self) -> None:
        self._judged: dict[tuple[int, int], tuple[Any, Any, bool]] = {}  # the pair kept alive with its verdict
        self._ambiguous = Ambiguity()

    def __call__(self, left: Any, right: Any, equal: bool = False) -> bool:
        """`equal`: left == right is known already (their parent was found equal), so `==` is not asked again."""
        if type(left) is not type(right):
            return False
        if not isinstance(left, (dict, list, tuple)):
            return bool(left == right)  # asked even when equal: a NaN is not (a container holding one is)
        judged = self._judged.get((id(left), id(right)))
        if judged is None:
            judged = self._judged[(id(left), id(right))] = (left, right, self._judge(left, right, equal))
        return judged[2]

    def _judge(self, left: Any, right: Any, equal: bool) -> bool:
        """`==` at C speed (once, at the top of equal subtrees); then, as equal values are of equal types but where
        either side holds a leaf `==` may equal to another type's, only those places are looked at."""
        if not equal and left != right:
            return False
        places = {key for key, _ in self._ambiguous.parts(left)} | {key for key, _ in self._ambiguous.parts(right)}
        return all(self(left[place], right[place], True) for place in places)


def deepdiff_levels(left: Any, right: Any, multiset: bool) -> Iterable[tuple[str, Any]]:
    """(report type, level) of every difference deepdiff finds; a multiset ignores order and counts repeats."""
    options: dict[str, Any] = {"view": "tree"}
    if multiset:
        options.update(ignore_order=True, report_repetition=True)
    for report_type, levels in DeepDiff(left, right, **options).items():
        for level in levels:
            yield report_type, level


def mostly_different_keys(left: dict[Any, Any], right: dict[Any, Any]) -> bool:
    """deepdiff's own cut-off (threshold_to_diff_deeper): under a third of the keys shared, the mapping changed whole."""
    union = len(left.keys() | right.keys())
    return union > 1 and len(left.keys() & right.keys()) / union < DEEPDIFF_DEEPER_THRESHOLD


def mapping_differences(kind: str, prefix: list[Any], left: Any, right: Any, list_keys: Iterable[str],
                        same: Sameness) -> list[RawDifference]:
    """Key by key through mappings, so deepdiff only sees the subtrees that differ (most of a step is equal)."""
    if same(left, right):
        return []
    if not (isinstance(left, dict) and isinstance(right, dict)):
        return level_differences(kind, prefix, left, right, False, list_keys)
    if mostly_different_keys(left, right):  # deepdiff then reports the whole mapping as one changed value
        return [RawDifference(kind, readable_path(kind, prefix, list_keys), left, right)]
    differences = []
    for key in left.keys() | right.keys():
        if key in left and key in right:
            differences += mapping_differences(kind, prefix + [key], left[key], right[key], list_keys, same)
        else:
            differences.append(RawDifference(kind, readable_path(kind, prefix + [key], list_keys), left.get(key),
                                             right.get(key), key not in left, key not in right))
    return differences


def level_differences(kind: str, prefix: list[Any], left: Any, right: Any, multiset: bool,
                      list_keys: Iterable[str]) -> list[RawDifference]:
    """deepdiff of one subtree; paths are prefixed with where the subtree sits."""
    differences = []
    for report_type, level in deepdiff_levels(left, right, multiset):
        parts = prefix + level.path(output_format="list")
        if report_type == "repetition_change":  # same record, a different number of occurrences
            repeat = level.additional["repetition"]
            differences.append(RawDifference(kind, readable_path(kind, parts[:-1], list_keys),
                                             [level.t1] * repeat["old_repeat"], [level.t2] * repeat["new_repeat"]))
            continue
        differences.append(RawDifference(kind, readable_path(kind, parts, list_keys), plain(level.t1),
                                         plain(level.t2), not present(level.t1), not present(level.t2)))
    return differences


def multiset_differences(kind: str, left: Mapping[str, list], right: Mapping[str, list], list_keys: Iterable[str],
                         same: Sameness) -> list[RawDifference]:
    """Group by group (call operation, log message): a group on one side only, or its records as a multiset."""
    differences = []
    for group in sorted(set(left) | set(right)):
        if group not in right or group not in left:
            differences.append(RawDifference(kind, readable_path(kind, [group], list_keys), left.get(group),
                                             right.get(group), group not in left, group not in right))
        elif not same(left[group], right[group]):
            differences += level_differences(kind, [group], left[group], right[group], True, list_keys)
    return differences


def raw_differences(kind: str, left: Any, right: Any, list_keys: Iterable[str],
                    same: Sameness | None = None) -> list[RawDifference]:
    """The differences of one kind within one step, by path (`same`: the timeline's memo of equal pairs)."""
    same = same or Sameness()
    if kind in MULTISET_KINDS:
        differences = multiset_differences(kind, left, right, list_keys, same)
    else:
        differences = mapping_differences(kind, [], left, right, list_keys, same)
    return sorted(differences, key=lambda d: d.path)


def diff_step(left: Mapping[str, Any], right: Mapping[str, Any], kinds: Iterable[str] = KINDS,
              list_keys: Iterable[str] = CONTRACT_LIST_KEYS, same: Sameness | None = None) -> list[RawDifference]:
    """The differences of one step, kind by kind."""
    differences: list[RawDifference] = []
    same = same or Sameness()
    for kind in kinds:
        if (kind in left and kind in right) or (kind not in PAIRED_KINDS and (kind in left or kind in right)):
            differences += raw_differences(kind, left.get(kind, {}), right.get(kind, {}), list_keys, same)
    return differences


# -- the timeline ----------------------------------------------------------------------------------------------------
def structural_differences(scenario: str, left_steps: list[dict], right_steps: list[dict]) -> list[Divergence]:
    """Step count and step names: both sides run the same steps, so any mismatch is itself a divergence."""
    divergences = []
    for index, (left, right) in enumerate(zip(left_steps, right_steps)):
        if left.get("name") != right.get("name"):
            divergences.append(Divergence(scenario, STEPS_KIND, f"steps[{index}].name", left.get("name"),
                                          right.get("name"), index, str(left.get("name"))))
    if len(left_steps) != len(right_steps):
        first_missing = min(len(left_steps), len(right_steps))
        longer = left_steps if len(left_steps) > len(right_steps) else right_steps
        divergences.append(Divergence(scenario, STEPS_KIND, "steps", len(left_steps), len(right_steps),
                                      first_missing, str(longer[first_missing].get("name"))))
    return divergences


def diff_timelines(left: Mapping[str, Any], right: Mapping[str, Any], scenario: str | None = None,
                   kinds: Iterable[str] = KINDS, list_keys: Iterable[str] = CONTRACT_LIST_KEYS) -> list[Divergence]:
    """Divergences between two normalised timelines, each once with its first step and how many steps it showed in."""
    scenario = scenario or str(left.get("scenario") or right.get("scenario") or "")
    left_steps, right_steps = list(left.get("steps", [])), list(right.get("steps", []))
    seen: dict[tuple[str, str], Divergence] = {}
    same = Sameness()  # one memo for the timeline: a step repeats the previous one's objects
    with collector_paused():
        raws = [diff_step(left_step, right_step, kinds, list_keys, same)
                for left_step, right_step in zip(left_steps, right_steps)]
    for index, (left_step, step_raws) in enumerate(zip(left_steps, raws)):
        for raw in step_raws:
            existing = seen.get((raw.kind, raw.path))
            if existing is not None:  # a persisting difference: counted, reported at its first step
                existing.steps += 1
                continue
            seen[(raw.kind, raw.path)] = Divergence(
                scenario, raw.kind, raw.path, raw.left, raw.right, index, str(left_step.get("name")),
                left_absent=raw.left_absent, right_absent=raw.right_absent)
    ordered = sorted(seen.values(), key=lambda d: (d.step_index, KINDS.index(d.kind), d.path))
    return structural_differences(scenario, left_steps, right_steps) + ordered
