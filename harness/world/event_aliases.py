"""botocore's event names, aliased once per process: each new client's emitter starts with what earlier ones found."""

# botocore renames the service part of every event it emits or registers (EventAliaser._alias_event_name: each
# alias tried in turn, the name split for each) and remembers the answer per emitter. Every client gets a copy of
# its session's emitter, and every session a new one, each remembering nothing: half of a scenario's event names
# are worked out again (a world makes a session per world and clients per function and cold start). The answer
# depends on the name and the alias table alone; for botocore's own table (every emitter's, unless made with
# another) it is remembered for the process here, and logged as botocore logs it.

from __future__ import annotations

from typing import Any, Callable

from botocore import hooks

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

_original: Callable[[Any, str], str] = hooks.EventAliaser.__dict__["_alias_event_name"]
_aliased: dict[str, str] = {}  # event name -> its name under botocore's own alias table (EVENT_ALIASES)


def alias_event_name(aliaser: Any, event_name: str) -> str:
    """EventAliaser._alias_event_name, with names under botocore's own alias table remembered for every emitter."""
    known = aliaser._alias_name_cache.get(event_name)
    if known is not None:
        return known
    if aliaser._event_aliases != hooks.EVENT_ALIASES:  # an emitter made with its own table: botocore's code
        return _original(aliaser, event_name)
    name = _aliased.get(event_name)
    if name is None:
        name = _aliased[event_name] = _original(aliaser, event_name)
        return name
    if name != event_name:
        hooks.logger.debug("Changing event name from %s to %s", event_name, name)  # as botocore logs a rename
    aliaser._alias_name_cache[event_name] = name
    return name


_PATCH = SharedPatch(lambda: patch_attribute(hooks.EventAliaser, "_alias_event_name", alias_event_name))


def install_shared_event_aliases() -> Callable[[], None]:
    """Alias event names with `alias_event_name` until every world that installed it has undone it."""
    return _PATCH.install()
