"""World: one isolated emulated AWS (moto, moto-server or LocalStack) plus the DRS emulator and the function host."""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import gc
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import boto3
import botocore.loaders
import botocore.session
import yaml
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drs_parity.world import botohooks
from drs_parity.world.clock import VirtualClock
from drs_parity.world.host import (FunctionHost, Schedule, environ_without_aws, mark_harness_client,
                                   replaced_environ)

DEFAULT_MOTO_PORT = 4566  # LocalStack's edge port, so localstack-client and AWS_ENDPOINT_URL work unchanged
MOTO_PORT_ENV = "DRS_PARITY_MOTO_PORT"
HARNESS_ROLE = "drs-parity-harness"  # assumed in other accounts for harness clients
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_READY_TIMEOUT = 10.0
_STACK_POLLS = 600
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy

Credentials = tuple[str, str, "str | None"]  # access key, secret, session token


class DeployError(RuntimeError):
    """A stack that did not reach CREATE_COMPLETE; `resource` is the failing logical id (or the stack)."""

    def __init__(self, stack_name: str, resource: str, reason: str) -> None:
        super().__init__(f"stack {stack_name}: resource {resource} failed: {reason}")
        self.stack_name = stack_name
        self.resource = resource
        self.reason = reason


class BackendUnavailable(RuntimeError):
    """The backend cannot be used here (the message says why)."""


@dataclass
class Stack:
    name: str
    template_path: str
    outputs: dict[str, str] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    resource_types: dict[str, str] = field(default_factory=dict)  # logical id -> AWS::Service::Type


# -- moto's server, shareable ------------------------------------------------------------------------------------------
RESET_TIMEOUT = 60.0  # forgetting a big world on a loaded machine can take seconds; never cut it short


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
        from moto.server import DomainDispatcherApplication, create_backend_app
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


_SERVICE_MODELS = botocore.loaders.create_loader()  # parsed JSON models, shared: loading them is the slow part


def _session() -> boto3.session.Session:
    """A new boto3 session (reads the current environment) that reuses already loaded service models."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _SERVICE_MODELS)
    return boto3.session.Session(botocore_session=session)


# -- moto's DynamoDB responses, fast -----------------------------------------------------------------------------------
# moto's response serialiser looks up every member of every AttributeValue (10 per value, each through a chain of
# alias providers): ~40% of a 30-minute drill's CPU time. The values moto hands it are already wire-shaped dicts
# ({"S": "x"}, {"M": {...}}, raw bytes for B/BS), so copying them gives the same JSON; everything else (table
# descriptions, consumed capacity, errors) still goes through moto's own code.
_ATTRIBUTE_VALUE = "AttributeValue"
_ATTRIBUTE_TAGS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def wire_attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """One AttributeValue as moto holds it, in the JSON form moto's serialiser gives it."""
    # moto's serialiser emits only the shape's members, and none whose value is None
    return {tag: _wire_member(tag, item) for tag, item in value.items() if tag in _ATTRIBUTE_TAGS and item is not None}


def _wire_member(tag: str, item: Any) -> Any:
    if tag == "B":
        return _base64(item)
    if tag == "BS":
        return [_base64(blob) for blob in item]
    if tag == "M":  # a None entry of a map is left out, a None in a list kept: what moto's serialiser does
        return {key: wire_attribute_value(entry) for key, entry in item.items() if entry is not None}
    if tag == "L":
        return [None if entry is None else wire_attribute_value(entry) for entry in item]
    if tag in ("SS", "NS"):
        return list(item)
    return item


def _base64(blob: str | bytes) -> str:
    raw = blob.encode("utf-8") if isinstance(blob, str) else blob
    return base64.b64encode(raw).strip().decode("utf-8")


