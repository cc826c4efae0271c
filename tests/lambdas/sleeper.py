"""Test function: sleeps as long as its event says, the way a retry back-off would, and reports the time it saw."""

import time
from typing import Any


def handler(event: Any, context: Any) -> dict[str, float]:
    before = time.time()
    time.sleep(event["seconds"])
    return {"before": before, "after": time.time()}
