"""Functions of the waves test stack: a starter (Step Functions calls), a worker, and a callback holding a token."""

import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

_tokens: list[str] = []  # tokens handed to the callback; module state survives warm invocations


def starter(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Step Functions calls as code makes them: start, describe, stop, list; a refusal as its error code."""
    states = boto3.client("stepfunctions")
    try:
        if event["action"] == "start":
            started = states.start_execution(stateMachineArn=event.get("machine", os.environ["MACHINE_ARN"]),
                                             input=json.dumps(event.get("input", {})), **event.get("extra", {}))
            return {"executionArn": started["executionArn"]}
        if event["action"] == "describe":
            described = states.describe_execution(executionArn=event["executionArn"])
            return {key: described.get(key) for key in ("status", "output", "error", "name")}
        if event["action"] == "stop":
            return {"stopDate": states.stop_execution(executionArn=event["executionArn"])["stopDate"].isoformat()}
        raise ValueError(f"unknown action {event['action']}")
    except ClientError as error:
        return {"error": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event.get("n"), int):
        raise ValueError(f"n must be a number, not {event.get('n')!r}")
    return {"doubled": event["n"] * 2}


def callback(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Given a token (by the machine): keep it. Asked to settle it: send it back as the event says."""
    if "token" in event:
        _tokens.append(event["token"])
        return {"kept": len(_tokens)}
    states = boto3.client("stepfunctions")
    token = event.get("use") or _tokens[-1]
    try:
        if event["action"] == "succeed":
            states.send_task_success(taskToken=token, output=json.dumps({"released": True}))
        elif event["action"] == "fail":
            states.send_task_failure(taskToken=token, error="Wave.Failed", cause="the wave failed")
        else:
            states.send_task_heartbeat(taskToken=token)
    except ClientError as error:
        return {"error": error.response["Error"]["Code"]}
    return {"sent": event["action"]}
