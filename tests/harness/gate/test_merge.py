"""Shards joined by merge are the serial run: same report up to timings, the worst verdict, stale only if everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from drs_parity.compare.rules import RuleSet
from drs_parity.errors import ExitCode
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.gate.merge import MergeError, Part, merge_shards
from drs_parity.gate.parity import run_parity, scenario_name
from drs_parity.gate.results import ParityResult
from drs_parity.gate.shard import Shard, shard_slice
from drs_parity.report.json_load import read_report
from drs_parity.report.json_report import json_text
from drs_parity.report.markdown import to_markdown
from tests.harness.gate.shard_samples import ACCEPT_NAME, DIVERGENT, NEVER_USED, RULES, SCENARIOS, stand_in_side


def run(shard: Shard | None, rules: RuleSet = RULES, strict: bool = False, right: str = "decomposed",
        names: tuple[str, ...] = SCENARIOS) -> ParityResult:
    """What `drs-parity run [--shard K/N]` does, with the stand-in sides."""
    matrix = load_scenarios(list(names))
    scenarios = shard_slice(matrix, shard, scenario_name) if shard else matrix
    result = run_parity("monolithic", right, scenarios, "moto", rules, runner=stand_in_side, strict=strict)
    result.shard, result.matrix = shard, [scenario_name(scenario) for scenario in matrix]
    return result


def through_file(result: ParityResult, path: Path) -> Part:
    """The result as its report.json, read back: what merge gets."""
    path.write_text(json_text(result))
    return str(path), read_report(path)


def shards(tmp_path: Path, count: int, **options: Any) -> list[Part]:
    return [through_file(run(Shard(index, count), **options), tmp_path / f"shard-{index}.json")
            for index in range(1, count + 1)]


def without_timings(report: Any) -> Any:
    """A report with no wall times (the run's, each scenario's, each side's), which no two runs share."""
    if isinstance(report, dict):
        return {key: without_timings(value) for key, value in report.items() if key != "timings"}
    return [without_timings(value) for value in report] if isinstance(report, list) else report


def without_seconds(report: str) -> str:
    """The Markdown or HTML report with the summary table's seconds column blanked."""
    return re.sub(r"(\| [\d.]+ \|$)|(<td>[\d.]+</td></tr>)", "-", report, flags=re.M)


@pytest.mark.parametrize("count", [2, 3, 5])
def test_the_merged_shards_are_the_serial_runs_report_up_to_timings(tmp_path: Path, count: int) -> None:
    serial = run(None)
    parts = shards(tmp_path, count)
    assert sum(len(result.scenarios) for _, result in parts) == len(SCENARIOS)
    merged = merge_shards(parts)
    assert without_timings(json.loads(json_text(merged))) == without_timings(json.loads(json_text(serial)))
    assert without_seconds(to_markdown(merged)) == without_seconds(to_markdown(serial))
    assert merged.exit_code == serial.exit_code == ExitCode.DIVERGENCE


def test_shards_may_come_in_any_order(tmp_path: Path) -> None:
    parts = shards(tmp_path, 3)
    assert json_text(merge_shards(parts[::-1])) == json_text(merge_shards(parts))


def test_a_rule_is_stale_only_if_it_was_stale_in_every_shard(tmp_path: Path) -> None:
    parts = shards(tmp_path, 3, strict=True)
    stale_in = {source: [rule.path for rule in result.stale_rules] for source, result in parts}
    assert sum(ACCEPT_NAME.path in paths for paths in stale_in.values()) == 2  # the shards without DIVERGENT
    assert all(result.stale_rules and not result.strict_failure for _, result in parts)  # a shard alone: never
    merged = merge_shards(parts)
    assert merged.stale_rules == [NEVER_USED] and merged.strict_failure


def test_the_merged_verdict_is_the_worst_shards(tmp_path: Path) -> None:
    parity_parts = shards(tmp_path, 2, names=(SCENARIOS[0], SCENARIOS[2]), rules=RuleSet())
    assert merge_shards(parity_parts).exit_code == ExitCode.OK
    divergent = shards(tmp_path, 2, names=(SCENARIOS[0], DIVERGENT), rules=RuleSet())
    assert merge_shards(divergent).exit_code == ExitCode.DIVERGENCE
    errored = divergent[1][1]
    errored.scenarios[0].error = "decomposed: DeployError: ExecutionHistoryTable"
    assert merge_shards(divergent).exit_code == ExitCode.ERROR


def test_an_empty_shard_merges(tmp_path: Path) -> None:
    parts = shards(tmp_path, 4, names=(SCENARIOS[0], DIVERGENT))
    assert [len(result.scenarios) for _, result in parts].count(0) == 2
    assert [s.scenario for s in merge_shards(parts).scenarios] == [SCENARIOS[0], DIVERGENT]


def test_a_whole_run_merges_alone(tmp_path: Path) -> None:
    whole = through_file(run(None), tmp_path / "whole.json")
    assert json_text(merge_shards([whole])) == json_text(whole[1])


@pytest.mark.parametrize(("mistake", "message"), [
    ("overlap", r"shard-1\.json and .*again\.json are both shard 1/3 \(overlapping shards\)"),
    ("missing", r"missing shard 2/3 \(given: 1/3, 3/3\)"),
    ("split", r"shard-1\.json is shard 1/3 but .*other\.json is shard 2/2: shards of different splits"),
    ("pair", r"not shards of one run: right 'decomposed' in one, 'decomposed-v2' in the other"),
    ("strict", r"not shards of one run: strict False in one, True in the other"),
    ("matrix", r"not shards of one run: matrix two-wave-drill, cancel-wave-1, api-contract in one, "
               r"two-wave-drill, cancel-wave-1 in the other"),
    ("whole-and-shard", r"shard-1\.json is shard 1/3 but .*whole\.json is shard 1/1: shards of different splits"),
    ("none", r"no reports to merge"),
])
def test_reports_that_are_not_every_shard_of_one_run_once_are_refused(tmp_path: Path, mistake: str,
                                                                      message: str) -> None:
    parts = shards(tmp_path, 3)
    extra = {
        "overlap": lambda: [*parts, through_file(run(Shard(1, 3)), tmp_path / "again.json")],
        "missing": lambda: [parts[0], parts[2]],
        "split": lambda: [*parts, through_file(run(Shard(2, 2)), tmp_path / "other.json")],
        "pair": lambda: [*parts[:2], through_file(run(Shard(3, 3), right="decomposed-v2"), tmp_path / "v2.json")],
        "strict": lambda: [*parts[:2], through_file(run(Shard(3, 3), strict=True), tmp_path / "strict.json")],
        "matrix": lambda: [*parts[:2], through_file(run(Shard(3, 3), names=SCENARIOS[:2]), tmp_path / "m.json")],
        "whole-and-shard": lambda: [*parts, through_file(run(None), tmp_path / "whole.json")],
        "none": lambda: [],
    }[mistake]()
    with pytest.raises(MergeError, match=message) as raised:
        merge_shards(extra)
    assert "\n" not in str(raised.value)


def test_a_scenario_in_two_shards_is_refused(tmp_path: Path) -> None:
    parts = shards(tmp_path, 2)
    source, result = parts[1]
    result.scenarios.append(parts[0][1].scenarios[0])
    with pytest.raises(MergeError, match=f"scenario {parts[0][1].scenarios[0].scenario} is in both"):
        merge_shards(parts)


def test_missing_shards_of_a_huge_split_are_named_a_few_and_counted(tmp_path: Path) -> None:
    # `--shard 1/1000000` alone: merge says what is missing in one short line, not a million shard names
    count = 10**6
    parts = [through_file(run(Shard(1, count)), tmp_path / "shard-1.json")]
    with pytest.raises(MergeError) as raised:
        merge_shards(parts)
    assert str(raised.value) == (f"missing shard {', '.join(f'{index}/{count}' for index in range(2, 12))} and "
                                 f"{count - 11} more (given: 1/{count})")


def test_a_shard_numbered_past_its_split_does_not_stand_in_for_a_missing_one(tmp_path: Path) -> None:
    parts = shards(tmp_path, 2)
    parts[1][1].shard = Shard(5, 2)  # a doctored report.json: Shard is not checked when read back
    with pytest.raises(MergeError, match=r"missing shard 2/2 \(given: 1/2, 5/2\)"):
        merge_shards(parts)
