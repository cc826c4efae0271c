"""Test function: invokes the Lambda named in the event through boto3, as production code does."""

import json
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    client = boto3.client("lambda")
    answers = []
    for payload in event.get("payloads", [event.get("payload", {})]):
        try:
            response = client.invoke(FunctionName=event["target"], InvocationType=event.get("type", "RequestResponse"),
                                     Payload=json.dumps(payload))
        except client.exceptions.ResourceNotFoundException as exc:
            if event.get("raise"):
                raise
            return {"caught": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
        body = response["Payload"].read()
        answers.append({"status": response["StatusCode"], "functionError": response.get("FunctionError"),
                        "payload": json.loads(body) if body else None})
    return {"answers": answers}