@functools.cache
def wire_shaped_dynamodb_serializer() -> type:
    """moto's DynamoDB (JSON protocol) response serialiser that copies AttributeValues instead of walking them."""
    from moto.core.serialize import JSONSerializer

    class WireShapedDynamoDBSerializer(JSONSerializer):  # type: ignore[misc]
        def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if key and shape.name == _ATTRIBUTE_VALUE and isinstance(value, Mapping):
                self._default_serialize(serialized, wire_attribute_value(value), shape, key)
            else:
                super()._serialize_type_structure(serialized, value, shape, key)

    return WireShapedDynamoDBSerializer


def install_fast_dynamodb_responses() -> Callable[[], None]:
    """Make in-process moto serialise DynamoDB responses with the wire-shaped fast path; returns the undo."""
    from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS

    had_service = "dynamodb" in SERVICE_SPECIFIC_SERIALIZERS
    registry = SERVICE_SPECIFIC_SERIALIZERS.setdefault("dynamodb", {})
    previous = registry.get("json")
    registry["json"] = wire_shaped_dynamodb_serializer()

    def undo() -> None:
        if previous is not None:
            registry["json"] = previous
        else:
            registry.pop("json", None)
        if not had_service and not registry:
            SERVICE_SPECIFIC_SERIALIZERS.pop("dynamodb", None)

    return undo


