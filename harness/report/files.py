"""The report folder: report.json, report.md, report.html and junit.xml."""

from __future__ import annotations

import json
from pathlib import Path

from drs_parity.gate.results import ParityResult
from drs_parity.report.html_page import to_html
from drs_parity.report.json_report import to_json
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown


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
