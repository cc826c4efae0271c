"""Routes botocore events of every boto3 session in the process to whichever harness parts are listening."""

# Production code builds ordinary boto3 clients. botocore gives each new session the handlers in
# ``botocore.handlers.BUILTIN_HANDLERS``; we add one dispatcher per event kind there (as moto does for its
# stubber), so handlers registered here see the calls of every client, including clients the code under
# test created before the harness part started listening. Nothing here is active unless registered.

from __future__ import annotations

import io
import threading
from typing import Any, Callable, Iterator, Mapping

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse

Handler = Callable[..., Any]

# event kind ("before-call", "before-send", "after-call", "after-call-error") -> [(service prefix, handler)]
_handlers: dict[str, list[tuple[str, Handler]]] = {}
# (event kind, service id) -> the handlers its events reach, in order: read on every event without the lock, so it is
# only ever replaced whole (emptied on every register and unregister, filled again on the next event)
_routes: dict[tuple[str, str], tuple[Handler, ...]] = {}
_lock = threading.Lock()
EVENT_KINDS = ("before-parameter-build", "before-call", "before-send", "after-call", "after-call-error")


def register(kind: str, handler: Handler, service: str = "") -> Callable[[], None]:
    """Listen to `kind` events (optionally only for one service id, e.g. "drs"); returns the unregister function.

    Handlers run in registration order; for before-call and before-send the first non-None result wins
    (botocore then uses it as the response instead of sending the request).
    """
    global _routes
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown botocore event kind {kind!r}")
    entry = (service, handler)
    with _lock:
        _handlers.setdefault(kind, []).append(entry)
        _routes = {}

    def unregister() -> None:
        global _routes
        with _lock:
            if entry in _handlers.get(kind, []):
                _handlers[kind].remove(entry)
            _routes = {}

    return unregister


def _service_of(event_name: str) -> str:
    # event names look like "before-call.dynamodb.Query"
    parts = event_name.split(".", 2)
    return parts[1] if len(parts) > 1 else ""


def handlers_for(kind: str, service: str) -> tuple[Handler, ...]:
    """The handlers an event of `kind` for `service` reaches, in registration order."""
    routes = _routes  # this table, even if a register replaces it meanwhile
    found = routes.get((kind, service))
    if found is None:
        with _lock:
            found = tuple(handler for wanted, handler in _handlers.get(kind, ()) if not wanted or wanted == service)
        routes[(kind, service)] = found
    return found


def _make_dispatcher(kind: str) -> Handler:
    def dispatch(event_name: str = "", **kwargs: Any) -> Any:
        for handler in handlers_for(kind, _service_of(event_name)):
            result = handler(event_name=event_name, **kwargs)
            if result is not None:
                return result
        return None

    dispatch.__name__ = f"drs_parity_{kind.replace('-', '_')}"
    return dispatch


_DISPATCHERS = {kind: _make_dispatcher(kind) for kind in EVENT_KINDS}


def _install() -> None:
    installed = {id(entry[1]) for entry in botocore.handlers.BUILTIN_HANDLERS}
    # Front of the list: ahead of moto's stubber, which answers 404 for AWS hosts it has no backend for (drs).
    for position, (kind, dispatcher) in enumerate(_DISPATCHERS.items()):
        if id(dispatcher) not in installed:
            botocore.handlers.BUILTIN_HANDLERS.insert(position, (kind, dispatcher))


class RawBody(io.BytesIO):
    """The raw stream botocore reads an AWSResponse's body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def wire_response(url: str, status: int, headers: Mapping[str, str], body: bytes) -> AWSResponse:
    """An HTTP answer a before-send handler gives instead of the network; botocore parses (and retries) it."""
    return AWSResponse(url, status, dict(headers), RawBody(body))


def fresh_default_session() -> None:
    """Forget boto3's default session so the next boto3.client() builds one with our dispatchers and current env."""
    boto3.DEFAULT_SESSION = None


_install()
