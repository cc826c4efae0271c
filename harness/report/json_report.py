"""The machine-readable report (JSON, `schemaVersion` 3): what the other renderings show, and what merge reads."""

from __future__ import annotations

import json
from typing import Any

from drs_parity.compare.divergence import DIVERGENCE, Divergence
from drs_parity.compare.tracks import Track
from drs_parity.gate.results import STATUSES, ParityResult, ScenarioResult
from drs_parity.report.runtime_failures import runtime_failures
from drs_parity.report.texts import headline, record_of

SCHEMA_VERSION = 3
SIDES = ("left", "right")


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


def track_json(track: Track | None) -> Track | None:
    """A side's status track with each step's executions in the order of their stable numbers (`execution 1`, `2`,
    ...): the table scan lists them in an order no two runs share."""
    if track is None:
        return None
    return [{**step, "executions": sorted(step["executions"], key=lambda e: (len(e["id"]), e["id"]))}
            for step in track]


def scenario_summary(result: ScenarioResult, left: str, right: str) -> dict[str, Any]:
    """One scenario's entry of the JSON report."""
    return {
        "name": result.scenario, "status": result.status, "error": result.error,
        "final": {"left": result.left_final, "right": result.right_final},
        "chain": {"left": result.left_chain.to_dict() if result.left_chain else None,
                  "right": result.right_chain.to_dict() if result.right_chain else None},
        "firstDivergence": first_divergence_json(result, left, right),
        "counts": {status: len(result.with_status(status)) for status in STATUSES},
        "timings": {name: round(value, 3) for name, value in result.timings.items()},
        "tracks": dict(zip(SIDES, [track_json(track) for track in [*result.tracks, None, None]])),
        "runtimeFailures": runtime_failures(result, left, right),
    }


def to_json(result: ParityResult) -> dict[str, Any]:
    """The machine-readable report; `schemaVersion` changes only when a consumer would have to."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "left": result.left, "right": result.right, "backend": result.backend,
        "verdict": result.verdict, "exitCode": int(result.exit_code), "calibrated": result.calibrated,
        "rules": {"source": result.rules_source}, "strict": result.strict,
        "shard": result.shard.to_dict() if result.shard else None, "matrix": result.cells,
        "scenarios": [scenario_summary(scenario, result.left, result.right) for scenario in result.scenarios],
        "divergences": [divergence_json(d) for d in result.all_with_status(DIVERGENCE)],
        "accepted": [divergence_json(d) for d in result.all_with_status("accepted")],
        "excludedAsNoise": [divergence_json(d) for d in result.all_with_status("noise")],
        "noise": [entry.to_dict() for scenario in result.scenarios for entry in scenario.noise],
        "staleRules": [rule.to_dict() for rule in result.stale_rules],
        "timings": {"total": round(result.seconds, 3),
                    "scenarios": {s.scenario: round(s.seconds, 3) for s in result.scenarios}},
    }


def json_text(result: ParityResult) -> str:
    """report.json's text: the JSON report, indented and key-sorted, as the file and `--format json` both print it."""
    return json.dumps(to_json(result), indent=2, sort_keys=True, default=str) + "\n"
