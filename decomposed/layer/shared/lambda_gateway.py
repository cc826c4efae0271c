"""Asynchronous Lambda invocation (InvocationType=Event)."""

import json
from typing import Any

from shared import clients
from shared.aws_calls import reported_as_call_error


def invoke_async(function_name: str, payload: dict[str, Any]) -> None:
    """Queues one invocation of `function_name`; raises AwsCallError when Lambda refuses it."""
    with reported_as_call_error():
        clients.client("lambda").invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode("utf-8")
        )
