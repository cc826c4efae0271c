"""Texts every rendering shares: records of a divergence, short values, chain verdicts, headlines, paste-ready rules."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import yaml

from drs_parity.compare.divergence import DIVERGENCE, Divergence, Rule, glob_escape, glob_match, pattern_problem
from drs_parity.compare.order import kind_rank, ordered, records_of
from drs_parity.compare.rules import PLACEHOLDER_REASON, RULE_KINDS
from drs_parity.diagnose.diagnosis import Diagnosis
from drs_parity.gate.results import ERROR, PARITY, ParityResult, ScenarioResult
from drs_parity.gate.stops import STOPPED, stopped_request

VALUE_LIMIT = 300  # characters of a value shown in Markdown/HTML (JSON keeps it whole)
TEXT_LIMIT = 120  # characters of evidence or a log message in a headline or verdict
STATUS_MARK = {PARITY: "✅ parity", DIVERGENCE: "❌ divergence", ERROR: "⚠️ error"}
# An AWS error code quoted in a message: `AccessDeniedException: …`, `UnauthorizedOperation: …`.
ERROR_CODE = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)+(?=: \S)")


# -- records ---------------------------------------------------------------------------------------------------------
def closing_bracket(path: str, opening: int) -> int | None:
    """Index of the `]` closing the `[` at `opening` (brackets inside a key nest), None if unbalanced."""
    depth = 0
    for position in range(opening, len(path)):
        depth += {"[": 1, "]": -1}.get(path[position], 0)
        if depth == 0:
            return position
    return None


def record_of(d: Divergence) -> str:
    """The record a path belongs to: table item, API request, call operation, log message (else the path)."""
    opening = d.path.find("[")  # tables.<name>[item], api[request], calls[operation], logs[message], steps[n]
    closing = closing_bracket(d.path, opening) if opening >= 0 else None
    return d.path[:closing + 1] if closing is not None else d.path


def records(divergences: list[Divergence]) -> list[tuple[str, list[Divergence]]]:
    """Divergences grouped by record, in order of each record's first (cause-ordered) divergence."""
    groups: dict[str, list[Divergence]] = {}
    for d in divergences:
        groups.setdefault(record_of(d), []).append(d)
    return list(groups.items())


def by_kind(divergences: list[Divergence]) -> list[tuple[str, list[Divergence]]]:
    """Divergences by kind in CAUSE_ORDER, each kind's list cause-ordered."""
    kinds = sorted({d.kind for d in divergences}, key=lambda kind: (kind_rank(kind), kind))
    return [(kind, ordered(d for d in divergences if d.kind == kind)) for kind in kinds]


# -- texts shared by every rendering ---------------------------------------------------------------------------------
def plural(count: int, word: str) -> str:
    """`1 record`, `2 records`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def as_json(value: Any) -> str:
    """Compact, key-sorted JSON; a list of records with repeats as `[3× {...}, 1× {...}]`."""
    if isinstance(value, list) and len(value) > 1 and all(isinstance(item, dict) for item in value):
        counts: dict[str, int] = {}
        for item in value:
            text = json.dumps(item, sort_keys=True, default=str)
            counts[text] = counts.get(text, 0) + 1
        if len(counts) < len(value):
            return "[" + ", ".join(f"{count}× {text}" for text, count in counts.items()) + "]"
    return json.dumps(value, sort_keys=True, default=str)


def short_value(value: Any, absent: bool = False) -> str:
    """A value as compact JSON, cut at VALUE_LIMIT characters; `(absent)` when a side lacks it."""
    if absent:
        return "(absent)"
    text = as_json(value)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def short_text(text: str, more: str = "…") -> str:
    """Evidence or a log message for a headline: cut after its AWS error code, else at TEXT_LIMIT characters."""
    code = ERROR_CODE.search(text)
    if code and code.end() <= TEXT_LIMIT:
        return f"{text[:code.end()]}: {more}"
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + more


def chain_verdict(side: str, diagnosis: Diagnosis | None) -> str:
    """`side: chain healthy` or `side: broken at <link> — <evidence>`."""
    if diagnosis is None:
        return f"{side}: not diagnosed"
    broken = diagnosis.first_broken
    if broken is None:
        return f"{side}: chain healthy"
    return f"{side}: broken at `{broken.link}` — {short_text(broken.evidence)}"


def chain_line(result: ScenarioResult, left: str, right: str) -> str:
    """Both sides' chain verdicts on one line."""
    return " · ".join([chain_verdict(left, result.left_chain), chain_verdict(right, result.right_chain)])


