"""The readable report as a list of blocks, rendered as Markdown and as HTML."""

from __future__ import annotations

from typing import Any

from drs_parity.compare.divergence import DIVERGENCE, Divergence
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.report.record_diff import is_long
from drs_parity.report.runtime_failures import failure_items
from drs_parity.report.swimlane import swimlane_caption, swimlane_svg
from drs_parity.report.texts import (
    STATUS_MARK, by_kind, chain_cell, chain_line, headline, ignore_list, persistence, plural, records, rule_line,
    short_path, short_value, verdict_line,
)

FIRST_STEP_ROWS = 10  # divergences of the first divergent step shown at the top of a scenario
# Texts use Markdown's inline marks only: `code` and **bold**. A list item is a text or (text, [sub-items]).
Item = str | tuple[str, list[str]]
# ("h1".."h4", text) | ("p", text) | ("ul", [Item]) | ("table", (header, rows)) | ("pre", text) | ("svg", (markup, caption))
# | ("diff", (left name, right name, divergence)): a long record's two values side by side
Block = tuple[str, Any]


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
    """One divergence of the full list: path, both values (a long record: its diff follows), first step,
    persistence; its rule beneath."""
    values = (f"{left} and {right} differ (side by side below)" if is_long(d) else
              f"{left} `{short_value(d.left, d.left_absent)}` · {right} `{short_value(d.right, d.right_absent)}`")
    return f"`{shown_path}` — {values} · {persistence(d)}", [f"rule: `{rule_line(d)}`"]


def diff_blocks(divergences: list[Divergence], left: str, right: str) -> list[Block]:
    """The long records among `divergences`, each as a side-by-side diff."""
    return [("diff", (left, right, d)) for d in divergences if is_long(d)]


def record_blocks(record: str, divergences: list[Divergence], left: str, right: str) -> list[Block]:
    """A record with several divergences: its title, then its paths relative to the record."""
    title = f"**`{record}`** — {plural(len(divergences), 'divergence')}, first at step {divergences[0].step_index}"
    items = [divergence_item(d, d.path[len(record):] or "(the whole record)", left, right) for d in divergences]
    return [("p", title), ("ul", items), *diff_blocks(divergences, left, right)]


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
        if is_long(members[0]):
            blocks += diff_blocks(members, left, right)
            loose = None
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
            *swimlane_blocks(result, left, right), *failure_blocks(result, left, right),
            *first_step_blocks(result, left, right), *full_list_blocks(result, left, right)]


def swimlane_blocks(result: ScenarioResult, left: str, right: str) -> list[Block]:
    """The picture of both sides' statuses per step (HTML only), with its caption; none without status tracks."""
    svg = swimlane_svg(result, left, right)
    return [("svg", (svg, swimlane_caption(left, right)))] if svg else []


def failure_blocks(result: ScenarioResult, left: str, right: str) -> list[Block]:
    """The scenario's Lambda runtime failures, one item each (function, trigger, error, last traceback line)."""
    items = failure_items(result, left, right)
    return [("h3", f"Runtime failures ({len(items)})"), ("ul", items)] if items else []


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
        if scenario.status == DIVERGENCE:
            blocks += scenario_blocks(scenario, result.left, result.right)
        elif failure_items(scenario, result.left, result.right):
            blocks += [("h2", f"`{scenario.scenario}`: {STATUS_MARK[scenario.status]}"),
                       *failure_blocks(scenario, result.left, result.right)]
    active = result.all_with_status(DIVERGENCE)
    if active:
        blocks += [("h2", "Accept them all: one paste-ready rules file"),
                   ("p", "Every divergence above as a rule (save as a rules file, pass `--rules FILE`):"),
                   ("pre", ignore_list(active))]
    return blocks + tail_blocks(result)
