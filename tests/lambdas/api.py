"""Test function: an API Gateway proxy handler that answers with the event it got (and fails on /boom)."""

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["path"] == "/boom":
        raise RuntimeError("kaboom")
    if event["path"] == "/not-a-proxy-answer":
        return {"hello": "world"}
    status = 400 if event.get("body") and not _is_json(event["body"]) else 200
    return {"statusCode": status, "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
            "body": json.dumps({"event": event})}


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
