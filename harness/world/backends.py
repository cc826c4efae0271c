"""The emulated AWS a world runs on: moto in-process, moto's server on loopback, or a running LocalStack."""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator

import boto3

from drs_parity.errors import EnvironmentProblem
from drs_parity.world.ec2_lookups import install_fast_ec2_lookups
from drs_parity.world.ec2_serializer import install_planned_ec2_serializer
from drs_parity.world.event_aliases import install_shared_event_aliases
from drs_parity.world.fast_dynamodb import install_fast_dynamodb
from drs_parity.world.fast_moto_requests import install_fast_moto_requests
from drs_parity.world.fast_param_copy import install_fast_param_copy
from drs_parity.world.fast_parsing import install_fast_attribute_values
from drs_parity.world.fast_requests import install_fast_requests
from drs_parity.world.fast_responses import install_fast_dynamodb_responses
from drs_parity.world.fast_timestamps import install_fast_timestamps
from drs_parity.world.fast_xml import install_fast_xml
from drs_parity.world.model_cache import (LoaderSharing, botocore_session_sharing, install_botocore_cache,
                                          install_moto_resource_cache, shared_loader)
from drs_parity.world.moto_workarounds import install_moto_workarounds
from drs_parity.world.moto_matchers import install_reused_matchers
from drs_parity.world.moto_teardown import release_ec2_links

# moto is imported where it is used, not here: its packages take 0.3 s (moto's core) to 2.3 s (every
# CloudFormation model) to import, and nothing but a started world needs them.

DEFAULT_MOTO_PORT = 4566  # LocalStack's edge port, so localstack-client and AWS_ENDPOINT_URL work unchanged
MOTO_PORT_ENV = "DRS_PARITY_MOTO_PORT"
RESET_TIMEOUT = 60.0  # forgetting a big world on a loaded machine can take seconds; never cut it short
_READY_TIMEOUT = 10.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy

Credentials = tuple[str, str, "str | None"]  # access key, secret, session token


class BackendUnavailable(EnvironmentProblem):
    """The backend cannot be used here (the message says why)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for tests and parallel runs)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_SERVICE_MODELS = shared_loader()  # parsed JSON models, shared: loading them is the slow part
_WORLD_SESSIONS = LoaderSharing(_SERVICE_MODELS)  # shared by every session made while a world runs


def share_loaded_models() -> Callable[[], None]:
    """Until the returned undo, botocore's JSON files are read through the load cache and every botocore session made
    (moto's at import, the code under test's own for an assumed role) shares the loaded service models."""
    undo_files, undo_sharing = install_botocore_cache(), _WORLD_SESSIONS.install()

    def undo() -> None:
        undo_sharing()
        undo_files()

    return undo


def boto_session() -> boto3.session.Session:
    """A new boto3 session (reads the current environment) that reuses already loaded service models."""
    return boto3.session.Session(botocore_session=botocore_session_sharing(_SERVICE_MODELS))


# -- moto's server, shareable ------------------------------------------------------------------------------------------
def _http(method: str, url: str, timeout: float = 2.0) -> int:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with _NO_PROXY.open(request, timeout=timeout) as response:
        return response.status


class MotoServer:
    """moto's server on 127.0.0.1 in a daemon thread (port 0 picks a free port); readiness-checked, resettable."""

    def __init__(self, port: int = DEFAULT_MOTO_PORT) -> None:
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "MotoServer":
        from moto.server import DomainDispatcherApplication, create_backend_app  # optional: moto[server]
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request is noise here
                pass

        if self.port and not _port_is_free(self.port):
            raise BackendUnavailable(f"moto server cannot listen on 127.0.0.1:{self.port}: the port is in use "
                                     f"(set {MOTO_PORT_ENV} or moto_server_port to a free port)")
        try:
            self._server = make_server("127.0.0.1", self.port, DomainDispatcherApplication(create_backend_app),
                                       threaded=True, request_handler=QuietHandler)
        except (OSError, SystemExit) as exc:  # werkzeug exits on a port taken since the check above
            raise BackendUnavailable(f"moto server cannot listen on 127.0.0.1:{self.port}: {exc} "
                                     f"(set {MOTO_PORT_ENV} or moto_server_port to a free port)") from exc
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"moto-server:{self.port}",
                                        daemon=True)
        self._thread.start()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = _READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            try:
                if _http("GET", f"{self.url}/moto-api/", timeout=1.0) == 200:
                    return
            except (OSError, urllib.error.URLError) as exc:
                last_error = str(exc)
            time.sleep(0.05)
        raise BackendUnavailable(f"moto server at {self.url} did not answer /moto-api/ within {timeout}s: "
                                 f"{last_error}")

    def reset(self) -> None:
        """Forget every resource of every account and region (POST /moto-api/reset)."""
        _http("POST", f"{self.url}/moto-api/reset", timeout=RESET_TIMEOUT)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        _shared_servers.pop(self.port, None)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_shared_servers: dict[int, MotoServer] = {}


