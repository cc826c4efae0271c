"""The report a person reads, as Markdown."""

from __future__ import annotations

from typing import Any

from drs_parity.gate.results import ParityResult
from drs_parity.report.blocks import Item, report_blocks
from drs_parity.report.record_diff import unified


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
    if kind == "diff":
        left, right, d = content
        return f"```diff\n{unified(d.left, d.right, left, right)}\n```"
    if kind == "svg":  # the picture is the HTML report's
        return ""
    return str(content)


def to_markdown(result: ParityResult) -> str:
    """The report a person reads."""
    rendered = (markdown_block(kind, content) for kind, content in report_blocks(result))
    return "\n\n".join(text for text in rendered if text) + "\n"
