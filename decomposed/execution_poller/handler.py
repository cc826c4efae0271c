"""Entry point of ExecutionPollerFunction: `{executionId, planId, executionType, startTime}` from the finder."""

from typing import Any

from shared.poll_request import PollRequest

from poll import Poller


def lambda_handler(event: dict[str, Any], context: Any = None) -> None:
    Poller().poll(PollRequest.from_event(event).execution_id)
