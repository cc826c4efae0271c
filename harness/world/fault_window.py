"""A scripted fault's window on the virtual clock: the next `count` occurrences of its targets from its start."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Window:
    """The next `remaining` occurrences at or after `start` (virtual time) are hit, of the names in `targets`."""

    targets: frozenset[str] | None  # function, rule or table names; None: every one
    start: float
    remaining: int

    def hits(self, name: str, now: float) -> bool:
        """Whether an occurrence of `name` now is hit, without using it up."""
        return (self.targets is None or name in self.targets) and now >= self.start and self.remaining > 0

    def take(self, name: str, now: float) -> bool:
        """Whether an occurrence of `name` now is hit; a hit uses one of the window's occurrences."""
        if not self.hits(name, now):
            return False
        self.remaining -= 1
        return True
