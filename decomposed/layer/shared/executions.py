"""Execution checks several functions make through the execution-history table."""

from shared.errors import ApiError
from shared.repositories import ExecutionRepository, recovery_plans


def ensure_plan_not_executing(plan_id: str) -> None:
    """409 PLAN_ALREADY_EXECUTING when an execution of the plan is not final (planIdIndex)."""
    active = ExecutionRepository().active_of_plan(plan_id)
    if active is not None:
        raise ApiError(409, "PLAN_ALREADY_EXECUTING",
                       f"Recovery plan {plan_id} has an active execution {active['executionId']}")


def plan_pauses_before_wave(plan_id: str, wave_number: int) -> bool:
    """Whether the plan's wave `wave_number` has pauseBeforeWave (a plan that is gone pauses nowhere)."""
    plan = recovery_plans().get(plan_id) or {}
    waves = plan.get("waves") or []
    return wave_number < len(waves) and bool(waves[wave_number].get("pauseBeforeWave"))
