"""Accepted divergences (path pattern, scope, reason), stale rules, and noise found by running a side against itself."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from drs_parity.compare.diff import Divergence

RULE_KEYS = {"path", "scope", "reason"}
SCOPE_KEYS = {"scenario", "step", "kind"}
RULE_KINDS = ("api", "tables", "calls", "logs")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the field and the problem."""


# -- glob patterns over readable paths -------------------------------------------------------------------------------
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` any run of characters, `?` one character; everything else literal (brackets are part of paths)."""
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"^{body}$", re.DOTALL)


def pattern_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str) or not pattern.strip():
        return "must be a non-empty string"
    depth = 0
    for char in pattern:  # brackets in a path always pair; an unpaired one is a typo that would never match
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0 or depth > 1:
            return f"unbalanced brackets in {pattern!r}"
    return f"unbalanced brackets in {pattern!r}" if depth else None


def glob_match(pattern: str, text: str) -> bool:
    return bool(glob_regex(pattern).match(text))


# -- rules -----------------------------------------------------------------------------------------------------------
@dataclass
class Rule:
    """An accepted divergence: which paths, where (scenario, step, kind), and why."""

    path: str
    reason: str
    scenario: str = "*"
    step: str = "*"
    kind: str | None = None
    source: str = ""  # `file: rules[i]`, for reports
    matched: int = 0

    def matches(self, divergence: Divergence) -> bool:
        if self.kind is not None and divergence.kind != self.kind:
            return False
        step_matches = glob_match(self.step, str(divergence.step_index)) or glob_match(self.step, divergence.step_name)
        scenario_matches = glob_match(self.scenario, divergence.scenario)
        return step_matches and scenario_matches and glob_match(self.path, divergence.path)

    def to_dict(self) -> dict[str, Any]:
        scope: dict[str, Any] = {"scenario": self.scenario, "step": self.step}
        if self.kind:
            scope["kind"] = self.kind
        return {"path": self.path, "scope": scope, "reason": self.reason, "source": self.source}


@dataclass
class RuleSet:
    """The rules of one run (possibly none) and where they came from."""

    rules: list[Rule] = field(default_factory=list)
    source: str | None = None

    def stale(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.matched == 0]


def parse_document(path: Path) -> Any:
    """The parsed YAML or TOML (by suffix) of a rules file; unreadable or malformed is a one-line RulesError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise RulesError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise RulesError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: {first_line}") from None


def parse_scope(scope: Any, where: str) -> dict[str, Any]:
    if scope is None:
        return {}
    if not isinstance(scope, dict):
        raise RulesError(f"{where}.scope: must be a mapping of {', '.join(sorted(SCOPE_KEYS))}")
    unknown = sorted(set(scope) - SCOPE_KEYS)
    if unknown:
        raise RulesError(f"{where}.scope.{unknown[0]}: unknown key (allowed: {', '.join(sorted(SCOPE_KEYS))})")
    for name in ("scenario", "step"):
        if name in scope:
            scope[name] = str(scope[name])
            problem = pattern_problem(scope[name])
            if problem:
                raise RulesError(f"{where}.scope.{name}: {problem}")
    if "kind" in scope and scope["kind"] not in RULE_KINDS:
        raise RulesError(f"{where}.scope.kind: must be one of {', '.join(RULE_KINDS)}, not {scope['kind']!r}")
    return scope


def parse_rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError(f"{where}: must be a mapping with path, scope, reason")
    unknown = sorted(set(entry) - RULE_KEYS)
    if unknown:
        raise RulesError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(RULE_KEYS))})")
    problem = pattern_problem(entry.get("path"))
    if problem:
        raise RulesError(f"{where}.path: {'missing' if 'path' not in entry else problem}")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise RulesError(f"{where}.reason: {'missing' if 'reason' not in entry else 'must be non-empty text'}"
                         " (say why this divergence is accepted)")
    scope = parse_scope(entry.get("scope"), where)
    return Rule(path=entry["path"], reason=reason.strip(), scenario=scope.get("scenario", "*"),
                step=scope.get("step", "*"), kind=scope.get("kind"), source=where)


def load_rules(path: str | Path | None) -> RuleSet:
    """Rules from a YAML or TOML file (`rules: [...]`, or a bare YAML list); None -> no rules."""
    if path is None:
        return RuleSet()
    path = Path(path)
    if not path.is_file():
        raise RulesError(f"{path}: rules file not found")
    document = parse_document(path)
    entries = document.get("rules", None) if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - {"rules"}:
        raise RulesError(f"{path}: {sorted(set(document) - {'rules'})[0]}: unknown key (allowed: rules)")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise RulesError(f"{path}: rules: must be a list of rules")
    return RuleSet([parse_rule(entry, f"{path}: rules[{i}]") for i, entry in enumerate(entries)], str(path))


def apply_rules(divergences: Iterable[Divergence], rules: RuleSet) -> None:
    """Mark each divergence a rule accepts (the first matching rule wins) and count the rule's matches."""
    for divergence in divergences:
        if divergence.status != "divergence":
            continue
        for rule in rules.rules:
            if rule.matches(divergence):
                divergence.status, divergence.rule = "accepted", rule
                rule.matched += 1
                break


# -- noise -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoiseEntry:
    """A path that differed when one side ran against itself: nondeterminism, not a divergence."""

    side: str
    scenario: str
    kind: str
    path: str
    step_index: int
    step_name: str
    first: Any
    second: Any

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "scenario": self.scenario, "kind": self.kind, "path": self.path,
                "step": {"index": self.step_index, "name": self.step_name},
                "first": self.first, "second": self.second}


def noise_from_self_diff(side: str, divergences: Iterable[Divergence]) -> list[NoiseEntry]:
    """The differences of a side against itself (diff of two fresh runs) as noise entries."""
    return [NoiseEntry(side, d.scenario, d.kind, d.path, d.step_index, d.step_name, d.left, d.right)
            for d in divergences]


def apply_noise(divergences: Iterable[Divergence], noise: Iterable[NoiseEntry]) -> None:
    """A divergence at a noisy path is excluded from the verdict (status `noise`), never silently dropped."""
    by_path: dict[tuple[str, str], list[NoiseEntry]] = {}
    for entry in noise:
        by_path.setdefault((entry.kind, entry.path), []).append(entry)
    for divergence in divergences:
        if divergence.key in by_path and divergence.status == "divergence":
            divergence.status, divergence.noise = "noise", by_path[divergence.key]
