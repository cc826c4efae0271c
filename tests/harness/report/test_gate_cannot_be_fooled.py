"""A gate that cannot be fooled: unreviewed rules refused, --strict fails on stale rules, every printed rule loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drs_parity.compare.classify import classify
from drs_parity.compare.divergence import Divergence, Rule
from drs_parity.compare.rules import PLACEHOLDER_REASON, RuleSet, RulesError, load_rules
from drs_parity.errors import InputError
from drs_parity.report.markdown import to_markdown
from drs_parity.report.texts import TEXT_LIMIT, ignore_list, rule_line, verdict_line
from tests.harness.report.test_report import BROKEN, MONOLITH, Scenario, divergent, parity

REVIEWED = "reviewed: accepted on purpose"


def pasted_rules(text: str) -> str:
    """The paste-ready rules file of a Markdown report."""
    return text.split("```yaml\n", 1)[1].split("```", 1)[0]


def loaded(tmp_path: Path, rules_text: str, reason: str | None = REVIEWED) -> RuleSet:
    """A rules file as the tool's own loader reads it, the placeholder replaced by `reason` (None: kept)."""
    path = tmp_path / "rules.yaml"
    path.write_text(rules_text if reason is None else rules_text.replace(PLACEHOLDER_REASON, reason),
                    encoding="utf-8")
    return load_rules(path)


# -- an unreviewed rules file is refused --------------------------------------------------------------------------
def test_the_reports_own_rules_file_pasted_unreviewed_is_refused_naming_the_first_rule(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as error:
        loaded(tmp_path, pasted_rules(to_markdown(divergent())), reason=None)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'rules.yaml'}: rules[0].reason: still the placeholder 'TODO: say why")
    assert "rule for path 'logs[Error invoking poller" in message and "\n" not in message


# -- --strict ------------------------------------------------------------------------------------------------------
def stale_run(strict: bool, right=BROKEN):  # type: ignore[no-untyped-def]
    used = Rule(path="*.serverName", reason="names arrive a poll later", source="rules.yaml: rules[0]")
    stale = Rule(path="logs[*]", reason="never needed", source="rules.yaml: rules[1]")
    return parity(MONOLITH, right, rules=RuleSet([used, stale], "rules.yaml"), calibrate=False,
                  strict=strict)


def test_without_strict_a_stale_rule_is_only_reported() -> None:
    result = stale_run(strict=False)
    assert [rule.path for rule in result.stale_rules] == ["logs[*]"] and result.exit_code == 0
    assert "stale" not in verdict_line(result)


def test_strict_fails_the_gate_on_a_stale_rule_and_says_so_in_the_verdict() -> None:
    result = stale_run(strict=True)
    assert result.exit_code == 1 and result.verdict == "divergence"
    assert verdict_line(result).endswith("1 parity, 0 divergent, 0 errors of 1 scenarios, 1 stale rule (--strict); "
                                         "exit 1")


def test_strict_without_stale_rules_passes_and_an_error_still_wins() -> None:
    result = parity(MONOLITH, BROKEN, rules=RuleSet([Rule(path="*", reason="all")], "r.yaml"), strict=True)
    assert result.exit_code == 0 and result.stale_rules == []
    failing = stale_run(strict=True)
    failing.scenarios[0].error = "decomposed: RuntimeError: deploy failed"
    assert failing.exit_code == 2


