"""Causes before effects: the order in which a scenario's divergences are read."""

from __future__ import annotations

from typing import Any, Iterable

from drs_parity.compare.divergence import Divergence

# Causes before effects: a step mismatch, then what functions logged (the chain's links only show there), the state
# machine executions that orchestrate them, the outbound DRS/EC2/STS calls they made, what they persisted, and what
# the API then shows users.
CAUSE_ORDER = ("steps", "logs", "stateMachines", "calls", "tables", "api")
ERROR_LEVELS = ("ERROR", "CRITICAL")


def kind_rank(kind: str) -> int:
    """Position of a divergence kind in CAUSE_ORDER (unknown kinds last)."""
    return CAUSE_ORDER.index(kind) if kind in CAUSE_ORDER else len(CAUSE_ORDER)


def records_of(value: Any) -> list[dict[str, Any]]:
    """The captured records a divergence value holds (one record, a list of them, or none)."""
    values = value if isinstance(value, list) else [value]
    return [record for record in values if isinstance(record, dict)]


def error_like(d: Divergence) -> bool:
    """Whether a side logged an error or a call failed here: the likeliest cause among a step's divergences."""
    records = records_of(d.left) + records_of(d.right)
    return any(record.get("level") in ERROR_LEVELS or record.get("error") for record in records)


def cause_key(d: Divergence) -> tuple[int, int, bool, str]:
    """First step, then kind in CAUSE_ORDER, errors first, then path."""
    return (d.step_index, kind_rank(d.kind), not error_like(d), d.path)


def ordered(divergences: Iterable[Divergence]) -> list[Divergence]:
    """Causes before effects (see CAUSE_ORDER)."""
    return sorted(divergences, key=cause_key)
