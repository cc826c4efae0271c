"""What the comparison produces: a divergence, the rule that may accept it, and the noise that may explain it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DIVERGENCE, ACCEPTED, NOISE = "divergence", "accepted", "noise"  # a divergence's status after classification


# -- glob patterns over readable paths -------------------------------------------------------------------------------
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` any run of characters, `?` one character; everything else literal (brackets are part of paths)."""
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"^{body}$", re.DOTALL)


def pattern_problem(pattern: Any) -> str | None:
    """Why `pattern` cannot be a path glob (None when it can)."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "must be a non-empty string"
    depth = 0
    for char in pattern:  # brackets in a path always pair; an unpaired one is a typo that would never match
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0 or depth > 1:
            return f"unbalanced brackets in {pattern!r}"
    return f"unbalanced brackets in {pattern!r}" if depth else None


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
