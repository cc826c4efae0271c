"""API Gateway proxy plumbing: a small router, the contract's generic request checks, JSON responses."""

import base64
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from shared.domain.lifecycle import InvalidTransition
from shared.errors import ApiError, AwsCallError

MAX_BODY_BYTES = 65536
RESPONSE_HEADERS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}


@dataclass
class Request:
    method: str
    path: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Response:
    status: int
    body: Any


Handler = Callable[[Request], Response]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def proxy_response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(RESPONSE_HEADERS), "body": json.dumps(body, default=_json_default)}


def error_response(error: ApiError) -> dict[str, Any]:
    return proxy_response(error.status, {"error": error.code, "message": error.message})


def _not_json() -> ApiError:
    return ApiError(400, "INVALID_JSON", "Request body is not valid JSON")


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:  # binascii.Error
            raise _not_json() from None
    return body.encode("utf-8")


def _refuse_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are Python's extensions, not JSON (RFC 8259)
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise _not_json() from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "INVALID_JSON", "Request body must be a JSON object")
    return parsed


def _claims(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return authorizer.get("claims") or {}


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    takes_body: bool
    handler: Handler


class Router:
    """Routes proxy events by method and path template (`/things/{id}`), applying the checks in contract order."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def route(self, method: str, template: str, takes_body: bool = False) -> Callable[[Handler], Handler]:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method, re.compile(regex), takes_body, handler))
            return handler

        return register

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._dispatch(event)
        except ApiError as exc:
            return error_response(exc)

    def _dispatch(self, event: dict[str, Any]) -> dict[str, Any]:
        method = str(event.get("httpMethod", "")).upper()
        path = str(event.get("path", ""))
        route, params = self._match(method, path)
        raw = _raw_body(event)
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(400, "PAYLOAD_TOO_LARGE", f"Request body exceeds {MAX_BODY_BYTES} bytes")
        request = Request(
            method=method,
            path=path,
            path_params=params,
            query=dict(event.get("queryStringParameters") or {}),
            body=_json_object(raw) if route.takes_body else None,
            claims=_claims(event),
        )
        try:
            response = route.handler(request)
        except InvalidTransition as exc:
            raise ApiError(409, "INVALID_STATE", str(exc)) from exc
        except AwsCallError as exc:
            raise ApiError(502, "DRS_ERROR", exc.text) from exc
        return proxy_response(response.status, response.body)

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]]:
        for route in self._routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        raise ApiError(404, "NOT_FOUND", f"No route for {method} {path}")
