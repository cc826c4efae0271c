"""Parity results and their renderings: exit code, JSON, Markdown, HTML, JUnit XML, and a terminal progress line."""

from __future__ import annotations

import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, TextIO
from xml.etree import ElementTree

from drs_parity.compare.diff import Divergence
from drs_parity.compare.rules import NoiseEntry, Rule, glob_match, pattern_problem

if TYPE_CHECKING:  # imported late at run time: the doctor registers a CLI subcommand, which imports this module
    from drs_parity.diagnose.doctor import Diagnosis

SCHEMA_VERSION = 2
EXIT_PARITY, EXIT_DIVERGENCE, EXIT_ERROR = 0, 1, 2
VALUE_LIMIT = 300  # characters of a value shown in Markdown/HTML (JSON keeps it whole)
TEXT_LIMIT = 120  # characters of evidence or a log message in a headline or verdict
FIRST_STEP_ROWS = 10  # divergences of the first divergent step shown at the top of a scenario
STATUS_MARK = {"parity": "✅ parity", "divergence": "❌ divergence", "error": "⚠️ error"}
# Causes before effects: a step mismatch, then what functions logged (the chain's links only show there), the
# outbound DRS/EC2/STS calls they made, what they persisted, and what the API then shows users.
CAUSE_ORDER = ("steps", "logs", "calls", "tables", "api")
ERROR_LEVELS = ("ERROR", "CRITICAL")
# An AWS error code quoted in a message: `AccessDeniedException: …`, `UnauthorizedOperation: …`.
ERROR_CODE = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)+(?=: \S)")
TODO_REASON = "TODO: say why this difference is acceptable"


@dataclass
class ScenarioResult:
    """One scenario run on both sides: divergences (all statuses), noise, final statuses, chains, error, timings."""

    scenario: str
    divergences: list[Divergence] = field(default_factory=list)
    noise: list[NoiseEntry] = field(default_factory=list)
    left_final: str | None = None
    right_final: str | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    left_chain: Diagnosis | None = None  # the doctor on each side's timeline (normalised references)
    right_chain: Diagnosis | None = None

    def with_status(self, status: str) -> list[Divergence]:
        """Divergences with `status` (divergence | accepted | noise), causes before effects."""
        return ordered(d for d in self.divergences if d.status == status)

    @property
    def active(self) -> list[Divergence]:
        """The divergences that decide the verdict."""
        return self.with_status("divergence")

    @property
    def status(self) -> str:
        """parity | divergence | error."""
        if self.error:
            return "error"
        return "divergence" if self.active else "parity"

    @property
    def seconds(self) -> float:
        """Wall time of every side run of this scenario."""
        return sum(self.timings.values())

    @property
    def first_step(self) -> list[Divergence]:
        """The active divergences of the earliest divergent step, causes before effects."""
        active = self.active
        return [d for d in active if d.step_index == active[0].step_index] if active else []


@dataclass
class ParityResult:
    """A whole run: the pair, the backend, every scenario, the rules that matched nothing."""

    left: str
    right: str
    backend: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    stale_rules: list[Rule] = field(default_factory=list)
    rules_source: str | None = None
    calibrated: bool = True
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 parity, 1 divergence, 2 a harness error in any scenario."""
        statuses = {result.status for result in self.scenarios}
        if "error" in statuses:
            return EXIT_ERROR
        return EXIT_DIVERGENCE if "divergence" in statuses else EXIT_PARITY

    @property
    def verdict(self) -> str:
        """The exit code as a word."""
        return {EXIT_PARITY: "parity", EXIT_DIVERGENCE: "divergence", EXIT_ERROR: "error"}[self.exit_code]

    def all_with_status(self, status: str) -> list[Divergence]:
        """Divergences with `status` over every scenario, each scenario's causes before effects."""
        return [d for result in self.scenarios for d in result.with_status(status)]


# -- order and records -----------------------------------------------------------------------------------------------
def kind_rank(kind: str) -> int:
    """Position of a divergence kind in CAUSE_ORDER (unknown kinds last)."""
    return CAUSE_ORDER.index(kind) if kind in CAUSE_ORDER else len(CAUSE_ORDER)


