"""Starting a wave: DRS StartRecovery in the wave's account and region, recorded on the execution item."""

from __future__ import annotations

from typing import Any, Callable

import domain
import logs
from aws import AwsError
from services import Services

Item = dict[str, Any]

EXECUTION_TAG = "drs-orchestration:executionId"
WAVE_TAG = "drs-orchestration:wave"


def start_wave(services: Services, item: Item, wave_number: int, now: int) -> None:
    """Start wave `wave_number` (status POLLING), or record why it could not start (status FAILED)."""
    wave = item["waves"][wave_number]
    execution_id = item["executionId"]
    try:
        job_id = services.drs.start_recovery(
            wave["accountId"], wave["region"], wave["serverIds"], is_drill=item["executionType"] == "DRILL",
            tags={EXECUTION_TAG: execution_id, WAVE_TAG: str(wave_number)})
    except AwsError as error:
        domain.record_wave_start_failure(item, wave_number, error.reason, now)
        return
    domain.record_wave_started(item, wave_number, job_id, now)
    logs.info(f"Started wave {wave_number} for execution {execution_id}: job {job_id}", execution_id)


def plan_pauses_before(services: Services, plan_id: str) -> Callable[[int], bool]:
    """A lazy lookup of the plan's pauseBeforeWave flags: the plan is read only if a pause decision needs it."""
    cache: dict[str, Item | None] = {}

    def pauses_before(wave_number: int) -> bool:
        if "plan" not in cache:
            cache["plan"] = services.plans.get(plan_id)
        waves = (cache["plan"] or {}).get("waves", [])
        return wave_number < len(waves) and bool(waves[wave_number].get("pauseBeforeWave"))

    return pauses_before
