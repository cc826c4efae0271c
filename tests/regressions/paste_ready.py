"""Checks that a run's paste-ready rules load with the tool's own loader and accept exactly their divergences."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_parity.compare.classify import classify
from drs_parity.compare.divergence import Divergence
from drs_parity.compare.rules import PLACEHOLDER_REASON, RulesError, load_rules
from drs_parity.report.texts import ignore_list, rule_line

REVIEWED = "reviewed: accepted on purpose"


def rules_file(folder: Path, lines: list[str], reason: str = REVIEWED) -> Path:
    """A rules file of paste-ready rule lines, their placeholder reason replaced by `reason`."""
    path = folder / "rules.yaml"
    path.write_text("rules:\n" + "".join(f"  - {line}\n" for line in lines).replace(PLACEHOLDER_REASON, reason),
                    encoding="utf-8")
    return path


def assert_each_rule_accepts_exactly_its_divergence(divergences: list[Divergence], folder: Path) -> None:
    """Each divergence's printed rule loads and accepts it, and no divergence that prints another rule."""
    rules = load_rules(rules_file(folder, [rule_line(d) for d in divergences])).rules  # rule i from divergence i
    assert len(rules) == len(divergences)
    for rule, divergence in zip(rules, divergences):
        accepted = [d.path for d in divergences if rule.matches(d)]
        # a long log message is cut as a glob; the divergences it then also accepts print the very same rule
        twins = [d.path for d in divergences if rule_line(d) == rule_line(divergence)]
        assert accepted == twins and divergence.path in accepted, (rule.source, rule.path, accepted)


def assert_the_consolidated_file_accepts_all_once_reviewed(divergences: list[Divergence], folder: Path) -> None:
    """The report's rules file: refused while unreviewed; reviewed, it accepts everything and no rule is stale."""
    pasted = ignore_list(divergences).split("rules:\n", 1)[1].splitlines()
    lines = [line.removeprefix("  - ") for line in pasted if line.startswith("  - ")]
    with pytest.raises(RulesError, match=r"rules\[0\]\.reason: still the placeholder"):
        load_rules(rules_file(folder, lines, PLACEHOLDER_REASON))
    judged = classify(divergences, load_rules(rules_file(folder, lines)))
    assert judged.active == [] and judged.stale == []
