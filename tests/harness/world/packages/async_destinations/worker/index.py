"""A worker whose failed asynchronous events Lambda sends to a queue, and whose successes to a recorder function."""

from typing import Any


def worker_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise ValueError(f"cannot process order {event.get('order')}")
    return {"processed": event.get("order")}


def recorder_handler(event: dict[str, Any], context: Any) -> None:
    print(f"recorded {event['requestContext']['condition']}")
