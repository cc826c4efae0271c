"""report.json read back into results (gate.results): what `drs-parity merge` joins and renders again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from drs_parity.compare.classify import noise_by_key
from drs_parity.compare.divergence import NOISE, Divergence, NoiseEntry, Rule
from drs_parity.diagnose.diagnosis import Check, Diagnosis
from drs_parity.errors import InputError
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.gate.shard import Shard
from drs_parity.report.json_report import SCHEMA_VERSION, SIDES

DIVERGENCE_LISTS = ("divergences", "accepted", "excludedAsNoise")  # every divergence of the run, by status


class ReportFileError(InputError):
    """A file that is not a report.json this drs-parity can read: one line naming it, exit 2."""


def read_report(path: Path) -> ParityResult:
    """The results a report.json holds; ReportFileError when it is missing, unreadable, not a drs-parity report, or
    of another schemaVersion."""
    data = report_data(path)
    version = data.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise ReportFileError(f"{path} has schemaVersion {version}; this drs-parity reads {SCHEMA_VERSION} "
                              f"(write every report with the same drs-parity)")
    try:
        return result_from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as problem:
        raise ReportFileError(f"{path} is not a drs-parity report: {shape_problem(problem)}") from None


def shape_problem(problem: Exception) -> str:
    """What reading a report's JSON stumbled on, in words: a missing field by name, else the error's own text."""
    if isinstance(problem, KeyError):
        return f"no field {problem.args[0]!r}"
    return f"{type(problem).__name__}: {problem}"


def report_data(path: Path) -> dict[str, Any]:
    """The JSON object of `path`, which must look like a drs-parity report (it has a schemaVersion)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise ReportFileError(f"cannot read {path}: {problem.strerror or problem}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ReportFileError(f"{path} is not a drs-parity report: not JSON") from None
    if not isinstance(data, dict) or "schemaVersion" not in data:
        raise ReportFileError(f"{path} is not a drs-parity report: no schemaVersion")
    return data


# -- the inverse of json_report, piece by piece ----------------------------------------------------------------------
def rule_from_json(data: Mapping[str, Any]) -> Rule:
    """A rule's JSON form (Rule.to_dict) as a Rule."""
    scope = data["scope"]
    return Rule(data["path"], data["reason"], scope["scenario"], scope["step"], scope.get("kind"),
                data.get("source", ""))


def divergence_from_json(data: Mapping[str, Any], noise: Mapping[tuple[str, str], list[NoiseEntry]]) -> Divergence:
    """A divergence's JSON form as a Divergence; one classified as noise gets back the entries that explain it."""
    divergence = Divergence(data["scenario"], data["kind"], data["path"], data["left"], data["right"],
                            data["firstStep"]["index"], data["firstStep"]["name"], data["steps"],
                            data["leftAbsent"], data["rightAbsent"], data["status"],
                            rule_from_json(data["rule"]) if data.get("rule") else None)
    if divergence.status == NOISE:
        divergence.noise = list(noise.get(divergence.key, []))
    return divergence


def diagnosis_from_json(data: Mapping[str, Any] | None) -> Diagnosis | None:
    """A chain verdict's JSON form (Diagnosis.to_dict) as a Diagnosis (None stays None: that side did not run)."""
    if data is None:
        return None
    checks = [Check(check["link"], check["title"], check["status"], check["evidence"]) for check in data["checks"]]
    return Diagnosis(data["side"], data["scenario"], data["executionId"], checks)


def scenario_from_json(entry: Mapping[str, Any], data: Mapping[str, Any]) -> ScenarioResult:
    """One scenario's results from its entry and the run-wide lists (divergences, noise) that name it."""
    name = entry["name"]
    noise = [NoiseEntry.from_dict(item) for item in data["noise"] if item["scenario"] == name]
    by_key = noise_by_key(noise)
    divergences = [divergence_from_json(item, by_key) for key in DIVERGENCE_LISTS for item in data[key]
                   if item["scenario"] == name]
    tracks = [entry["tracks"][side] for side in SIDES if entry["tracks"][side] is not None]
    return ScenarioResult(name, divergences, noise, left_final=entry["final"]["left"],
                          right_final=entry["final"]["right"], error=entry["error"], timings=dict(entry["timings"]),
                          left_chain=diagnosis_from_json(entry["chain"]["left"]),
                          right_chain=diagnosis_from_json(entry["chain"]["right"]), tracks=tracks,
                          wall_seconds=data["timings"]["scenarios"][name])


def result_from_json(data: Mapping[str, Any]) -> ParityResult:
    """The whole run's results from its report.json (json_report.to_json's form)."""
    shard = data["shard"]
    return ParityResult(
        data["left"], data["right"], data["backend"],
        scenarios=[scenario_from_json(entry, data) for entry in data["scenarios"]],
        stale_rules=[rule_from_json(rule) for rule in data["staleRules"]], rules_source=data["rules"]["source"],
        calibrated=data["calibrated"], seconds=data["timings"]["total"], strict=data["strict"],
        shard=Shard(shard["index"], shard["count"]) if shard else None, matrix=list(data["matrix"]))
