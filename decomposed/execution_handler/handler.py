"""Entry point of ExecutionHandlerFunction: API Gateway proxy events, or the start worker's own event."""

from typing import Any

from shared.api import Router

import executions
import start_worker
from events import StartExecutionEvent

router = Router()
router.route("GET", "/health")(executions.health)
router.route("POST", "/executions", takes_body=True)(executions.start)
router.route("GET", "/executions")(executions.list_all)
router.route("GET", "/executions/{id}")(executions.get)
router.route("POST", "/executions/{id}/cancel")(executions.cancel)
router.route("POST", "/executions/{id}/pause")(executions.pause)
router.route("POST", "/executions/{id}/resume")(executions.resume)
router.route("GET", "/executions/{id}/job-logs")(executions.job_logs)
router.route("POST", "/executions/{id}/terminate-instances")(executions.terminate_instances)


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any] | None:
    if StartExecutionEvent.matches(event):
        start_worker.run(StartExecutionEvent.from_event(event))
        return None
    return router.handle(event)
