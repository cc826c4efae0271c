"""DrsEmulator: the one object the world holds; it ties DRS state, the wire protocol and the transports together."""

from __future__ import annotations

from typing import Any, Callable

from . import transport
from .backend import DrsBackend
from .launchers import FakeLauncher
from .models import Clock, RecoveryInstanceLauncher
from .responses import AccountResolver, DrsResponder, WireResponse


class DrsEmulator:
    """DRS for one world: load a scenario, answer rest-json requests, advance jobs on the clock."""

    def __init__(self, clock: Clock, launcher: RecoveryInstanceLauncher | None = None,
                 account_resolver: AccountResolver | None = None) -> None:
        self.clock = clock
        self.launcher = launcher or FakeLauncher()
        self.backend = DrsBackend(clock, self.launcher)
        self.responder = DrsResponder(self.backend, account_resolver)

    def load(self, drs_config: dict[str, Any] | None = None, source_servers: list[dict[str, Any]] | None = None,
             faults: list[dict[str, Any]] | None = None) -> None:
        """Add the scenario's source servers and faults (ValueError names the bad field)."""
        self.backend.load(drs_config, source_servers, faults)

    def settle(self) -> None:
        """Apply every job event due by clock.now() (requests do this themselves first)."""
        self.backend.settle()

    def close(self) -> None:
        """Stop listening to the clock (pending job events then only happen on settle())."""
        self.backend.close()

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> WireResponse:
        return self.responder.handle(method, path, query, headers, body)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The newest requests served, oldest first (bounded: responses.RequestLog): {account, region, operation,
        params, status, error}."""
        return self.responder.log.entries()

    @property
    def requests_served(self) -> int:
        """How many requests were served, including those the bounded `requests` no longer holds."""
        return self.responder.log.served

    def install_inprocess(self) -> Callable[[], None]:
        return transport.install_inprocess(self.handle)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> transport.DrsServer:
        """Serve over loopback HTTP; OSError if the port cannot be bound."""
        return transport.serve_http(self.responder, host, port)
