"""The Markdown report's content as one self-contained HTML page."""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from drs_parity.gate.results import ParityResult
from drs_parity.report.blocks import Item, report_blocks
from drs_parity.report.texts import STATUS_MARK

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
