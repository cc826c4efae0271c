"""Test function: answers with its event, environment and context, and logs a JSON line, a plain line and a record."""

import json
import logging
import os
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)
calls_since_cold_start: list[str] = []  # module state: must not survive into the next world


def handler(event: Any, context: Any) -> dict[str, Any]:
    calls_since_cold_start.append(context.aws_request_id)
    print(json.dumps({"level": "INFO", "message": "echo", "function": context.function_name}))
    print("a plain line")
    logger.info("logged for %s", context.function_name)
    return {"event": event, "greeting": os.environ.get("GREETING"), "table": os.environ.get("TABLE_NAME"),
            "function": context.function_name, "envFunction": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "requestId": context.aws_request_id, "arn": context.invoked_function_arn,
            "warmCalls": len(calls_since_cold_start), "remainingMs": context.get_remaining_time_in_millis()}
