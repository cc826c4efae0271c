"""Entry point of ExecutionFinderFunction (EventBridge schedule): invoke the poller for each execution due."""

import time
from typing import Any

from shared import config, lambda_gateway, log
from shared.domain.lifecycle import CANCELLING, POLLING
from shared.errors import AwsCallError
from shared.poll_request import PollRequest
from shared.repositories import ExecutionRepository

import cadence


def lambda_handler(event: dict[str, Any], context: Any = None) -> None:
    repository = ExecutionRepository()
    polling = cadence.polling_order(repository.with_status(POLLING))
    cancelling = cadence.polling_order(repository.with_status(CANCELLING))
    log.info(f"Found {len(polling)} executions in POLLING status")
    if cancelling:
        log.info(f"Found {len(cancelling)} executions in CANCELLING status")
    now = int(time.time())
    for execution in polling + cancelling:
        _poll_if_due(execution, now)


def _poll_if_due(execution: dict[str, Any], now: int) -> None:
    execution_id = execution["executionId"]
    if not cadence.is_due(execution, now):
        log.info(
            f"Skipping execution {execution_id}: polled {cadence.seconds_since_poll(execution, now)}s ago, "
            f"interval {cadence.poll_interval(execution)}s",
            execution_id,
        )
        return
    log.info(f"Invoking poller for execution {execution_id}", execution_id)
    try:
        lambda_gateway.invoke_async(config.poller_function_name(), PollRequest.of_execution(execution).payload())
    except AwsCallError as exc:
        log.error(f"Error invoking poller for execution {execution_id}: {exc.text}", execution_id)
