"""The DRS rest-json wire protocol: routing, request and response validation against botocore's model, errors."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import unquote

from botocore import xform_name
from botocore.model import OperationModel

from .backend import DrsBackend
from .models import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, DrsError, RequestContext
from .validation import FieldProblem, drs_service_model, validate

AccountResolver = Callable[[str], str]
WireResponse = tuple[int, dict[str, str], bytes]

OPERATIONS = (
    "StartRecovery", "DescribeJobs", "DescribeJobLogItems", "DescribeSourceServers",
    "DescribeRecoveryInstances", "TerminateRecoveryInstances", "ListTagsForResource",
)
# bounded: what a request names is recorded, and a real key or region is short
_CREDENTIAL = re.compile(r"Credential=([^/,\s]{1,128})/\d{8}/([a-z0-9-]{1,32})/")
_HOST_REGION = re.compile(r"drs\.([a-z0-9-]{1,32})\.amazonaws\.com")


def default_account_resolver(access_key_id: str) -> str:
    return DEFAULT_ACCOUNT_ID


@dataclass(frozen=True)
class Route:
    """One operation's HTTP method and URI template, e.g. GET /tags/{resourceArn}."""

    operation: OperationModel
    method: str
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, operation: OperationModel) -> "Route":
        uri = operation.http["requestUri"].split("?")[0]
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(uri))
        return cls(operation, operation.http["method"], re.compile(regex + "$"))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path) if method == self.method else None
        return {name: unquote(value) for name, value in found.groupdict().items()} if found else None


def _routes() -> list[Route]:
    model = drs_service_model()
    return [Route.of(model.operation_model(name)) for name in OPERATIONS]


def request_context(headers: Mapping[str, str], resolve_account: AccountResolver) -> RequestContext:
    """Account from the SigV4 access key (through the resolver), region from the credential scope or host."""
    lowered = {key.lower(): value for key, value in headers.items()}
    credential = _CREDENTIAL.search(lowered.get("authorization", ""))
    host_region = _HOST_REGION.search(lowered.get("host", ""))
    access_key = credential.group(1) if credential else ""
    region = credential.group(2) if credential else (host_region.group(1) if host_region else DEFAULT_REGION)
    return RequestContext(resolve_account(access_key), region)


def validation_error(problems: list[FieldProblem], reason: str = "fieldValidationFailed") -> DrsError:
    first = problems[0]
    return DrsError("ValidationException", f"Invalid request: {first.name} {first.message}", reason=reason,
                    fieldList=[{"name": p.name, "message": p.message} for p in problems])


def parse_body(body: bytes) -> dict[str, Any]:
    if not body or not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: thousands of nested brackets
        parsed = None
    if not isinstance(parsed, dict):
        raise DrsError("ValidationException", "Request body is not a JSON object", reason="cannotParse")
    return parsed


MAX_BODY_BYTES = 2 * 1024 * 1024  # 2 MiB; DRS's largest real request (StartRecovery, 200 servers with tags) is ~40 KB


def too_large(size: str) -> str:
    return f"Request body of {size} exceeds the limit of {MAX_BODY_BYTES} bytes"


# -- the record of requests served -------------------------------------------------------------------------------------
MAX_RECORDED_REQUESTS = 10_000  # a long harness run serves a few hundred
MAX_RECORDED_BYTES = 32 * 1024 * 1024  # estimated memory of the records kept, whatever clients send
MAX_RECORDED_PARAMS_BYTES = 256 * 1024  # a request whose params would take more is recorded without them
_RECORD_BYTES = 1024  # an entry's own dict, strings and deque slot
_JSON_VALUE_BYTES = 100  # a Python object per JSON value (an empty dict alone is 64 bytes)


def params_bytes(path: str, body: bytes) -> int:
    """Upper estimate of the memory a request's params take: URI and body text plus one object per JSON value."""
    values = 1 + sum(body.count(mark) for mark in (b",", b":", b"[", b"{"))
    return len(path) + (len(body) + _JSON_VALUE_BYTES * values if body else 0)


class RequestLog:
    """The newest requests served, bounded in count and in estimated memory; `served` counts every one."""

    def __init__(self, max_count: int = MAX_RECORDED_REQUESTS, max_bytes: int = MAX_RECORDED_BYTES) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self.served = 0
        self._entries: deque[tuple[int, dict[str, Any]]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any], size: int) -> None:
        """Record `entry`, whose params take about `size` bytes (params_bytes); too large, they are left out."""
        if size > MAX_RECORDED_PARAMS_BYTES:
            entry, size = {**entry, "params": {"omitted": f"about {size} bytes"}}, 0
        with self._lock:
            self.served += 1
            self._entries.append((_RECORD_BYTES + size, entry))
            self._bytes += _RECORD_BYTES + size
            while len(self._entries) > self.max_count or self._bytes > self.max_bytes:
                self._bytes -= self._entries.popleft()[0]

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry for _, entry in self._entries]


