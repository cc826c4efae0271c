"""Test function: a tiny API that creates what a scenario's setup and start ask for, except the one request its
REFUSE environment names (`METHOD /path STATUS`), which it refuses as a team's broken system would."""

import json
import os
import uuid
from typing import Any

CREATED = {"/protection-groups": ("groupId", 201), "/recovery-plans": ("planId", 201),
           "/executions": ("executionId", 202)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method, path = event["httpMethod"], event["path"]
    refused = os.environ.get("REFUSE", "").split()
    if refused[:2] == [method, path]:
        return _answer(int(refused[2]), {"error": "REFUSED", "message": f"{method} {path} is refused"})
    if method == "POST" and path in CREATED:
        id_field, status = CREATED[path]
        return _answer(status, {id_field: str(uuid.uuid4())})
    return _answer(200, {"method": method})


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