# -- backends ----------------------------------------------------------------------------------------------------------
class MotoBackend:
    """moto in-process (mock_aws): the fastest; one world at a time per process, state gone on stop."""

    name = "moto"
    endpoint_url: str | None = None
    in_process = True

    def __init__(self, **_: Any) -> None:
        self._mock: Any = None
        self._undo_fast_responses: Callable[[], None] | None = None

    def available(self) -> tuple[bool, str]:
        return True, "moto runs in-process"

    def start(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        self._undo_fast_responses = install_fast_dynamodb_responses()

    def stop(self) -> None:
        if self._undo_fast_responses is not None:
            self._undo_fast_responses()
            self._undo_fast_responses = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

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
        from moto.core import DEFAULT_ACCOUNT_ID

        return ("testing", "testing", None) if account_id == DEFAULT_ACCOUNT_ID else None

    def supported_types(self) -> set[str] | None:
        from moto.cloudformation.parsing import get_model_map

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
            import moto.server  # noqa: F401  (needs moto[server]: flask, werkzeug)
        except ImportError as exc:
            return False, f"moto's server is not installed: {exc}"
        return True, "moto's server starts on 127.0.0.1"

    def start(self) -> None:
        self._server = shared_moto_server(self._port)
        self._server.reset()

    def stop(self) -> None:
        self.reset()  # nothing of this world is left for the next one, even if it skips its own reset
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


# -- templates -----------------------------------------------------------------------------------------------------
class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  (libyaml: ~6x faster)
    """YAML with CloudFormation's short intrinsic tags (!Ref, !GetAtt, !Sub ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(body: str) -> dict[str, Any]:
    template = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise DeployError("?", "template", "the template has no Resources section")
    return template


def check_template(template: dict[str, Any], supported_types: set[str] | None) -> list[tuple[str, str]]:
    """What CloudFormation would reject and moto lets through: [(logical id, reason)]."""
    problems: list[tuple[str, str]] = []
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if supported_types is not None and kind not in supported_types:
            problems.append((logical_id, f"resource type {kind} is not supported by the backend"))
        elif kind == "AWS::DynamoDB::Table":
            problems += [(logical_id, reason) for reason in _table_key_problems(properties)]
        elif kind == "AWS::Events::Rule":
            problems += [(logical_id, reason) for reason in _schedule_problems(properties)]
    return problems


def _table_key_problems(properties: dict[str, Any]) -> list[str]:
    defined = {item.get("AttributeName") for item in properties.get("AttributeDefinitions") or []}
    used: dict[str, str] = {}  # attribute -> where it is a key
    indexes = [("the table", properties.get("KeySchema") or [])]
    for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes += [(f"index {index.get('IndexName')}", index.get("KeySchema") or [])
                    for index in properties.get(section) or []]
    for where, schema in indexes:
        for key in schema:
            used.setdefault(key.get("AttributeName"), where)
    if not all(isinstance(name, str) for name in defined | set(used)):
        return []  # names built with intrinsics: leave it to the backend
    prefix = "Property AttributeDefinitions is inconsistent with the KeySchema of the table and the secondary indexes"
    problems = [f"{prefix}: {where} uses key attribute {name!r}, which is not in AttributeDefinitions"
                for name, where in used.items() if name not in defined]
    problems += [f"{prefix}: attribute {name!r} is defined but is no key of the table or any index"
                 for name in sorted(defined - set(used))]
    return problems


def _schedule_problems(properties: dict[str, Any]) -> list[str]:
    expression = properties.get("ScheduleExpression")
    if not isinstance(expression, str):
        return []
    try:
        Schedule(expression)
    except ValueError as exc:
        return [f"Parameter ScheduleExpression is not valid: {exc}"]
    return []


@contextlib.contextmanager
def _moto_resource_blame() -> Iterator[list[tuple[str, str]]]:
    """While active, the first moto CloudFormation resource that raises is recorded as (logical id, reason).

    moto creates a stack synchronously inside CreateStack and leaves no per-resource events when one fails;
    both moto backends run in this process, so wrapping its resource factory names the culprit.
    """
    from moto.cloudformation import parsing

    failures: list[tuple[str, str]] = []
    original = parsing.parse_and_create_resource

    def tracking(logical_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(logical_id, *args, **kwargs)
        except Exception as exc:
            if not failures:  # the innermost failure; its dependents re-raise it
                message = getattr(exc, "message", "") or str(exc)
                failures.append((logical_id, f"{getattr(exc, 'error_type', type(exc).__name__)}: {message}"))
            raise

    parsing.parse_and_create_resource = tracking
    try:
        yield failures
    finally:
        parsing.parse_and_create_resource = original


# -- the world -----------------------------------------------------------------------------------------------------
YOUNG_GC_THRESHOLD = 100_000  # allocations between young collections while a world is active (CPython: 700)


@contextlib.contextmanager
def fewer_young_collections() -> Iterator[None]:
    """Collect the youngest generation less often while the block runs; the older thresholds are kept."""
    # A drill allocates millions of short-lived objects (botocore requests, moto items); at CPython's default
    # the collector runs hundreds of times a drill and costs ~20% of its time. Nothing in a world depends on it.
    saved = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


class World:
    """One emulated AWS for one side: backend state, virtual clock, DRS emulator and function host, all isolated."""

    def __init__(self, backend: str = "moto", clock: VirtualClock | None = None, region: str = "us-east-1",
                 account_id: str = "123456789012", drs_transport: str | None = None,
                 moto_server_port: int | None = None, enforce_iam: bool = True) -> None:
        # DRS is reached the way the backend's other services are: in-process with moto, over loopback HTTP
        # (AWS_ENDPOINT_URL_DRS) when the rest of AWS is an endpoint too.
        drs_transport = drs_transport or ("inprocess" if backend == "moto" else "http")
        if drs_transport not in ("inprocess", "http"):
            raise ValueError(f"unknown drs_transport {drs_transport!r}: valid are inprocess, http")
        self.backend_name = backend
        self.backend = backend_class(backend)(moto_server_port=moto_server_port)
        self.clock = clock or VirtualClock()
        self.region = region
        self.account_id = account_id
        self.drs_transport = drs_transport
        self.enforce_iam = enforce_iam  # as on AWS, a function may only make the calls its role allows
        self.iam_guard: Any = None
        self._host: FunctionHost | None = None
        self._drs: Any = None
        self._drs_url: str | None = None
        self._credentials: dict[str, Credentials] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._accounts_by_key: dict[str, str] = {}
        self._exit: contextlib.ExitStack | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> "World":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def start(self) -> "World":
        if self._exit is not None:
            raise RuntimeError("this world is already started")
        exit_stack = contextlib.ExitStack()
        try:
            self.backend.start()
            exit_stack.callback(self.backend.stop)
            self._credentials[self.account_id] = self._base_credentials()
            process_env = {**self.backend.process_env(), **self.base_env()}
            exit_stack.enter_context(replaced_environ(environ_without_aws(process_env)))
            botohooks.fresh_default_session()
            boto3.DEFAULT_SESSION = _session()  # what the code under test gets: this env, shared service models
            exit_stack.enter_context(self.clock.installed())
            exit_stack.enter_context(fewer_young_collections())
            self._start_host(exit_stack)
            self._start_drs(exit_stack)
        except BaseException:
            exit_stack.close()
            self._forget()
            raise
        self._exit = exit_stack
        return self

    def stop(self) -> None:
        if self._exit is not None:
            self._exit.close()
        self._forget()
        botohooks.fresh_default_session()

    def _forget(self) -> None:
        self._exit = None
        self.iam_guard = None
        self._host = None
        self._drs = None
        self._drs_url = None
        self._clients.clear()
        self._credentials.clear()
        self._accounts_by_key.clear()

    def _start_host(self, exit_stack: contextlib.ExitStack) -> None:
        self._host = FunctionHost(self.clock, self.client, self.base_env, self.region, self.account_id)
        self._host.start()
        exit_stack.callback(self._host.stop)
        if self.enforce_iam:
            from drs_parity.world.iam import enforce_iam

            self.iam_guard = enforce_iam(self, self._host)

    def _start_drs(self, exit_stack: contextlib.ExitStack) -> None:
        from drs_parity.world.drs import DrsEmulator, Ec2Launcher

        self._drs = DrsEmulator(self.clock, launcher=Ec2Launcher(self._ec2_client),
                                account_resolver=self.account_resolver)
        exit_stack.callback(self._drs.close)
        if self.drs_transport == "inprocess":
            exit_stack.callback(self._drs.install_inprocess())
            return
        server = self._drs.serve(port=0)
        exit_stack.callback(server.stop)
        self._drs_url = server.url
        os.environ["AWS_ENDPOINT_URL_DRS"] = server.url  # undone with the rest of the world's environment

    # -- what the world offers ---------------------------------------------------------------------------------------
    @property
    def host(self) -> FunctionHost:
        if self._host is None:
            raise RuntimeError("the world is not started")
        return self._host

    @property
    def drs(self) -> Any:
        if self._drs is None:
            raise RuntimeError("the world is not started")
        return self._drs

    @property
    def active(self) -> bool:
        return self._exit is not None

    def base_env(self) -> dict[str, str]:
        """The environment every function sees (and the harness process, while the world is active)."""
        if self.account_id not in self._credentials:
            raise RuntimeError("the world is not started")
        access_key, secret, token = self._credentials[self.account_id]
        env = {"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
               "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret, **self.backend.env()}
        if token:
            env["AWS_SESSION_TOKEN"] = token
        if self._drs_url:
            env["AWS_ENDPOINT_URL_DRS"] = self._drs_url
        return env

    def client(self, service: str, region: str | None = None, account_id: str | None = None) -> Any:
        """A harness-internal boto3 client to this world (never recorded as a function's call, never guarded)."""
        key = (service, region or self.region, account_id or self.account_id)
        if key not in self._clients:
            self._clients[key] = self._raw_client(service, self._credentials_for(key[2]), key[1])
        return self._clients[key]

    def account_resolver(self, access_key_id: str) -> str:
        """The account an access key belongs to (for the DRS emulator): STS keys map to their role's account."""
        if access_key_id not in self._accounts_by_key:
            self._accounts_by_key[access_key_id] = self._lookup_account(access_key_id)
        return self._accounts_by_key[access_key_id]

    def deploy(self, template_path: str | Path, stack_name: str, parameters: dict[str, str] | None = None) -> Stack:
        """Create the template as a stack; CREATE_COMPLETE or DeployError naming the failing logical resource."""
        body = Path(template_path).read_text()
        problems = check_template(load_template(body), self.backend.supported_types())
        if problems:
            raise DeployError(stack_name, *problems[0])
        cloudformation = self.client("cloudformation")
        self._create_stack(cloudformation, stack_name, body, parameters or {})
        status = self._wait_for_stack(cloudformation, stack_name)
        if status != "CREATE_COMPLETE":
            raise DeployError(stack_name, *self._first_failure(cloudformation, stack_name, status))
        return self._describe_stack(cloudformation, stack_name, str(template_path))

    # -- credentials and endpoints -----------------------------------------------------------------------------------
    def _base_credentials(self) -> Credentials:
        native = self.backend.credentials(self.account_id)
        return native if native is not None else self._assume_harness_role(self.account_id, ("testing", "testing",
                                                                                             None))

    def _credentials_for(self, account_id: str) -> Credentials:
        if account_id not in self._credentials:
            self._credentials[account_id] = self._assume_harness_role(account_id, self._credentials[self.account_id])
        return self._credentials[account_id]

    def _assume_harness_role(self, account_id: str, via: Credentials) -> Credentials:
        sts = self._raw_client("sts", via)
        answer = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{HARNESS_ROLE}",
                                 RoleSessionName="drs-parity-harness")["Credentials"]
        return answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"]

    def _lookup_account(self, access_key_id: str) -> str:
        if self.backend.in_process:
            from moto.iam.models import get_account_id_from

            return get_account_id_from(access_key_id)
        sts = self._raw_client("sts", (access_key_id, "drs-parity-dummy-secret", None))
        return sts.get_caller_identity()["Account"]

    def _raw_client(self, service: str, credentials: Credentials, region: str | None = None) -> Any:
        access_key, secret, token = credentials
        return mark_harness_client(_session().client(
            service, region_name=region or self.region, endpoint_url=self._endpoint_for(service),
            aws_access_key_id=access_key, aws_secret_access_key=secret, aws_session_token=token))

    def _endpoint_for(self, service: str) -> str | None:
        if service == "drs" and self._drs_url:
            return self._drs_url
        return self.backend.endpoint_url

    def _ec2_client(self, account_id: str, region: str) -> Any:
        return self.client("ec2", region=region, account_id=account_id)

    # -- stacks --------------------------------------------------------------------------------------------------------
    def _create_stack(self, cloudformation: Any, stack_name: str, body: str, parameters: dict[str, str]) -> None:
        blame = _moto_resource_blame() if self.backend.supported_types() is not None else contextlib.nullcontext([])
        with blame as failures:
            try:
                cloudformation.create_stack(
                    StackName=stack_name, TemplateBody=body, Capabilities=CAPABILITIES,
                    Parameters=[{"ParameterKey": key, "ParameterValue": str(value)}
                                for key, value in parameters.items()])
            except (ClientError, BotoCoreError, ResponseParserError) as exc:  # moto answers some errors unparseably
                resource, reason = failures[0] if failures else (stack_name, str(exc))
                raise DeployError(stack_name, resource, reason) from exc

    @staticmethod
    def _wait_for_stack(cloudformation: Any, stack_name: str) -> str:
        status = "CREATE_IN_PROGRESS"
        for attempt in range(_STACK_POLLS):
            status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                return status
            time.sleep(min(0.01 * 2 ** attempt, 1.0))  # real seconds: only LocalStack ever makes us wait
        return status

    @staticmethod
    def _first_failure(cloudformation: Any, stack_name: str, status: str) -> tuple[str, str]:
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
        for event in reversed(events):  # oldest first: the first failure caused the rest
            if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != stack_name:
                return event["LogicalResourceId"], event.get("ResourceStatusReason", event["ResourceStatus"])
        return stack_name, f"stack ended in {status}"

    @staticmethod
    def _describe_stack(cloudformation: Any, stack_name: str, template_path: str) -> Stack:
        described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        stack = Stack(stack_name, template_path,
                      outputs={item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])})
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                if summary["LogicalResourceId"]:  # moto lists unsupported types as blank rows
                    stack.resources[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
                    stack.resource_types[summary["LogicalResourceId"]] = summary["ResourceType"]
        return stack


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for tests and parallel runs)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