def shared_moto_server(port: int | None = None) -> MotoServer:
    """The process's moto server on `port` (default DRS_PARITY_MOTO_PORT or 4566), started on first use, stopped
    at exit (or by whoever calls stop(), e.g. the `moto_server` pytest fixture)."""
    wanted = port if port is not None else int(os.environ.get(MOTO_PORT_ENV, DEFAULT_MOTO_PORT))
    server = _shared_servers.get(wanted)
    if server is None or not server.running:
        server = MotoServer(wanted).start()
        _shared_servers[server.port] = server
        atexit.register(server.stop)
    return server


@contextlib.contextmanager
def _environ_set(values: dict[str, str]) -> Iterator[None]:
    """Set `values` in os.environ while the block runs; what was there before is put back."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- backends ----------------------------------------------------------------------------------------------------------
def installed_fast_paths() -> list[Callable[[], None]]:
    """Install moto's workarounds and every fast path of a world whose moto runs in this process (in-process or its
    server); returns their undos, in the order installed."""
    return [install_fast_dynamodb_responses(), install_moto_workarounds(), install_fast_xml(),
            install_fast_ec2_lookups(), install_planned_ec2_serializer(), install_fast_timestamps(),
            install_fast_dynamodb(), install_fast_requests(), install_fast_attribute_values(),
            install_shared_event_aliases(), install_fast_moto_requests(), install_fast_param_copy()]


class MotoBackend:
    """moto in-process (mock_aws): the fastest; one world at a time per process, state gone on stop."""

    name = "moto"
    endpoint_url: str | None = None
    in_process = True

    def __init__(self, **_: Any) -> None:
        self._mock: Any = None
        self._undo: list[Callable[[], None]] = []  # the fast paths and workarounds installed by start()

    def available(self) -> tuple[bool, str]:
        return True, "moto runs in-process"

    def start(self) -> None:
        install_moto_resource_cache()  # before moto's EC2 models are imported: they bind load_resource by name
        from moto import mock_aws  # heavy, see the note at the top

        undo_matchers = install_reused_matchers()  # before the mock starts: it registers them
        self._mock = mock_aws()
        self._mock.start()
        self._undo = [undo_matchers, *installed_fast_paths()]

    def stop(self) -> None:
        self._undo_patches()
        if self._mock is not None:
            release_ec2_links()  # the world's instances freed as moto drops them, not by the cycle collector
            # mock_aws.stop() re-creates every backend before forgetting it: run it under the world's moto settings,
            # or EC2 reloads its ~1,000 default AMIs per account and region only to drop them (the world's
            # environment is restored before its backend stops).
            with _environ_set(self.process_env()):
                self._mock.stop()
            self._mock = None

    def _undo_patches(self) -> None:
        while self._undo:
            self._undo.pop()()

    def reset(self) -> None:
        if self._mock is not None:
            self._mock.reset()

    def env(self) -> dict[str, str]:
        return {}

    def process_env(self) -> dict[str, str]:
        """Settings for moto itself while the world is active (the user's own value wins)."""
        # moto loads ~1,000 default AMIs into every EC2 backend it creates (about 0.15 s each, per account and
        # region); recovery instances need none of them (AMI validation is off by default).
        return {"MOTO_EC2_LOAD_DEFAULT_AMIS": os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")}

    def credentials(self, account_id: str) -> Credentials | None:
        from moto.core import DEFAULT_ACCOUNT_ID  # heavy, see the note at the top

        return ("testing", "testing", None) if account_id == DEFAULT_ACCOUNT_ID else None

    def supported_types(self) -> set[str] | None:
        from moto.cloudformation.parsing import get_model_map  # heavy, see the note at the top

        return set(get_model_map())


class MotoServerBackend(MotoBackend):
    """moto's server on 127.0.0.1 (shared per process, reset on every world start and stop)."""

    name = "moto-server"
    in_process = False

    def __init__(self, moto_server_port: int | None = None, **_: Any) -> None:
        super().__init__()
        self._port = moto_server_port
        self._server: MotoServer | None = None

    @property
    def endpoint_url(self) -> str | None:  # type: ignore[override]
        return self._server.url if self._server else None

    def available(self) -> tuple[bool, str]:
        try:
            import moto.server  # noqa: F401  (optional: needs moto[server]: flask, werkzeug)
        except ImportError as exc:
            return False, f"moto's server is not installed: {exc}"
        return True, "moto's server starts on 127.0.0.1"

    def start(self) -> None:
        install_moto_resource_cache()  # as MotoBackend's
        self._server = shared_moto_server(self._port)
        self._server.reset()
        # the server's moto runs in this process
        self._undo = installed_fast_paths()

    def stop(self) -> None:
        if self._server is not None:
            release_ec2_links()  # as MotoBackend's: the server's moto runs in this process
        self.reset()  # nothing of this world is left for the next one, even if it skips its own reset
        self._undo_patches()
        self._server = None

    def reset(self) -> None:
        if self._server is not None and self._server.running:
            self._server.reset()

    def env(self) -> dict[str, str]:
        assert self._server is not None, "backend not started"
        return {"AWS_ENDPOINT_URL": self._server.url, "LOCALSTACK_HOST": f"127.0.0.1:{self._server.port}"}


class LocalStackBackend:
    """An already running LocalStack at LOCALSTACK_HOST; nothing is reset, so use unique stack names."""

    name = "localstack"
    in_process = False

    def __init__(self, **_: Any) -> None:
        self.host = os.environ.get("LOCALSTACK_HOST", "localhost:4566")
        self.endpoint_url = f"http://{self.host}"

    def available(self) -> tuple[bool, str]:
        url = f"{self.endpoint_url}/_localstack/health"
        try:
            _http("GET", url, timeout=1.0)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return False, f"LocalStack not reachable at {self.host}: {getattr(exc, 'reason', exc)}"
        return True, f"LocalStack at {self.host}"

    def start(self) -> None:
        ok, reason = self.available()
        if not ok:
            raise BackendUnavailable(reason)

    def stop(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def process_env(self) -> dict[str, str]:
        return {}

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "LOCALSTACK_HOST": self.host}

    def credentials(self, account_id: str) -> Credentials | None:
        return account_id, "test", None  # LocalStack takes a 12-digit access key as the account id

    def supported_types(self) -> set[str] | None:
        return None


Backend = MotoBackend | MotoServerBackend | LocalStackBackend
BACKENDS: dict[str, type[Backend]] = {"moto": MotoBackend, "moto-server": MotoServerBackend,
                                      "localstack": LocalStackBackend}


def backend_class(name: str) -> type[Backend]:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: valid backends are {', '.join(BACKENDS)}")
    return BACKENDS[name]


def backend_available(name: str) -> tuple[bool, str]:
    return backend_class(name)().available()