# -- the responder -----------------------------------------------------------------------------------------------------
class DrsResponder:
    """Turns one HTTP request into one HTTP response; each is recorded in the bounded `log`."""

    def __init__(self, backend: DrsBackend, resolve_account: AccountResolver | None = None) -> None:
        self.backend = backend
        self.resolve_account = resolve_account or default_account_resolver
        self.routes = _routes()
        self.log = RequestLog()
        self._request_ids = itertools.count(1)

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> WireResponse:
        if len(body) > MAX_BODY_BYTES:  # the HTTP transport refuses it unread; in-process answers the same
            return self.refuse(413, too_large(f"{len(body)} bytes"), headers)
        ctx = request_context(headers, self.resolve_account)
        operation_name, params = "Unknown", {}
        try:
            operation, uri_params = self._route(method.upper(), path)
            operation_name = operation.name
            params = {**parse_body(body), **uri_params}
            status, result = self._serve(ctx, operation, params)
            response = self._success(status, result)
        except DrsError as error:
            response = self._failure(error)
        except Exception as error:  # an emulator bug: answer 500 with its cause rather than drop the connection
            response = self._failure(DrsError("InternalServerException", f"DRS emulator error: {error!r}"))
        self._record(ctx, operation_name, params, response, params_bytes(path, body) if params else 0)
        return response

    def refuse(self, status: int, message: str, headers: Mapping[str, str]) -> WireResponse:
        """The answer to a request the transport could not read (framing, size): DRS's error shape, recorded."""
        response = self._failure(DrsError("ValidationException", message, reason="cannotParse"), status)
        self._record(request_context(headers, self.resolve_account), "Unknown", {}, response, 0)
        return response

    def _route(self, method: str, path: str) -> tuple[OperationModel, dict[str, str]]:
        for route in self.routes:
            uri_params = route.match(method, path)
            if uri_params is not None:
                return route.operation, uri_params
        raise DrsError("ValidationException", f"Unknown operation {method} {path}", reason="unknownOperation")

    def _serve(self, ctx: RequestContext, operation: OperationModel, params: dict[str, Any]) -> tuple[int, Any]:
        # Time first: events due by now happen before the request sees the state (and before a fault hides it).
        self.backend.settle()
        fault = self.backend.take_fault(operation.name)
        if fault is not None:
            raise fault
        problems = validate(operation.input_shape, params)
        if problems:
            raise validation_error(problems)
        with self.backend.lock:
            result = getattr(self.backend, xform_name(operation.name))(ctx, params)
        self._check_output(operation, result)
        return operation.http.get("responseCode", 200), result

    @staticmethod
    def _check_output(operation: OperationModel, result: dict[str, Any]) -> None:
        problems = validate(operation.output_shape, result)
        if problems:
            detail = "; ".join(f"{p.name} {p.message}" for p in problems[:5])
            raise DrsError("InternalServerException", f"DRS emulator built an invalid {operation.name} response: {detail}")

    def _success(self, status: int, result: Any) -> WireResponse:
        return status, self._headers(), json.dumps(result).encode()

    def _failure(self, error: DrsError, status: int | None = None) -> WireResponse:
        shape = drs_service_model().shape_for(error.code)
        body = error.body()
        problems = validate(shape, body)
        if problems:  # an emulator bug, not the client's: say so rather than send a malformed error
            raise AssertionError(f"DRS emulator built an invalid {error.code}: {problems}")
        status = status or shape.metadata.get("error", {}).get("httpStatusCode", 400)
        return status, {**self._headers(), "x-amzn-ErrorType": error.code}, json.dumps(body).encode()

    def _headers(self) -> dict[str, str]:
        request_id = f"00000000-0000-4000-8000-{next(self._request_ids):012d}"
        return {"Content-Type": "application/json", "x-amzn-RequestId": request_id}

    def _record(self, ctx: RequestContext, operation: str, params: dict[str, Any], response: WireResponse,
                params_size: int) -> None:
        status, headers, _ = response
        self.log.add({"account": ctx.account_id, "region": ctx.region, "operation": operation, "params": params,
                      "status": status, "error": headers.get("x-amzn-ErrorType")}, params_size)
