"""Parity results and their renderings: exit code, JSON, Markdown, HTML, JUnit XML, and a terminal progress line."""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TextIO
from xml.etree import ElementTree

from harness.diff import Divergence
from harness.rules import NoiseEntry, Rule

SCHEMA_VERSION = 1
EXIT_PARITY, EXIT_DIVERGENCE, EXIT_ERROR = 0, 1, 2
VALUE_LIMIT = 300  # characters of a value shown in Markdown/HTML (JSON keeps it whole)
STATUS_MARK = {"parity": "✅ parity", "divergence": "❌ divergence", "error": "⚠️ error"}


@dataclass
class ScenarioResult:
    """One scenario run on both sides: its divergences (all statuses), noise, final statuses, error, timings."""

    scenario: str
    divergences: list[Divergence] = field(default_factory=list)
    noise: list[NoiseEntry] = field(default_factory=list)
    left_final: str | None = None
    right_final: str | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def with_status(self, status: str) -> list[Divergence]:
        return [d for d in self.divergences if d.status == status]

    @property
    def active(self) -> list[Divergence]:
        return self.with_status("divergence")

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "divergence" if self.active else "parity"

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


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
        statuses = {result.status for result in self.scenarios}
        if "error" in statuses:
            return EXIT_ERROR
        return EXIT_DIVERGENCE if "divergence" in statuses else EXIT_PARITY

    @property
    def verdict(self) -> str:
        return {EXIT_PARITY: "parity", EXIT_DIVERGENCE: "divergence", EXIT_ERROR: "error"}[self.exit_code]

    def all_with_status(self, status: str) -> list[Divergence]:
        return [d for result in self.scenarios for d in result.with_status(status)]


# -- JSON ------------------------------------------------------------------------------------------------------------
def scenario_summary(result: ScenarioResult) -> dict[str, Any]:
    return {
        "name": result.scenario, "status": result.status, "error": result.error,
        "final": {"left": result.left_final, "right": result.right_final},
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
        "scenarios": [scenario_summary(scenario) for scenario in result.scenarios],
        "divergences": [d.to_dict() for d in result.all_with_status("divergence")],
        "accepted": [d.to_dict() for d in result.all_with_status("accepted")],
        "excludedAsNoise": [d.to_dict() for d in result.all_with_status("noise")],
        "noise": [entry.to_dict() for scenario in result.scenarios for entry in scenario.noise],
        "staleRules": [rule.to_dict() for rule in result.stale_rules],
        "timings": {"total": round(result.seconds, 3),
                    "scenarios": {s.scenario: round(s.seconds, 3) for s in result.scenarios}},
    }


# -- Markdown --------------------------------------------------------------------------------------------------------
def short_value(value: Any, absent: bool = False) -> str:
    if absent:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def suggested_rule(divergence: Divergence) -> str:
    """A paste-ready YAML rule (an entry for the `rules:` list) accepting exactly this divergence."""
    entry = [{"path": divergence.path,
              "scope": {"scenario": divergence.scenario, "step": divergence.step_name, "kind": divergence.kind},
              "reason": "TODO: say why this difference is acceptable"}]
    if divergence.kind not in ("api", "tables", "calls", "logs"):
        del entry[0]["scope"]["kind"]
    return yaml_dump(entry)


def yaml_dump(value: Any) -> str:
    import yaml  # local: only reports need it

    # Flow style for the innermost mappings: `scope: {scenario: ..., step: ..., kind: ...}` on one line.
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=None).rstrip()


def verdict_line(result: ParityResult) -> str:
    counts = {status: sum(1 for s in result.scenarios if s.status == status) for status in STATUS_MARK}
    return (f"drs-parity: {result.verdict.upper()} ({result.left} vs {result.right} on {result.backend}): "
            f"{counts['parity']} parity, {counts['divergence']} divergent, {counts['error']} errors "
            f"of {len(result.scenarios)} scenarios; exit {result.exit_code}")


def summary_table(result: ParityResult) -> str:
    lines = [f"| scenario | status | {result.left} | {result.right} | divergences | accepted | noise | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for s in result.scenarios:
        lines.append(f"| {s.scenario} | {STATUS_MARK[s.status]} | {s.left_final or '-'} | {s.right_final or '-'} | "
                     f"{len(s.active)} | {len(s.with_status('accepted'))} | {len(s.with_status('noise'))} | "
                     f"{s.seconds:.2f} |")
    return "\n".join(lines)


def divergence_markdown(number: int, d: Divergence, left: str, right: str) -> str:
    persisted = f" (persisted over {d.steps} steps)" if d.steps > 1 else ""
    return "\n".join([
        f"#### {number}. `{d.path}`",
        f"- scenario `{d.scenario}`, kind `{d.kind}`, first step {d.step_index} `{d.step_name}`{persisted}",
        f"- {left}: `{short_value(d.left, d.left_absent)}`",
        f"- {right}: `{short_value(d.right, d.right_absent)}`",
        "", "Accept it (paste under `rules:` in your rules file):", "```yaml", suggested_rule(d), "```",
    ])


def to_markdown(result: ParityResult) -> str:
    parts = [f"# drs-parity: {result.left} vs {result.right} on {result.backend}", "",
             f"**{verdict_line(result)}**", "", summary_table(result)]
    errors = [s for s in result.scenarios if s.error]
    if errors:
        parts += ["", "## Errors", *[f"- `{s.scenario}`: {s.error}" for s in errors]]
    active = result.all_with_status("divergence")
    if active:
        parts += ["", "## Divergences"]
        parts += ["\n" + divergence_markdown(i, d, result.left, result.right) for i, d in enumerate(active, 1)]
    accepted = result.all_with_status("accepted")
    if accepted:
        parts += ["", "## Accepted", *[f"- `{d.scenario}` `{d.path}` (step {d.step_index} `{d.step_name}`): "
                                       f"{d.rule.reason} [{d.rule.source}]" for d in accepted]]
    parts += ["", "## Noise (a side against itself; excluded from the verdict)"]
    noise = [entry for s in result.scenarios for entry in s.noise]
    parts += [f"- {e.side} `{e.scenario}` step {e.step_index} `{e.step_name}`: `{e.path}` "
              f"(`{short_value(e.first)}` then `{short_value(e.second)}`)" for e in noise] or [
        "- none" if result.calibrated else "- not calibrated (--no-calibrate)"]
    parts += ["", "## Stale rules (matched nothing in this run)"]
    parts += [f"- `{rule.path}` [{rule.source}]: {rule.reason}" for rule in result.stale_rules] or ["- none"]
    return "\n".join(parts) + "\n"


# -- HTML ------------------------------------------------------------------------------------------------------------
HTML_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
              "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}code,pre{background:#f4f4f4}"
              "pre{padding:.6em;overflow-x:auto}.divergence{color:#b00}.parity{color:#070}.error{color:#a60}")