def records_of(value: Any) -> list[dict[str, Any]]:
    """The captured records a divergence value holds (one record, a list of them, or none)."""
    values = value if isinstance(value, list) else [value]
    return [record for record in values if isinstance(record, dict)]


def error_like(d: Divergence) -> bool:
    """Whether a side logged an error or a call failed here: the likeliest cause among a step's divergences."""
    records = records_of(d.left) + records_of(d.right)
    return any(record.get("level") in ERROR_LEVELS or record.get("error") for record in records)


def cause_key(d: Divergence) -> tuple[int, int, bool, str]:
    """First step, then kind in CAUSE_ORDER, errors first, then path."""
    return (d.step_index, kind_rank(d.kind), not error_like(d), d.path)


def ordered(divergences: Iterable[Divergence]) -> list[Divergence]:
    """Causes before effects (see CAUSE_ORDER)."""
    return sorted(divergences, key=cause_key)


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
    if result.status != "divergence" or (result.left_chain is None and result.right_chain is None):
        return "-"
    sides = [(left, result.left_chain), (right, result.right_chain)]
    broken = [f"{side}: {d.first_broken.link}" for side, d in sides if d is not None and d.first_broken]
    return "; ".join(broken) or "both healthy"


def record_name(d: Divergence) -> str:
    """What a log or call record is, for a sentence: the message or `service.Operation`."""
    return short_text(record_of(d)[len(d.kind) + 1:-1])


def short_path(d: Divergence, more: str = "…") -> str:
    """The path for reading, a long record key (a log message) cut like a headline, `more` marking the cut."""
    if len(d.path) <= TEXT_LIMIT:
        return d.path
    record = record_of(d)
    opening = record.find("[")
    if opening < 0 or not record.endswith("]"):
        return short_text(d.path, more)
    return f"{record[:opening]}[{short_text(record[opening + 1:-1], more)}]{d.path[len(record):]}"


def rule_path(d: Divergence) -> str:
    """The exact path, or for a long log message its headline cut as a glob (the tail often holds
    deployment-specific names, such as a role's generated suffix, that would make the rule miss the next run)."""
    pattern = short_path(d, more="*")
    return pattern if pattern_problem(pattern) is None and glob_match(pattern, d.path) else d.path


def change_text(d: Divergence, left: str, right: str) -> str:
    """One divergence as a sentence: who logged/called what the other did not, else both values."""
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
    scope = {"scenario": d.scenario, "step": d.step_name}
    if d.kind in ("api", "tables", "calls", "logs"):
        scope["kind"] = d.kind
    return {"path": rule_path(d), "scope": scope, "reason": TODO_REASON}


def rule_line(d: Divergence) -> str:
    """The paste-ready rule for one divergence, as one line of YAML flow style."""
    import yaml  # local: only reports need it

    return yaml.safe_dump(rule_entry(d), sort_keys=False, allow_unicode=True, width=1_000_000,
                          default_flow_style=True).strip()


def listing(divergences: list[Divergence]) -> list[Divergence]:
    """The full list's order: by kind (CAUSE_ORDER), then record, then first step."""
    return [d for _, members in by_kind(divergences) for _, group in records(members) for d in group]


def ignore_list(divergences: list[Divergence]) -> str:
    """One paste-ready rules file accepting every divergence given, one rule a line, grouped by scenario."""
    lines = ["# Accepts every divergence of this run: replace each TODO with the reason, delete what must stay red.",
             "rules:"]
    for scenario in dict.fromkeys(d.scenario for d in divergences):
        lines.append(f"  # {scenario}")
        lines += [f"  - {rule_line(d)}" for d in listing([d for d in divergences if d.scenario == scenario])]
    return "\n".join(lines)


