"""The event the finder sends the poller: `{executionId, planId, executionType, startTime}`."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PollRequest:
    execution_id: str
    plan_id: str
    execution_type: str
    start_time: int

    @classmethod
    def of_execution(cls, execution: dict[str, Any]) -> "PollRequest":
        return cls(execution["executionId"], execution["planId"], execution["executionType"],
                   int(execution["startTime"]))

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "PollRequest":
        return cls(str(event["executionId"]), str(event.get("planId", "")), str(event.get("executionType", "")),
                   int(event.get("startTime") or 0))

    def payload(self) -> dict[str, Any]:
        return {"executionId": self.execution_id, "planId": self.plan_id, "executionType": self.execution_type,
                "startTime": self.start_time}
