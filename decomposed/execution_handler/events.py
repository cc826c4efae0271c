"""Typed events of ExecutionHandlerFunction besides API Gateway proxy events."""

from dataclasses import dataclass
from typing import Any

START_EXECUTION_WORKER = "start-execution"


@dataclass(frozen=True)
class StartExecutionEvent:
    """`{"worker": "start-execution", executionId, planId}`: the function invokes itself with it after POST."""

    execution_id: str
    plan_id: str

    @staticmethod
    def matches(event: dict[str, Any]) -> bool:
        return event.get("worker") == START_EXECUTION_WORKER

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "StartExecutionEvent":
        return cls(str(event["executionId"]), str(event["planId"]))

    def payload(self) -> dict[str, Any]:
        return {"worker": START_EXECUTION_WORKER, "executionId": self.execution_id, "planId": self.plan_id}