def verdict_line(result: ParityResult) -> str:
    """The one-line verdict: counts per status and the exit code."""
    counts = {status: sum(1 for s in result.scenarios if s.status == status) for status in STATUS_MARK}
    return (f"drs-parity: {result.verdict.upper()} ({result.left} vs {result.right} on {result.backend}): "
            f"{counts['parity']} parity, {counts['divergence']} divergent, {counts['error']} errors "
            f"of {len(result.scenarios)} scenarios; exit {result.exit_code}")


# -- JSON ------------------------------------------------------------------------------------------------------------
def divergence_json(d: Divergence) -> dict[str, Any]:
    """A divergence's JSON form plus the record it belongs to."""
    return {**d.to_dict(), "record": record_of(d)}


def first_divergence_json(result: ScenarioResult, left: str, right: str) -> dict[str, Any] | None:
    """Where a scenario first diverged: step, the leading divergence's kind and path, the headline, the count."""
    first = result.first_step
    if not first:
        return None
    return {"step": {"index": first[0].step_index, "name": first[0].step_name}, "kind": first[0].kind,
            "path": first[0].path, "count": len(first), "headline": headline(result, left, right)}


def scenario_summary(result: ScenarioResult, left: str, right: str) -> dict[str, Any]:
    """One scenario's entry of the JSON report."""
    return {
        "name": result.scenario, "status": result.status, "error": result.error,
        "final": {"left": result.left_final, "right": result.right_final},
        "chain": {"left": result.left_chain.to_dict() if result.left_chain else None,
                  "right": result.right_chain.to_dict() if result.right_chain else None},
        "firstDivergence": first_divergence_json(result, left, right),
        "counts": {status: len(result.with_status(status)) for status in ("divergence", "accepted", "noise")},
        "timings": {name: round(value, 3) for name, value in result.timings.items()},
    }


def to_json(result: ParityResult) -> dict[str, Any]:
    """The machine-readable report; `schemaVersion` changes only when a consumer would have to."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "left": result.left, "right": result.right, "backend": result.backend,
        "verdict": result.verdict, "exitCode": result.exit_code, "calibrated": result.calibrated,
        "rules": {"source": result.rules_source},
        "scenarios": [scenario_summary(scenario, result.left, result.right) for scenario in result.scenarios],
        "divergences": [divergence_json(d) for d in result.all_with_status("divergence")],
        "accepted": [divergence_json(d) for d in result.all_with_status("accepted")],
        "excludedAsNoise": [divergence_json(d) for d in result.all_with_status("noise")],
        "noise": [entry.to_dict() for scenario in result.scenarios for entry in scenario.noise],
        "staleRules": [rule.to_dict() for rule in result.stale_rules],
        "timings": {"total": round(result.seconds, 3),
                    "scenarios": {s.scenario: round(s.seconds, 3) for s in result.scenarios}},
    }


# -- the readable report as blocks (rendered as Markdown and as HTML) ------------------------------------------------
# Texts use Markdown's inline marks only: `code` and **bold**. A list item is a text or (text, [sub-items]).
Item = str | tuple[str, list[str]]
Block = tuple[str, Any]  # ("h1".."h4", text) | ("p", text) | ("ul", [Item]) | ("table", (header, rows)) | ("pre", text)


def summary_rows(result: ParityResult) -> tuple[list[str], list[list[str]]]:
    """The summary table: one row per scenario."""
    header = ["scenario", "status", result.left, result.right, "chain", "divergences", "accepted", "noise", "seconds"]
    rows = [[s.scenario, STATUS_MARK[s.status], s.left_final or "-", s.right_final or "-",
             chain_cell(s, result.left, result.right), str(len(s.active)), str(len(s.with_status("accepted"))),
             str(len(s.with_status("noise"))), f"{s.seconds:.2f}"] for s in result.scenarios]
    return header, rows


def first_step_blocks(result: ScenarioResult, left: str, right: str) -> list[Block]:
    """The earliest divergent step's divergences (at most FIRST_STEP_ROWS), causes before effects."""
    first = result.first_step
    title = (f"First divergent step: {first[0].step_index} `{first[0].step_name}` "
             f"({plural(len(first), 'divergence')}, causes before effects)")
    rows = [[d.kind, f"`{short_path(d)}`", f"`{short_value(d.left, d.left_absent)}`",
             f"`{short_value(d.right, d.right_absent)}`"] for d in first[:FIRST_STEP_ROWS]]
    blocks: list[Block] = [("h3", title), ("table", (["kind", "path", left, right], rows))]
    if len(first) > FIRST_STEP_ROWS:
        blocks.append(("p", f"… and {len(first) - FIRST_STEP_ROWS} more at this step, in the full list below."))
    return blocks


