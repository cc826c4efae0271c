"""A long divergent value as a side-by-side diff of the pretty-printed record, changed lines marked."""

from __future__ import annotations

import difflib
import json
from typing import Any

from drs_parity.compare.divergence import Divergence
from drs_parity.report.texts import as_json

LONG_VALUE = 100  # characters of compact JSON from which a record is shown as a diff, not as two values
CONTEXT = 3  # equal lines kept around each change; longer equal runs fold into one line
DiffRow = tuple[str, str, str]  # left line, right line, tag: equal | changed | left | right | fold


def is_long(d: Divergence) -> bool:
    """Whether both sides hold a record (or list) too long to read as two values side by side in a line."""
    if d.left_absent or d.right_absent or not isinstance(d.left, (dict, list)) or not isinstance(d.right, (dict, list)):
        return False
    return max(len(as_json(d.left)), len(as_json(d.right))) > LONG_VALUE


def pretty(value: Any) -> list[str]:
    """A value as key-sorted, indented JSON lines."""
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def folded(rows: list[DiffRow]) -> list[DiffRow]:
    """Equal runs longer than twice CONTEXT folded to their edges and one `… n equal lines` row."""
    out: list[DiffRow] = []
    run: list[DiffRow] = []
    for row in [*rows, ("", "", "end")]:
        if row[2] == "equal":
            run.append(row)
            continue
        first, last = not out, row[2] == "end"
        head = [] if first else run[:CONTEXT]
        tail = [] if last else run[-CONTEXT:]
        hidden = len(run) - len(head) - len(tail)
        if hidden > 1:
            out += [*head, (f"… {hidden} equal lines", f"… {hidden} equal lines", "fold"), *tail]
        else:
            out += run
        run = []
        if not last:
            out.append(row)
    return out


def side_by_side(left: Any, right: Any) -> list[DiffRow]:
    """Both values' JSON lines aligned: equal lines once per side, replaced lines paired, the rest one-sided."""
    a, b = pretty(left), pretty(right)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [(line, line, "equal") for line in a[i1:i2]]
            continue
        old, new = a[i1:i2], b[j1:j2]
        for position in range(max(len(old), len(new))):
            pair = (old[position] if position < len(old) else "", new[position] if position < len(new) else "")
            rows.append((*pair, "changed" if all(pair) else ("left" if pair[0] else "right")))
    return folded(rows)


def unified(left: Any, right: Any, left_name: str, right_name: str) -> str:
    """The same diff as unified text (for Markdown): `-` left, `+` right."""
    lines = difflib.unified_diff(pretty(left), pretty(right), left_name, right_name, n=CONTEXT, lineterm="")
    return "\n".join(lines)
