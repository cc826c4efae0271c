"""A patch shared by the worlds running at once: applied when the first installs it, undone when the last stops."""

from __future__ import annotations

import threading
from typing import Callable


class SharedPatch:
    """`apply()` patches and returns its undo; install() applies it for the first user and returns each user's undo."""

    def __init__(self, apply: Callable[[], Callable[[], None]]) -> None:
        self._apply = apply
        self._lock = threading.Lock()
        self._users = 0  # installs not undone yet
        self._undo: Callable[[], None] | None = None

    def install(self) -> Callable[[], None]:
        with self._lock:
            if self._users == 0:
                self._undo = self._apply()
            self._users += 1
        done = False

        def undo() -> None:
            nonlocal done
            with self._lock:
                if done:
                    return
                done, self._users = True, self._users - 1
                if self._users == 0 and self._undo is not None:
                    self._undo, restore = None, self._undo
                    restore()

        return undo