# -- every paste-ready rule loads and accepts exactly its divergence ------------------------------------------------
LONG_TAIL = "x" * TEXT_LIMIT
TRICKY_PATHS = [
    ("logs", "logs[Found ['s-1', 's-2'] servers needing a launch]"),  # the case seen: a list in a log line
    ("logs", "logs[unpaired ] bracket]"), ("logs", "logs[unpaired [ bracket]"), ("logs", "logs[a*b?c]"),
    ("logs", "logs[C:\\drs\\[x] backslashes]"), ("logs", "logs[quote ' \" colon: hash # dash - end]"),
    ("logs", "logs[{flow: mapping}, [flow, list]]"), ("logs", "logs[new\nline and\ttab]"),
    ("logs", f"logs[long [unpaired *?\\ message {LONG_TAIL}]"),
    ("logs", f"logs[Polling failed: ThrottlingException: rate exceeded for ['s-1'] {LONG_TAIL}]"),
    ("tables", "tables.execution-history[<executionId:1>].waves[0].dotted.key:with#specials*"),
    ("calls", "calls[drs.DescribeJobs][0].params.filters.jobIDs[0]"),
    ("api", "api[GET /executions?status=*&x=[1]].body"),
]


def tricky(index: int, kind: str, path: str) -> Divergence:
    return Divergence("two-wave-drill", kind, path, "left", None, index % 3 + 2, f"step [{index}] *{index}?",
                      right_absent=True)


TRICKY = [tricky(index, kind, path) for index, (kind, path) in enumerate(TRICKY_PATHS)]


@pytest.mark.parametrize("divergence", TRICKY, ids=[path[:40] for _, path in TRICKY_PATHS])
def test_each_printed_rule_loads_and_accepts_exactly_its_divergence(tmp_path: Path, divergence: Divergence) -> None:
    line = rule_line(divergence)
    assert "\n" not in line
    [rule] = loaded(tmp_path, f"rules:\n  - {line}\n").rules
    assert rule.matches(divergence)
    assert [d for d in TRICKY if rule.matches(d)] == [divergence]


def test_the_consolidated_file_of_tricky_paths_loads_and_accepts_each_once(tmp_path: Path) -> None:
    rules = loaded(tmp_path, ignore_list(TRICKY))
    judged = classify(TRICKY, rules)
    assert [d.status for d in judged.divergences] == ["accepted"] * len(TRICKY) and judged.stale == []


def test_long_messages_cut_alike_share_one_rule_so_none_is_stale(tmp_path: Path) -> None:
    head = "Error invoking poller for execution <executionId:1>: AccessDeniedException: User: arn:aws:sts::1:"
    found = [Divergence("two-wave-drill", "logs", f"logs[{head}{tail}{LONG_TAIL}]", None, [{}], 2, "advance 3m",
                        left_absent=True) for tail in ("role-A", "role-B")]
    found.append(Divergence("two-wave-drill", "logs", "logs[x: AccessDeniedException: short]", None, [{}], 2,
                            "advance 3m", left_absent=True))
    text = ignore_list(found)
    assert text.count("\n  - ") == 2, text  # the second cut message is accepted by the first one's rule
    judged = classify(found, loaded(tmp_path, text))
    assert [d.status for d in judged.divergences] == ["accepted"] * 3 and judged.stale == []


# -- each scenario once ------------------------------------------------------------------------------------------
def test_a_scenario_named_twice_runs_once_in_the_order_first_named() -> None:
    drill, recovery = Scenario("two-wave-drill"), Scenario("recovery")
    result = parity_of([recovery, drill, recovery, drill])
    assert [s.scenario for s in result.scenarios] == ["recovery", "two-wave-drill"]


def test_two_different_scenarios_under_one_name_are_an_input_error() -> None:
    with pytest.raises(InputError, match="two different scenarios are named recovery"):
        parity_of([Scenario("recovery"), Scenario("recovery")])


def parity_of(scenarios: list[Scenario]):  # type: ignore[no-untyped-def]
    from drs_parity.gate.parity import run_parity
    from tests.harness.report.test_report import runner

    return run_parity(MONOLITH, MONOLITH, scenarios, "moto", runner=runner, calibrate=False)


def test_rule_lines_are_yaml_flow_mappings() -> None:
    entry = yaml.safe_load(rule_line(TRICKY[0]))
    assert entry["reason"] == PLACEHOLDER_REASON and entry["scope"]["kind"] == "logs"
    assert entry["scope"]["step"] == "step [0] \\*0\\?"  # the step name is a glob too: wildcards escaped
