"""API Gateway proxy events in, JSON responses out: routing, the contract's request checks, error answers."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

import executions
from catalog import ProtectionGroupCatalog, RecoveryPlanCatalog
from errors import ApiError
from services import Services

MAX_BODY_BYTES = 65536
HEADERS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}

Result = tuple[int, Any]


@dataclass
class Request:
    method: str
    path: str
    raw_body: bytes
    query: dict[str, str]
    claimed_email: str | None
    json: Any = field(default=None)


Action = Callable[..., Result]  # (services, request, *path ids) -> (status, body)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]  # path segments; "{}" matches one id
    action: Action
    takes_body: bool = False

    def match(self, method: str, segments: list[str]) -> list[str] | None:
        if method != self.method or len(segments) != len(self.pattern):
            return None
        ids = []
        for wanted, given in zip(self.pattern, segments):
            if wanted == "{}":
                if not given:
                    return None
                ids.append(given)
            elif wanted != given:
                return None
        return ids


def _route(method: str, path: str, action: Action, takes_body: bool = False) -> Route:
    return Route(method, tuple(path.strip("/").split("/")), action, takes_body)


def _catalog_routes(prefix: str, catalog: Callable[[Services], Any]) -> list[Route]:
    return [
        _route("GET", prefix, lambda services, request: catalog(services).list()),
        _route("POST", prefix, lambda services, request: catalog(services).create(request.json), takes_body=True),
        _route("GET", f"{prefix}/{{}}", lambda services, request, item_id: catalog(services).get(item_id)),
        _route("PUT", f"{prefix}/{{}}", lambda services, request, item_id: catalog(services).update(item_id, request.json),
               takes_body=True),
        _route("DELETE", f"{prefix}/{{}}", lambda services, request, item_id: catalog(services).delete(item_id)),
    ]


def _execution_action(action: Callable[[Services, str], Result]) -> Action:
    return lambda services, request, execution_id: action(services, execution_id)


ROUTES = [
    *_catalog_routes("/protection-groups", ProtectionGroupCatalog),
    *_catalog_routes("/recovery-plans", RecoveryPlanCatalog),
    _route("POST", "/executions", lambda services, request: executions.start_execution(
        services, request.json, request.claimed_email), takes_body=True),
    _route("GET", "/executions", lambda services, request: executions.list_executions(services, request.query)),
    _route("GET", "/executions/{}", _execution_action(executions.get_execution)),
    _route("POST", "/executions/{}/cancel", _execution_action(executions.cancel_execution)),
    _route("POST", "/executions/{}/pause", _execution_action(executions.pause_execution)),
    _route("POST", "/executions/{}/resume", _execution_action(executions.resume_execution)),
    _route("GET", "/executions/{}/job-logs", _execution_action(executions.job_logs)),
    _route("POST", "/executions/{}/terminate-instances", _execution_action(executions.terminate_instances)),
    _route("GET", "/health", lambda services, request: (200, {"status": "healthy"})),
]


# -- requests ---------------------------------------------------------------------------------------------------------
def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "INVALID_JSON", "Request body is not valid JSON") from None
    return body.encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "INVALID_JSON", "Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "INVALID_JSON", "Request body must be a JSON object")
    return value


def _claimed_email(event: dict[str, Any]) -> str | None:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    email = claims.get("email")
    return email if isinstance(email, str) else None


def _request(event: dict[str, Any]) -> Request:
    return Request(method=str(event.get("httpMethod") or "").upper(), path=str(event.get("path") or "/"),
                   raw_body=b"", query=dict(event.get("queryStringParameters") or {}),
                   claimed_email=_claimed_email(event))


# -- responses --------------------------------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def respond(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(HEADERS), "body": json.dumps(body, default=_json_default)}


def _dispatch(services: Services, event: dict[str, Any]) -> Result:
    request = _request(event)
    # exact match: "/protection-groups/" (trailing slash) is not the route "/protection-groups"
    segments = request.path[1:].split("/") if request.path.startswith("/") else []
    for route in ROUTES:
        ids = route.match(request.method, segments)
        if ids is None:
            continue
        request.raw_body = _raw_body(event)
        if len(request.raw_body) > MAX_BODY_BYTES:
            raise ApiError(400, "PAYLOAD_TOO_LARGE", f"Request body exceeds {MAX_BODY_BYTES} bytes")
        if route.takes_body:
            request.json = _parse_json_object(request.raw_body)
        return route.action(services, request, *ids)
    raise ApiError(404, "NOT_FOUND", f"No route for {request.method} {request.path}")


def handle(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    try:
        status, body = _dispatch(services, event)
    except ApiError as error:
        status, body = error.status, {"error": error.code, "message": error.message}
    return respond(status, body)