def divergence_item(d: Divergence, shown_path: str, left: str, right: str) -> Item:
    """One divergence of the full list: path, both values, first step, persistence; its rule beneath."""
    return (f"`{shown_path}` — {left} `{short_value(d.left, d.left_absent)}` · "
            f"{right} `{short_value(d.right, d.right_absent)}` · {persistence(d)}", [f"rule: `{rule_line(d)}`"])


def record_blocks(record: str, divergences: list[Divergence], left: str, right: str) -> list[Block]:
    """A record with several divergences: its title, then its paths relative to the record."""
    title = f"**`{record}`** — {plural(len(divergences), 'divergence')}, first at step {divergences[0].step_index}"
    items = [divergence_item(d, d.path[len(record):] or "(the whole record)", left, right) for d in divergences]
    return [("p", title), ("ul", items)]


def kind_blocks(kind: str, divergences: list[Divergence], left: str, right: str) -> list[Block]:
    """One kind's divergences by record; records with one divergence share one list."""
    grouped = records(divergences)
    blocks: list[Block] = [("h4", f"{kind}: {plural(len(divergences), 'divergence')} in "
                                  f"{plural(len(grouped), 'record')}")]
    loose: list[Item] | None = None  # the open list of consecutive one-divergence records
    for record, members in grouped:
        if len(members) > 1:
            blocks += record_blocks(record, members, left, right)
            loose = None
            continue
        if loose is None:
            loose = []
            blocks.append(("ul", loose))
        loose.append(divergence_item(members[0], short_path(members[0]), left, right))
    return blocks


def full_list_blocks(result: ScenarioResult, left: str, right: str) -> list[Block]:
    """Every active divergence of a scenario, by kind (causes first), then by record, with counts."""
    blocks: list[Block] = [("h3", f"All {plural(len(result.active), 'divergence')}, by kind and record")]
    for kind, divergences in by_kind(result.active):
        blocks += kind_blocks(kind, divergences, left, right)
    return blocks


def scenario_blocks(result: ScenarioResult, left: str, right: str) -> list[Block]:
    """A divergent scenario: which link broke, where it first diverged, then everything."""
    summary = [f"**Chain:** {chain_line(result, left, right)}", f"**Where:** {headline(result, left, right)}"]
    return [("h2", f"`{result.scenario}`: {plural(len(result.active), 'divergence')}"), ("ul", summary),
            *first_step_blocks(result, left, right), *full_list_blocks(result, left, right)]


def tail_blocks(result: ParityResult) -> list[Block]:
    """Accepted divergences, noise, stale rules."""
    blocks: list[Block] = []
    accepted = result.all_with_status("accepted")
    if accepted:
        blocks += [("h2", "Accepted"), ("ul", [f"`{d.scenario}` `{short_path(d)}` (step {d.step_index} "
                                               f"`{d.step_name}`): {d.rule.reason} [{d.rule.source}]"
                                               for d in accepted])]
    noise = [entry for s in result.scenarios for entry in s.noise]
    blocks += [("h2", "Noise (a side against itself; excluded from the verdict)"),
               ("ul", [f"{e.side} `{e.scenario}` step {e.step_index} `{e.step_name}`: `{e.path}` "
                       f"(`{short_value(e.first)}` then `{short_value(e.second)}`)" for e in noise]
                or ["none" if result.calibrated else "not calibrated (--no-calibrate)"])]
    blocks += [("h2", "Stale rules (matched nothing in this run)"),
               ("ul", [f"`{rule.path}` [{rule.source}]: {rule.reason}" for rule in result.stale_rules] or ["none"])]
    return blocks