def chain_cell(result: ScenarioResult, left: str, right: str) -> str:
    """The summary table's chain column: the broken links of a divergent scenario, else `-`."""
    if result.status != DIVERGENCE or (result.left_chain is None and result.right_chain is None):
        return "-"
    sides = [(left, result.left_chain), (right, result.right_chain)]
    broken = [f"{side}: {d.first_broken.link}" for side, d in sides if d is not None and d.first_broken]
    return "; ".join(broken) or "both healthy"


def record_name(d: Divergence) -> str:
    """What a log or call record is, for a sentence: the message or `service.Operation`."""
    return short_text(record_of(d)[len(d.kind) + 1:-1])


def cut_path(d: Divergence, cut: Callable[[str], str], literal: Callable[[str], str] = str) -> str:
    """The path with a long record key (a log message) cut by `cut`; the kept rest of the path through `literal`."""
    if len(d.path) <= TEXT_LIMIT:
        return literal(d.path)
    record = record_of(d)
    opening = record.find("[")
    if opening < 0 or not record.endswith("]"):
        return cut(d.path)
    return f"{literal(record[:opening])}[{cut(record[opening + 1:-1])}]{literal(d.path[len(record):])}"


def short_path(d: Divergence, more: str = "…") -> str:
    """The path for reading, a long record key (a log message) cut like a headline, `more` marking the cut."""
    return cut_path(d, lambda text: short_text(text, more))


def cut_glob(text: str) -> str:
    """`text` cut like a headline as a glob: its kept head literal (escaped), then `*` for the cut tail."""
    head = short_text(text, more="")
    return glob_escape(head) + ("*" if head != text else "")


def rule_path(d: Divergence) -> str:
    """The exact path as a glob, or for a long log message its headline cut as a glob (the tail often holds
    deployment-specific names, such as a role's generated suffix, that would make the rule miss the next run).
    Wildcards, backslashes and unpaired brackets of the path are escaped: the rule loads and matches the path."""
    pattern = cut_path(d, cut_glob, glob_escape)
    return pattern if pattern_problem(pattern) is None and glob_match(pattern, d.path) else glob_escape(d.path)


def answer_text(value: Any, absent: bool) -> str:
    """One side's answer in a stop divergence: `500 {"message": "..."}`, or `(absent)`."""
    if absent or not isinstance(value, dict):
        return short_value(value, absent)
    return f"{value.get('status')} {short_value(value.get('body'))}"


def stop_text(d: Divergence, request: str, left: str, right: str) -> str:
    """A side the system stopped: `right stopped: api POST /x — left 201 {...} · right 500 {...}`."""
    sides = ((left, d.left, d.left_absent), (right, d.right, d.right_absent))
    stopped = " and ".join(side for side, value, _ in sides if isinstance(value, dict) and value.get(STOPPED))
    answers = " · ".join(f"{side} {answer_text(value, absent)}" for side, value, absent in sides)
    return f"{stopped or 'a side'} stopped: api {request} — {answers}"


def change_text(d: Divergence, left: str, right: str) -> str:
    """One divergence as a sentence: who logged/called what the other did not, else both values."""
    request = stopped_request(d)
    if request is not None:
        return stop_text(d, request, left, right)
    verbs = {"logs": "logged", "calls": "called"}
    if d.kind in verbs and d.path == record_of(d):
        if d.left_absent or d.right_absent:
            present, missing = (right, left) if d.left_absent else (left, right)
            return f"{present} {verbs[d.kind]} `{record_name(d)}` (absent on {missing})"
        return (f"`{record_name(d)}` {verbs[d.kind]} ×{len(records_of(d.left))} by {left}, "
                f"×{len(records_of(d.right))} by {right}")
    return (f"`{d.path}`: {left} `{short_value(d.left, d.left_absent)}`, "
            f"{right} `{short_value(d.right, d.right_absent)}`")


