"""A patch shared by the worlds running at once: applied when the first installs it, undone when the last stops."""

from __future__ import annotations

import threading
from typing import Any, Callable

_MISSING = object()


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


def patch_attribute(owner: Any, name: str, replacement: Any) -> Callable[[], None]:
    """Set a class's or module's own attribute; returns the undo (which removes it again if the owner had none)."""
    original = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, replacement)
    return lambda: delattr(owner, name) if original is _MISSING else setattr(owner, name, original)


def patch_registry_entry(registry: dict[str, dict[str, Any]], group: str, key: str,
                         replacement: Any) -> Callable[[], None]:
    """Set `registry[group][key]` (moto's per-service, per-protocol serialiser table); returns the undo, which leaves
    the registry as it found it (the group removed again if this made it)."""
    had_group = group in registry
    entries = registry.setdefault(group, {})
    original = entries.get(key, _MISSING)
    entries[key] = replacement

    def undo() -> None:
        if original is _MISSING:
            entries.pop(key, None)
        else:
            entries[key] = original
        if not had_group and not entries:
            registry.pop(group, None)

    return undo


def applied(patches: Callable[[], list[Callable[[], Callable[[], None]]]]) -> Callable[[], Callable[[], None]]:
    """What applies every patch `patches()` lists and returns their undo (the last applied undone first)."""
    def apply() -> Callable[[], None]:
        undos = [patch() for patch in patches()]

        def undo() -> None:
            while undos:
                undos.pop()()

        return undo

    return apply
