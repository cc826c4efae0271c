"""The fault matrix shown: fault × scenario table with ✓/✗ per side, the reasons, its figure line, and its files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drs_parity.gate.fault_matrix import BROKEN, HELD, NOT_APPLICABLE, Cell, MatrixResult, SideVerdict
from drs_parity.report.files import OutputError, require_writable_folder, write_all_atomically

MARKS = {HELD: "✓", BROKEN: "✗", NOT_APPLICABLE: "–"}
FILES = {"md": "fault-matrix.md", "json": "fault-matrix.json"}
SCHEMA_VERSION = 1


def figure_line(result: MatrixResult) -> str:
    """The matrix's one figure: cells where both sides held, of the cells judged."""
    return f"faults held {result.held}/{len(result.judged)}"


def _mark(cell: Cell | None) -> str:
    """A cell as `left right` marks; blank when the fault does not apply to the scenario."""
    if cell is None or not cell.applies:
        return ""
    return f"{MARKS[cell.left.status]} {MARKS[cell.right.status]}"


def table(result: MatrixResult) -> str:
    """One row per fault, one column per scenario; each cell the left then the right side's mark."""
    header = f"| fault ({result.left} / {result.right}) | " + " | ".join(result.scenarios) + " |"
    rows = [header, "|---|" + "---|" * len(result.scenarios)]
    for case in result.faults:
        marks = [_mark(result.cell(case.name, scenario)) for scenario in result.scenarios]
        rows.append(f"| `{case.name}` | " + " | ".join(marks) + " |")
    return "\n".join(rows)


def reason_lines(result: MatrixResult) -> list[str]:
    """One line per side that did not hold: fault × scenario, the side, and why."""
    lines = []
    for cell in result.cells:
        for name, verdict in _sides(result, cell):
            if verdict.status == BROKEN:
                lines.append(f"- `{cell.fault}` × `{cell.scenario}`, {name}: {'; '.join(verdict.reasons)}")
    return lines


def _sides(result: MatrixResult, cell: Cell) -> tuple[tuple[str, SideVerdict], ...]:
    return (result.left, cell.left), (result.right, cell.right)


def terminal_text(result: MatrixResult) -> str:
    """What `drs-parity faults` prints: the table, the reasons for each ✗, the figure line last."""
    reasons = reason_lines(result)
    parts = [table(result), "", "✓ held, ✗ broken, – the fault does not apply to that side, blank: not to the "
                                "scenario"]
    if reasons:
        parts += ["", "Not held:", *reasons]
    return "\n".join([*parts, "", figure_line(result)]) + "\n"


def to_markdown(result: MatrixResult) -> str:
    """fault-matrix.md: a title, what each fault does, then what the terminal shows."""
    described = [f"- `{case.name}` ({case.service}): {case.title}" for case in result.faults]
    return "\n".join([f"# Fault matrix: {result.left} / {result.right} on {result.backend}", "",
                      f"**{figure_line(result)}**", "", terminal_text(result), "## Faults", "", *described]) + "\n"


def to_dict(result: MatrixResult) -> dict[str, Any]:
    """fault-matrix.json: every cell with both sides' verdicts, reasons and the faults each side got."""
    return {"schemaVersion": SCHEMA_VERSION, "left": result.left, "right": result.right, "backend": result.backend,
            "held": result.held, "judged": len(result.judged), "exitCode": int(result.exit_code),
            "faults": [{"name": case.name, "service": case.service, "title": case.title,
                        "needs": sorted(case.needs), "failure": case.failure} for case in result.faults],
            "scenarios": result.scenarios,
            "cells": [{"fault": cell.fault, "scenario": cell.scenario, "held": cell.held,
                       "sides": {side: {"system": name, "status": verdict.status, "reasons": list(verdict.reasons),
                                        "faults": list(verdict.faults)}
                                 for side, (name, verdict) in zip(("left", "right"), _sides(result, cell))}}
                      for cell in result.cells if cell.applies]}


def write_matrix(result: MatrixResult, folder: Path) -> dict[str, Path]:
    """fault-matrix.md and fault-matrix.json in `folder`, both or neither."""
    require_writable_folder(folder, "the fault matrix")
    paths = {kind: folder / name for kind, name in FILES.items()}
    texts = {paths["md"]: to_markdown(result), paths["json"]: json.dumps(to_dict(result), indent=2) + "\n"}
    try:
        write_all_atomically(texts)
    except OSError as problem:
        raise OutputError(f"cannot write the fault matrix: {problem.filename or folder}: {problem.strerror}") from None
    return paths
