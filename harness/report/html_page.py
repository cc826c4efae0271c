"""The Markdown report's content as one self-contained HTML page."""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from drs_parity.gate.results import ParityResult
from drs_parity.report.blocks import Item, report_blocks
from drs_parity.report.record_diff import side_by_side
from drs_parity.report.texts import STATUS_MARK

HTML_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
              "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
              "code,pre{background:#f4f4f4}pre{padding:.6em;overflow-x:auto}li{margin:.2em 0}"
              ".divergence{color:#b00}.parity{color:#070}.error{color:#a60}"
              "table.diff{font:12px monospace;margin:.4em 0 1em}table.diff td{white-space:pre-wrap;border:0;"
              "padding:0 .6em;min-width:30em}table.diff th{font-family:system-ui,sans-serif}"
              "td.changed,td.left{background:#fde2e4}td.changed+td.changed,td.right{background:#d3f9d8}"
              "td.fold{color:#888;font-style:italic}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}"
              "svg.swimlane{max-width:100%;height:auto}")
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
    if kind == "diff":
        return html_diff(*content)
    if kind == "svg":  # markup made by report.swimlane, its texts escaped there
        svg, caption = content
        return f"<figure>{svg}<figcaption>{inline_html(caption)}</figcaption></figure>"
    return f"<p>{inline_html(content)}</p>"


def html_diff(left: str, right: str, d: Any) -> str:
    """A long record's two values side by side, line by line, changed lines highlighted."""
    def cell(text: str, tag: str) -> str:
        """One side's line; marked unless equal."""
        marked = "" if tag == "equal" else f" class='{tag}'"
        return f"<td{marked}>{html.escape(text)}</td>"
    rows = "".join(f"<tr>{cell(old, tag)}{cell(new, tag)}</tr>" for old, new, tag in side_by_side(d.left, d.right))
    head = f"<tr><th>{html.escape(left)}</th><th>{html.escape(right)}</th></tr>"
    return f"<p><code>{html.escape(d.path)}</code></p><table class='diff'>{head}{rows}</table>"


def to_html(result: ParityResult) -> str:
    """The Markdown report's content as one self-contained page (no scripts, no external resources)."""
    body = "\n".join(html_block(kind, content) for kind, content in report_blocks(result))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>drs-parity report</title>"
            f"<style>{HTML_STYLE}</style></head><body>\n{body}\n</body></html>\n")
