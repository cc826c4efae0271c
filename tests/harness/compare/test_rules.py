"""Rules: loading (YAML/TOML, one-line errors), matching by path glob and scope, stale rules, noise marking."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from drs_parity.compare.classify import classify, noise_from_self_diff
from drs_parity.compare.divergence import Divergence, NoiseEntry, Rule, glob_escape, glob_match, pattern_problem
from drs_parity.compare.rules import PLACEHOLDER_REASON, RuleSet, RulesError, load_rules

PATH = "tables.execution-history[<executionId:1>].waves[1].serverStatuses[s-00000000000000a01].serverName"


def divergence(path: str = PATH, kind: str = "tables", scenario: str = "two-wave-drill", step: int = 3,
               name: str = "advance 2m") -> Divergence:
    return Divergence(scenario, kind, path, "web-01", None, step, name)


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yaml_rules_load_with_scope(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, """
rules:
  - path: "tables.execution-history[*].lastPolledTime"
    scope: {scenario: "two-*", step: 3, kind: tables}
    reason: the decomposed poller runs a tick later
"""))
    [rule] = rules.rules
    assert (rule.path, rule.scenario, rule.step, rule.kind) == (
        "tables.execution-history[*].lastPolledTime", "two-*", "3", "tables")
    assert rule.source.endswith("rules.yaml: rules[0]")


def test_toml_rules_load(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, '[[rules]]\npath = "logs[*]"\nreason = "log wording is free"\n', "r.toml"))
    assert [(r.path, r.reason, r.kind) for r in rules.rules] == [("logs[*]", "log wording is free", None)]


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n  - path: 'a.b'\n", "rules[0].reason: missing"),
    ("rules:\n  - path: 'a.b'\n    reason: ''\n", "rules[0].reason: must be non-empty text"),
    ("rules:\n  - path: 'a.b'\n    reason: '  '\n", "rules[0].reason: must be non-empty text"),
    ("rules:\n  - path: 'a.b'\n    reason: 7\n", "rules[0].reason: must be non-empty text"),
    ("rules:\n  - path: 'a.b'\n    reason: x\n    when: always\n", "rules[0].when: unknown key"),
    ("rules:\n  - path: 'a[b'\n    reason: x\n", "rules[0].path: unbalanced brackets"),
    ("rules:\n  - reason: x\n", "rules[0].path: missing"),
    ("rules:\n  - path: a\n    reason: x\n    scope: {kind: nope}\n", "rules[0].scope.kind: must be one of"),
    ("rules:\n  - path: a\n    reason: x\n    scope: {phase: 1}\n", "rules[0].scope.phase: unknown key"),
    ("rule: []\n", "rule: unknown key"),
    ("rules: [\n", "not valid YAML"),
])
def test_a_bad_rules_file_is_one_line_naming_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as error:
        load_rules(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("name", "text", "where"), [("r.yaml", "rules:\n  - {path: a\n", ":3: not valid YAML: "),
                                                     ("r.toml", "rules = [\n", ": not valid TOML: ")])
def test_a_syntax_mistake_in_a_rules_file_says_where(tmp_path: Path, name: str, text: str, where: str) -> None:
    # YAML as every fixture file says it (file:LINE, what editors and CI annotations jump to); TOML's own text
    # says where, "(at line N, column M)"
    path = write(tmp_path, text, name)
    with pytest.raises(RulesError) as error:
        load_rules(path)
    assert str(error.value).startswith(f"{path}{where}") and "\n" not in str(error.value)


def test_a_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="rules file not found"):
        load_rules(tmp_path / "absent.yaml")


@pytest.mark.parametrize("reason", [PLACEHOLDER_REASON, "TODO", "  TODO: later", "FIXME: check", "TBD"])
def test_a_rule_still_reading_the_placeholder_is_refused_naming_file_index_and_path(tmp_path: Path,
                                                                                    reason: str) -> None:
    # The attack: the report's paste-ready file, saved unreviewed, would accept every divergence of a broken run.
    path = write(tmp_path, f"rules:\n  - path: 'a.b'\n    reason: ok\n"
                           f"  - {{path: 'logs[Found [s-1]: *]', scope: {{kind: logs}}, reason: '{reason}'}}\n")
    with pytest.raises(RulesError) as error:
        load_rules(path)
    message = str(error.value)
    assert message.startswith(f"{path}: rules[1].reason: still the placeholder"), message
    assert "'logs[Found [s-1]: *]'" in message and "\n" not in message


def test_toml_rules_with_the_placeholder_are_refused_too(tmp_path: Path) -> None:
    path = write(tmp_path, f'[[rules]]\npath = "logs[*]"\nreason = "{PLACEHOLDER_REASON}"\n', "r.toml")
    with pytest.raises(RulesError, match=r"r\.toml: rules\[0\]\.reason: still the placeholder"):
        load_rules(path)


def test_a_reason_that_merely_mentions_todo_is_a_reason(tmp_path: Path) -> None:
    [rule] = load_rules(write(tmp_path, "rules:\n  - path: a\n    reason: the TODO list is sorted later\n")).rules
    assert rule.reason == "the TODO list is sorted later"


def test_globs_treat_brackets_literally() -> None:
    assert glob_match("tables.execution-history[*].waves[*].serverStatuses[*].serverName", PATH)
    assert not glob_match("tables.execution-history[*].status", PATH)
    assert glob_match("*serverName", PATH) and glob_match("tables.?xecution*", PATH)


TRICKY_KEYS = [
    "Found ['s-1', 's-2'] servers",  # a list in a log message: nested brackets
    "got ] here", "got [ here", "][", "a*b?c", "back\\slash \\[x\\]", "quote ' and \" and: colon # hash",
    "dots.in.a.key", "trailing backslash \\", "new\nline", "unicode ✓ – ü", "{flow: [mapping]}", "- dash", "*",
]


@pytest.mark.parametrize("key", TRICKY_KEYS)
def test_an_escaped_path_loads_and_matches_exactly_that_path(key: str) -> None:
    path = f"logs[{key}]"
    pattern = glob_escape(path)
    assert pattern_problem(pattern) is None
    assert glob_match(pattern, path)
    assert not glob_match(pattern, path + "x") and not glob_match(pattern, "logs[" + key.replace(key[0], "Z") + "]")


def test_globs_nest_brackets_and_escape_with_a_backslash() -> None:
    assert pattern_problem("logs[Found ['a']]") is None and glob_match("logs[Found [*]]", "logs[Found ['a']]")
    assert glob_match("logs[a\\*b]", "logs[a*b]") and not glob_match("logs[a\\*b]", "logs[axxb]")
    assert glob_match("logs[\\[]", "logs[[]") and pattern_problem("logs[\\[]") is None
    assert "unbalanced brackets" in pattern_problem("logs[a]]")
    assert "lone backslash" in pattern_problem("logs[a]\\")


@pytest.mark.parametrize(("rule", "matches"), [
    (Rule(path="*.serverName", reason="r"), True),
    (Rule(path="*.serverName", reason="r", kind="api"), False),
    (Rule(path="*.serverName", reason="r", scenario="cancel-*"), False),
    (Rule(path="*.serverName", reason="r", step="advance*"), True),
    (Rule(path="*.serverName", reason="r", step="3"), True),
    (Rule(path="*.serverName", reason="r", step="4"), False),
])
def test_rule_scope(rule: Rule, matches: bool) -> None:
    assert rule.matches(divergence()) is matches


def test_applying_rules_accepts_and_reports_stale_rules() -> None:
    used, stale = Rule(path="*.serverName", reason="names come later"), Rule(path="logs[*]", reason="unused")
    rules = RuleSet([used, stale])
    found = [divergence(), divergence(path="tables.execution-history[<executionId:1>].status")]
    judged = classify(found, rules)
    assert [(d.status, d.rule) for d in judged.divergences] == [("accepted", used), ("divergence", None)]
    assert judged.stale == [stale]


def test_noise_marks_divergences_at_noisy_paths_and_keeps_them_listed() -> None:
    self_diff = [divergence(path="tables.execution-history[<executionId:1>].lastPolledTime")]
    noise = noise_from_self_diff("decomposed", self_diff)
    assert noise == [NoiseEntry("decomposed", "two-wave-drill", "tables",
                                "tables.execution-history[<executionId:1>].lastPolledTime", 3, "advance 2m",
                                "web-01", None)]
    found = [divergence(), divergence(path="tables.execution-history[<executionId:1>].lastPolledTime")]
    judged = classify(found, RuleSet(), noise)
    assert [d.status for d in judged.divergences] == ["divergence", "noise"]
    assert judged.divergences[1].noise == noise


def test_classification_sorts_into_active_accepted_and_noise_noise_first() -> None:
    noisy = "tables.execution-history[<executionId:1>].lastPolledTime"
    accept_all = Rule(path="*", reason="everything")
    noise = noise_from_self_diff("decomposed", [divergence(path=noisy)])
    judged = classify([divergence(), divergence(path=noisy)], RuleSet([accept_all]), noise)
    assert [d.path for d in judged.accepted] == [PATH] and judged.accepted[0].rule is accept_all
    assert [d.path for d in judged.noise] == [noisy] and judged.noise[0].rule is None
    assert judged.active == [] and judged.stale == []


def test_classify_mutates_none_of_its_inputs() -> None:
    noisy = "tables.execution-history[<executionId:1>].lastPolledTime"
    found = [divergence(), divergence(path=noisy), divergence(path="logs[other]", kind="logs")]
    rules = RuleSet([Rule(path="*.serverName", reason="names come later"), Rule(path="x", reason="unused")])
    noise = noise_from_self_diff("decomposed", [divergence(path=noisy)])
    before = copy.deepcopy((found, rules, noise))
    judged = classify(found, rules, noise)
    assert (found, rules, noise) == before
    assert [d.status for d in found] == ["divergence"] * 3 and all(d.rule is None and d.noise == [] for d in found)
    assert [d.status for d in judged.divergences] == ["accepted", "noise", "divergence"]
    assert not any(new is old for new, old in zip(judged.divergences, found))


def test_classifying_again_judges_afresh() -> None:
    rule = Rule(path="*.serverName", reason="names come later")
    accepted = classify([divergence()], RuleSet([rule])).divergences
    again = classify(accepted, RuleSet())
    assert [(d.status, d.rule) for d in again.divergences] == [("divergence", None)]
    assert accepted[0].status == "accepted" and accepted[0].rule is rule