def report_blocks(result: ParityResult) -> list[Block]:
    """The whole readable report; a parity run is the verdict, the summary and the short tail."""
    blocks: list[Block] = [("h1", f"drs-parity: {result.left} vs {result.right} on {result.backend}"),
                           ("p", f"**{verdict_line(result)}**"), ("table", summary_rows(result))]
    errors = [s for s in result.scenarios if s.error]
    if errors:
        blocks += [("h2", "Errors"), ("ul", [f"`{s.scenario}`: {s.error}" for s in errors])]
    for scenario in result.scenarios:
        if scenario.status == "divergence":
            blocks += scenario_blocks(scenario, result.left, result.right)
    active = result.all_with_status("divergence")
    if active:
        blocks += [("h2", "Accept them all: one paste-ready rules file"),
                   ("p", "Every divergence above as a rule (save as a rules file, pass `--rules FILE`):"),
                   ("pre", ignore_list(active))]
    return blocks + tail_blocks(result)


# -- Markdown --------------------------------------------------------------------------------------------------------
def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GFM table; pipes inside cells escaped."""
    def row(cells: list[str]) -> str:
        """One table row."""
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    return "\n".join([row(header), "|" + "---|" * len(header), *(row(cells) for cells in rows)])


def markdown_item(item: Item) -> str:
    """A list item, its sub-items nested."""
    text, children = (item, []) if isinstance(item, str) else item
    return "\n".join([f"- {text}", *(f"  - {child}" for child in children)])


def markdown_block(kind: str, content: Any) -> str:
    """One block as Markdown."""
    if kind.startswith("h"):
        return f"{'#' * int(kind[1])} {content}"
    if kind == "ul":
        return "\n".join(markdown_item(item) for item in content)
    if kind == "table":
        return markdown_table(*content)
    if kind == "pre":
        return f"```yaml\n{content}\n```"
    return str(content)


def to_markdown(result: ParityResult) -> str:
    """The report a person reads."""
    return "\n\n".join(markdown_block(kind, content) for kind, content in report_blocks(result)) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------------------
HTML_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
              "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
              "code,pre{background:#f4f4f4}pre{padding:.6em;overflow-x:auto}li{margin:.2em 0}"
              ".divergence{color:#b00}.parity{color:#070}.error{color:#a60}")
STATUS_CLASS = {mark: status for status, mark in STATUS_MARK.items()}
BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_html(text: str) -> str:
    """Markdown's `code` and **bold** as HTML; everything else escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show it literally
        parts = [text]
    rendered = "".join(f"<code>{html.escape(part)}</code>" if index % 2 else html.escape(part)
                       for index, part in enumerate(parts))
    return BOLD.sub(r"<strong>\1</strong>", rendered)


def html_cell(text: str) -> str:
    """A table cell; a status mark gets its colour."""
    if text in STATUS_CLASS:
        return f'<td><span class="{STATUS_CLASS[text]}">{html.escape(text)}</span></td>'
    return f"<td>{inline_html(text)}</td>"


def html_table(header: list[str], rows: Iterable[list[str]]) -> str:
    """A table with escaped header and inline-marked cells."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(html_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_item(item: Item) -> str:
    """A list item, its sub-items nested."""
    text, children = (item, []) if isinstance(item, str) else item
    nested = f"<ul>{''.join(f'<li>{inline_html(child)}</li>' for child in children)}</ul>" if children else ""
    return f"<li>{inline_html(text)}{nested}</li>"


def html_block(kind: str, content: Any) -> str:
    """One block as HTML."""
    if kind.startswith("h"):
        return f"<{kind}>{inline_html(content)}</{kind}>"
    if kind == "ul":
        return f"<ul>{''.join(html_item(item) for item in content)}</ul>"
    if kind == "table":
        return html_table(*content)
    if kind == "pre":
        return f"<pre>{html.escape(content)}</pre>"
    return f"<p>{inline_html(content)}</p>"


def to_html(result: ParityResult) -> str:
    """The Markdown report's content as one self-contained page (no scripts, no external resources)."""
    body = "\n".join(html_block(kind, content) for kind, content in report_blocks(result))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>drs-parity report</title>"
            f"<style>{HTML_STYLE}</style></head><body>\n{body}\n</body></html>\n")


