"""Test function: fails until it has run `failures` times (module state, kept while the function stays warm)."""

from typing import Any

runs = 0


def handler(event: Any, context: Any) -> dict[str, Any]:
    global runs
    runs += 1
    if runs <= event.get("failures", 1_000_000):
        raise RuntimeError(f"run {runs} failed")
    return {"run": runs, "requestId": context.aws_request_id}