def html_table(header: list[str], rows: Iterable[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def code(text: Any) -> str:
    return f"<code>{html.escape(str(text))}</code>"


def to_html(result: ParityResult) -> str:
    """The Markdown report's content as one self-contained page (no scripts, no external resources)."""
    summary = html_table(
        ["scenario", "status", result.left, result.right, "divergences", "accepted", "noise", "seconds"],
        ([html.escape(s.scenario), f'<span class="{s.status}">{html.escape(STATUS_MARK[s.status])}</span>',
          html.escape(s.left_final or "-"), html.escape(s.right_final or "-"), str(len(s.active)),
          str(len(s.with_status("accepted"))), str(len(s.with_status("noise"))), f"{s.seconds:.2f}"]
         for s in result.scenarios))
    parts = [f"<h1>drs-parity: {html.escape(result.left)} vs {html.escape(result.right)} on "
             f"{html.escape(result.backend)}</h1>", f"<p><strong>{html.escape(verdict_line(result))}</strong></p>",
             summary]
    parts += [f"<p class=error>{code(s.scenario)}: {html.escape(s.error)}</p>" for s in result.scenarios if s.error]
    active = result.all_with_status("divergence")
    if active:
        parts.append("<h2>Divergences</h2>")
    for number, d in enumerate(active, 1):
        parts.append(
            f"<h4>{number}. {code(d.path)}</h4><ul><li>scenario {code(d.scenario)}, kind {code(d.kind)}, first step "
            f"{d.step_index} {code(d.step_name)}, persisted {d.steps} step(s)</li>"
            f"<li>{html.escape(result.left)}: {code(short_value(d.left, d.left_absent))}</li>"
            f"<li>{html.escape(result.right)}: {code(short_value(d.right, d.right_absent))}</li></ul>"
            f"<pre>{html.escape(suggested_rule(d))}</pre>")
    accepted = result.all_with_status("accepted")
    if accepted:
        parts.append("<h2>Accepted</h2>" + html_table(["scenario", "path", "reason"], (
            [code(d.scenario), code(d.path), html.escape(d.rule.reason)] for d in accepted)))
    noise = [entry for s in result.scenarios for entry in s.noise]
    parts.append("<h2>Noise</h2>" + (html_table(["side", "scenario", "step", "path"], (
        [html.escape(e.side), code(e.scenario), f"{e.step_index} {code(e.step_name)}", code(e.path)] for e in noise))
        if noise else "<p>none</p>"))
    parts.append("<h2>Stale rules</h2>" + (html_table(["path", "source", "reason"], (
        [code(r.path), code(r.source), html.escape(r.reason)] for r in result.stale_rules))
        if result.stale_rules else "<p>none</p>"))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>drs-parity report</title>"
            f"<style>{HTML_STYLE}</style></head><body>{''.join(parts)}</body></html>\n")


# -- JUnit XML -------------------------------------------------------------------------------------------------------
def divergence_text(result: ScenarioResult, left: str, right: str) -> str:
    return "\n".join(f"{d.path} (first step {d.step_index} {d.step_name}): {left}={short_value(d.left, d.left_absent)}"
                     f" {right}={short_value(d.right, d.right_absent)}" for d in result.active)


def to_junit(result: ParityResult) -> str:
    """One testcase per scenario; failure text = the divergences, error text = the harness error."""
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
            failure = ElementTree.SubElement(case, "failure", message=f"{len(scenario.active)} divergence(s)")
            failure.text = divergence_text(scenario, result.left, result.right)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


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
        self.stream = stream or sys.stdout
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def start(self, scenario: str) -> None:
        if self.enabled:
            self.stream.write(f"  {scenario} … running")
            self.stream.flush()

    def done(self, result: ScenarioResult) -> None:
        if self.enabled:
            detail = result.error or f"{len(result.active)} divergence(s)"
            self.stream.write(f"\r\x1b[K  {result.scenario} {STATUS_MARK[result.status]} "
                              f"({detail}, {result.seconds:.1f}s)\n")
            self.stream.flush()
