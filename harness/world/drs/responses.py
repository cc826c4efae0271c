"""The DRS rest-json wire protocol: routing, request and response validation against botocore's model, errors."""

from __future__ import annotations

import itertools
import json
import re
import threading
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
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")
_HOST_REGION = re.compile(r"drs\.([a-z0-9-]+)\.amazonaws\.com")


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
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        raise DrsError("ValidationException", "Request body is not a JSON object", reason="cannotParse")
    return parsed


class DrsResponder:
    """Turns one HTTP request into one HTTP response; every request is recorded in `requests`."""

    def __init__(self, backend: DrsBackend, resolve_account: AccountResolver | None = None) -> None:
        self.backend = backend
        self.resolve_account = resolve_account or default_account_resolver
        self.routes = _routes()
        self.requests: list[dict[str, Any]] = []
        self._request_ids = itertools.count(1)
        self._log_lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> WireResponse:
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
        self._record(ctx, operation_name, params, response)
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

    def _failure(self, error: DrsError) -> WireResponse:
        shape = drs_service_model().shape_for(error.code)
        body = error.body()
        problems = validate(shape, body)
        if problems:  # an emulator bug, not the client's: say so rather than send a malformed error
            raise AssertionError(f"DRS emulator built an invalid {error.code}: {problems}")
        status = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        return status, {**self._headers(), "x-amzn-ErrorType": error.code}, json.dumps(body).encode()

    def _headers(self) -> dict[str, str]:
        request_id = f"00000000-0000-4000-8000-{next(self._request_ids):012d}"
        return {"Content-Type": "application/json", "x-amzn-RequestId": request_id}

    def _record(self, ctx: RequestContext, operation: str, params: dict[str, Any], response: WireResponse) -> None:
        status, headers, _ = response
        entry = {"account": ctx.account_id, "region": ctx.region, "operation": operation, "params": params,
                 "status": status, "error": headers.get("x-amzn-ErrorType")}
        with self._log_lock:
            self.requests.append(entry)
