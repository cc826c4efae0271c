"""Test function: fails after mutating its event; its error message is the event as it arrived."""

import json
from typing import Any


def handler(event: Any, context: Any) -> None:
    arrived = json.dumps(event, sort_keys=True)
    event["seen"] = True
    event.setdefault("trail", []).append(context.aws_request_id)
    raise RuntimeError(arrived)
