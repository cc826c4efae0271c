"""What the comparison produces: a divergence, the rule that may accept it, and the noise that may explain it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

DIVERGENCE, ACCEPTED, NOISE = "divergence", "accepted", "noise"  # a divergence's status after classification


# -- glob patterns over readable paths -------------------------------------------------------------------------------
# `*` any run of characters, `?` one character, a backslash makes the next character literal; the rest is literal.
WILDCARDS = {"*": ".*", "?": "."}
ESCAPED = "\\*?"  # always escaped by glob_escape; brackets only when they do not pair


def glob_tokens(pattern: str) -> list[tuple[str, bool]]:
    """The pattern's characters, each with whether a backslash escaped it (a lone trailing backslash is literal)."""
    tokens: list[tuple[str, bool]] = []
    position = 0
    while position < len(pattern):
        escaped = pattern[position] == "\\" and position + 1 < len(pattern)
        position += escaped
        tokens.append((pattern[position], escaped))
        position += 1
    return tokens


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a glob (brackets are part of paths, not character classes)."""
    body = "".join(re.escape(char) if escaped else WILDCARDS.get(char, re.escape(char))
                   for char, escaped in glob_tokens(pattern))
    return re.compile(f"^{body}$", re.DOTALL)


def unpaired_brackets(tokens: list[tuple[str, bool]]) -> set[int]:
    """Positions of the unescaped brackets that pair with none (brackets nest: a log message may hold a list)."""
    opened: list[int] = []
    unpaired: set[int] = set()
    for position, (char, escaped) in enumerate(tokens):
        if escaped or char not in "[]":
            continue
        if char == "[":
            opened.append(position)
        elif opened:
            opened.pop()
        else:
            unpaired.add(position)
    return unpaired | set(opened)


def pattern_problem(pattern: Any) -> str | None:
    """Why `pattern` cannot be a path glob (None when it can)."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "must be a non-empty string"
    if pattern.endswith("\\") and not glob_tokens(pattern)[-1][1]:
        return f"ends in a lone backslash in {pattern!r} (write \\\\ for a backslash)"
    if unpaired_brackets(glob_tokens(pattern)):  # a typo that would never match
        return f"unbalanced brackets in {pattern!r} (write \\[ or \\] for a literal one)"
    return None


def glob_escape(text: str) -> str:
    """The glob matching exactly `text`: backslashes and wildcards escaped, and brackets that pair with none."""
    tokens = [(char, False) for char in text]
    unpaired = unpaired_brackets(tokens)
    return "".join(f"\\{char}" if char in ESCAPED or position in unpaired else char
                   for position, (char, _) in enumerate(tokens))


def glob_match(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches the glob `pattern`."""
    return bool(glob_regex(pattern).match(text))


# -- rules and noise -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """An accepted divergence: which paths, where (scenario, step, kind), and why."""

    path: str
    reason: str
    scenario: str = "*"
    step: str = "*"
    kind: str | None = None
    source: str = ""  # `file: rules[i]`, for reports

    def matches(self, divergence: Divergence) -> bool:
        """Whether this rule accepts `divergence` (kind, step index or name, scenario and path all match)."""
        if self.kind is not None and divergence.kind != self.kind:
            return False
        step_matches = glob_match(self.step, str(divergence.step_index)) or glob_match(self.step, divergence.step_name)
        scenario_matches = glob_match(self.scenario, divergence.scenario)
        return step_matches and scenario_matches and glob_match(self.path, divergence.path)

    def to_dict(self) -> dict[str, Any]:
        """The rule's JSON form (scope as a rules file writes it, plus where it came from)."""
        scope: dict[str, Any] = {"scenario": self.scenario, "step": self.step}
        if self.kind:
            scope["kind"] = self.kind
        return {"path": self.path, "scope": scope, "reason": self.reason, "source": self.source}


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
        """The entry's JSON form."""
        return {"side": self.side, "scenario": self.scenario, "kind": self.kind, "path": self.path,
                "step": {"index": self.step_index, "name": self.step_name},
                "first": self.first, "second": self.second}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NoiseEntry:
        """An entry from its JSON form (report.json, the noise cache); KeyError or TypeError when it is not one."""
        return cls(data["side"], data["scenario"], data["kind"], data["path"], data["step"]["index"],
                   data["step"]["name"], data["first"], data["second"])


# -- divergences -----------------------------------------------------------------------------------------------------
@dataclass
class Divergence:
    """One difference between the sides at one path, first seen at one step and persisting over `steps` steps."""

    scenario: str
    kind: str
    path: str
    left: Any
    right: Any
    step_index: int
    step_name: str
    steps: int = 1
    left_absent: bool = False
    right_absent: bool = False
    status: str = DIVERGENCE  # divergence | accepted | noise (set by classify, on a copy)
    rule: Rule | None = None  # the accepting rule
    noise: list[NoiseEntry] = field(default_factory=list)  # the entries that explain it

    @property
    def key(self) -> tuple[str, str]:
        """(kind, path): what noise entries are matched on."""
        return (self.kind, self.path)

    def to_dict(self) -> dict[str, Any]:
        """The divergence's JSON form (its accepting rule included)."""
        data = {
            "scenario": self.scenario, "kind": self.kind, "path": self.path,
            "left": self.left, "right": self.right, "leftAbsent": self.left_absent, "rightAbsent": self.right_absent,
            "firstStep": {"index": self.step_index, "name": self.step_name}, "steps": self.steps,
            "status": self.status,
        }
        if self.rule is not None:
            data["rule"] = self.rule.to_dict()
        return data