def headline(result: ScenarioResult, left: str, right: str) -> str | None:
    """`first divergence at step N `name`: kind — what happened (+k more at this step)`."""
    first = result.first_step
    if not first:
        return None
    d = first[0]
    more = f"; {plural(len(first) - 1, 'more divergence')} at this step" if len(first) > 1 else ""
    return f"first divergence at step {d.step_index} `{d.step_name}`: {d.kind} — {change_text(d, left, right)}{more}"


def persistence(d: Divergence) -> str:
    """`step N `name``, plus how long it persisted."""
    persisted = f", persisted over {d.steps} steps" if d.steps > 1 else ""
    return f"step {d.step_index} `{d.step_name}`{persisted}"


def rule_entry(d: Divergence) -> dict[str, Any]:
    """A rule (an entry for the `rules:` list) accepting exactly this divergence."""
    scope = {"scenario": glob_escape(d.scenario), "step": glob_escape(d.step_name)}
    if d.kind in RULE_KINDS:
        scope["kind"] = d.kind
    return {"path": rule_path(d), "scope": scope, "reason": PLACEHOLDER_REASON}


def rule_line(d: Divergence) -> str:
    """The paste-ready rule for one divergence, as one line of YAML flow style."""
    return yaml.safe_dump(rule_entry(d), sort_keys=False, allow_unicode=True, width=1_000_000,
                          default_flow_style=True).strip()


def listing(divergences: list[Divergence]) -> list[Divergence]:
    """The full list's order: by kind (CAUSE_ORDER), then record, then first step."""
    return [d for _, members in by_kind(divergences) for _, group in records(members) for d in group]


def printed_rule(entry: dict[str, Any]) -> Rule:
    """The rule a paste-ready entry becomes once loaded (its reason aside)."""
    scope = entry["scope"]
    return Rule(entry["path"], entry["reason"], scope["scenario"], scope["step"], scope.get("kind"))


def ignore_list(divergences: list[Divergence]) -> str:
    """One paste-ready rules file accepting every divergence given, one rule a line, grouped by scenario; a
    divergence an earlier rule of the file already accepts (a cut log message) gets none, which would be stale."""
    lines = ["# Accepts every divergence of this run: replace each TODO with the reason, delete what must stay red.",
             "# A rule whose reason still reads TODO is refused (exit 2).", "rules:"]
    printed: list[Rule] = []
    for scenario in dict.fromkeys(d.scenario for d in divergences):
        lines.append(f"  # {scenario}")
        for d in listing([d for d in divergences if d.scenario == scenario]):
            if not any(rule.matches(d) for rule in printed):
                printed.append(printed_rule(rule_entry(d)))
                lines.append(f"  - {rule_line(d)}")
    return "\n".join(lines)


def verdict_line(result: ParityResult) -> str:
    """The one-line verdict: counts per status, stale rules when --strict fails on them, and the exit code."""
    counts = {status: sum(1 for s in result.scenarios if s.status == status) for status in STATUS_MARK}
    stale = f", {plural(len(result.stale_rules), 'stale rule')} (--strict)" if result.strict_failure else ""
    return (f"drs-parity: {result.verdict.upper()} ({result.left} vs {result.right} on {result.backend}): "
            f"{counts[PARITY]} parity, {counts[DIVERGENCE]} divergent, {counts[ERROR]} errors "
            f"of {len(result.scenarios)} scenarios{stale}; exit {int(result.exit_code)}")


def stale_rule_line(rule: Rule) -> str:
    """A stale rule for the terminal: where it is, its path and its reason."""
    return f"stale rule {rule.source}: `{rule.path}` matched no divergence ({rule.reason})"


def divergence_text(result: ScenarioResult, left: str, right: str) -> str:
    """A divergent scenario as plain text: the chain verdicts, the first divergence, then every divergence."""
    lines = [f"chain: {chain_line(result, left, right)}", f"{headline(result, left, right)}", ""]
    lines += [f"{d.path} (first step {d.step_index} {d.step_name}): {left}={short_value(d.left, d.left_absent)}"
              f" {right}={short_value(d.right, d.right_absent)}" for d in result.active]
    return "\n".join(lines)