# -- JUnit XML and the terminal --------------------------------------------------------------------------------------
def divergence_text(result: ScenarioResult, left: str, right: str) -> str:
    """A divergent scenario as plain text: the chain verdicts, the first divergence, then every divergence."""
    lines = [f"chain: {chain_line(result, left, right)}", f"{headline(result, left, right)}", ""]
    lines += [f"{d.path} (first step {d.step_index} {d.step_name}): {left}={short_value(d.left, d.left_absent)}"
              f" {right}={short_value(d.right, d.right_absent)}" for d in result.active]
    return "\n".join(lines)


def to_junit(result: ParityResult) -> str:
    """One testcase per scenario; failure text = chain verdicts, first divergence, divergences; error = the error."""
    suite = ElementTree.Element("testsuite", name="drs-parity", tests=str(len(result.scenarios)),
                                failures=str(sum(s.status == "divergence" for s in result.scenarios)),
                                errors=str(sum(s.status == "error" for s in result.scenarios)),
                                time=f"{result.seconds:.3f}")
    for scenario in result.scenarios:
        case = ElementTree.SubElement(suite, "testcase", classname=f"drs-parity.{result.left}-vs-{result.right}",
                                      name=scenario.scenario, time=f"{scenario.seconds:.3f}")
        if scenario.error:
            ElementTree.SubElement(case, "error", message=scenario.error).text = scenario.error
        elif scenario.active:
            chain = chain_cell(scenario, result.left, result.right)
            failure = ElementTree.SubElement(case, "failure", message=f"{len(scenario.active)} divergence(s); "
                                                                      f"chain: {chain}")
            failure.text = divergence_text(scenario, result.left, result.right)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def summary_table(result: ParityResult) -> str:
    """The summary table as Markdown (also what `drs-parity run` prints)."""
    return markdown_table(*summary_rows(result))


def terminal_summary(result: ParityResult) -> str:
    """What `drs-parity run` prints: summary table, each divergent scenario's chain and first divergence, verdict."""
    lines = [summary_table(result), ""]
    for s in result.scenarios:
        if s.status == "divergence":
            lines += [f"{s.scenario}: {chain_line(s, result.left, result.right)}",
                      f"{s.scenario}: {headline(s, result.left, result.right)}", ""]
    return "\n".join([*lines, verdict_line(result)])


# -- files -----------------------------------------------------------------------------------------------------------
def write_reports(result: ParityResult, out_dir: Path, junit: Path | None = None) -> dict[str, Path]:
    """report.json, report.md, report.html and junit.xml (or `junit`) into `out_dir`; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html",
             "junit": junit or out_dir / "junit.xml"}
    files["json"].write_text(json.dumps(to_json(result), indent=2, sort_keys=True, default=str) + "\n")
    files["md"].write_text(to_markdown(result), encoding="utf-8")
    files["html"].write_text(to_html(result), encoding="utf-8")
    files["junit"].parent.mkdir(parents=True, exist_ok=True)
    files["junit"].write_text(to_junit(result), encoding="utf-8")
    return files


# -- progress --------------------------------------------------------------------------------------------------------
class Progress:
    """One line per scenario on a terminal, rewritten in place when it finishes; silent when not a TTY."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        """Writes to `stream` (stdout); enabled on a TTY unless told."""
        self.stream = stream or sys.stdout
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def start(self, scenario: str) -> None:
        """The scenario's `running` line."""
        if self.enabled:
            self.stream.write(f"  {scenario} … running")
            self.stream.flush()

    def done(self, result: ScenarioResult) -> None:
        """The line rewritten with the scenario's status."""
        if self.enabled:
            detail = result.error or f"{len(result.active)} divergence(s)"
            self.stream.write(f"\r\x1b[K  {result.scenario} {STATUS_MARK[result.status]} "
                              f"({detail}, {result.seconds:.1f}s)\n")
            self.stream.flush()
