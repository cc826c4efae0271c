"""The table scans of each capture, scanned again only when a DynamoDB request since the last scan may have written."""

# Every capture reads every table of the side; on a long idle drill nothing writes to them minute after minute, and
# most steps of an API contract run only read or are refused. Every DynamoDB request of this process, a function's
# or the harness's own (seeds, a lagging index's copies), passes botocore's before-parameter-build event, where it is
# counted unless it is a read (Describe, Get, List, Query, Scan, batch and transaction gets); a failed write counts
# too. While the count is unchanged the last scan is the scan. The scans read base tables, never an index, so a
# lagging GSI (world.dynamodb_faults) that answers by the clock does not touch them, and no moto table changes with
# the clock alone (no TTL expiry). Only moto's backends qualify: every request to them comes from this process;
# LocalStack is another process, which expires items by TTL on its own.

from __future__ import annotations

from typing import Any, Callable

from drs_parity.run.console import is_read
from drs_parity.world.world import World

Scans = dict[str, list[dict[str, Any]]]  # logical table name -> items
OWN_REQUESTS_ONLY = ("moto", "moto-server")  # backends whose tables change only through this process's requests


class TableScans:
    """A step's table scans: the last ones again (the same lists, read-only) while no DynamoDB request could have
    written since they were made."""

    def __init__(self, world: World, scan: Callable[[], Scans], enabled: bool = True) -> None:
        self._scan = scan
        self.enabled = enabled and world.backend_name in OWN_REQUESTS_ONLY
        self.writes = 0  # DynamoDB requests that were not reads, counted since the world started
        self.reused = 0  # captures whose scans were reused (for tests and benchmarks)
        self._last: Scans | None = None
        self._writes_at_last = 0
        if self.enabled:
            world.host.register_hook("before-parameter-build", self._count, service="dynamodb")

    def scan(self) -> Scans:
        """Every table's items, scanned now or, with no write since the last scan, that scan's."""
        if self.enabled and self._last is not None and self.writes == self._writes_at_last:
            self.reused += 1
            return self._last
        self._writes_at_last = self.writes
        self._last = self._scan()
        return self._last

    def _count(self, event_name: str = "", **_: Any) -> None:
        # event names look like "before-parameter-build.dynamodb.PutItem"
        if not is_read(event_name.rpartition(".")[2]):
            self.writes += 1
