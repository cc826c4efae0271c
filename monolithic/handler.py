"""The one Lambda entrypoint: API Gateway proxy events go to the router, worker events to the polling chain."""

from __future__ import annotations

from typing import Any

import polling
import router
from services import Services

FIND_EXECUTIONS = "find-executions"
START_EXECUTION = "start-execution"


def _run_worker(services: Services, event: dict[str, Any]) -> None:
    worker = event["worker"]
    if worker == FIND_EXECUTIONS:
        polling.find_executions(services)
    elif worker == START_EXECUTION:
        polling.run_start_worker(services, event["executionId"])
    else:
        raise ValueError(f"Unknown worker {worker!r}")


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any] | None:
    services = Services()
    if isinstance(event, dict) and "worker" in event:
        _run_worker(services, event)
        return None
    return router.handle(services, event)
