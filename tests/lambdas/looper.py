"""Test function: asynchronously invokes itself forever (a runaway loop the host must stop)."""

from typing import Any

import boto3


def handler(event: Any, context: Any) -> None:
    boto3.client("lambda").invoke(FunctionName=context.function_name, InvocationType="Event", Payload=b"{}")
