"""API Gateway's REST proxy integration: the event a function receives and the HTTP answer made of its result."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Mapping

from drs_parity.world.functions import ApiResponse, Invocation

DEFAULT_CLAIMS = {"sub": "00000000-0000-4000-8000-000000000001", "email": "test.user@example.com",
                  "cognito:username": "test.user", "cognito:groups": "DRSOrchestrationAdmin"}


@dataclass(frozen=True)
class Gateway:
    """Where a request arrives: the account of the API, this request's id and its (virtual) arrival time."""

    account_id: str
    request_id: str
    now: float


def proxy_event(gateway: Gateway, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, claims: Mapping[str, Any] | None = None,
                resource: str | None = None, path_parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event of one HTTP request through a REST proxy integration with a Cognito authorizer."""
    all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    multi_query = {key: [str(v) for v in (value if isinstance(value, list) else [value])]
                   for key, value in (query or {}).items()}
    return {
        "resource": resource or path, "path": path, "httpMethod": method.upper(),
        "headers": all_headers, "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": _request_context(gateway, method.upper(), path, resource or path, claims),
        "body": _proxy_body(body), "isBase64Encoded": False,
    }


def _request_context(gateway: Gateway, method: str, path: str, resource: str,
                     claims: Mapping[str, Any] | None) -> dict[str, Any]:
    now = gateway.now
    return {
        "resourcePath": resource, "httpMethod": method, "path": f"/test{path}", "stage": "test",
        "accountId": gateway.account_id, "apiId": "drsparity", "protocol": "HTTP/1.1",
        "requestId": gateway.request_id, "requestTimeEpoch": int(now * 1000),
        "requestTime": dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "drs-parity", "cognitoIdentityId": None},
        "authorizer": {"claims": dict(claims) if claims is not None else dict(DEFAULT_CLAIMS)},
    }


def _proxy_body(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body  # a str goes verbatim, so tests can send malformed JSON
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8")
    return json.dumps(body)


_GATEWAY_FAILURE = ApiResponse(502, {"Content-Type": "application/json"}, {"message": "Internal server error"},
                               '{"message": "Internal server error"}')


def api_response(invocation: Invocation) -> ApiResponse:
    """What API Gateway answers for the function's proxy result (502 when it raised or answered nonsense)."""
    result = invocation.result
    if invocation.error is not None or not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return ApiResponse(_GATEWAY_FAILURE.status, dict(_GATEWAY_FAILURE.headers), dict(_GATEWAY_FAILURE.body),
                           _GATEWAY_FAILURE.raw)
    headers = {key: ",".join(map(str, values)) for key, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update({key: str(value) for key, value in (result.get("headers") or {}).items()})
    raw = result.get("body")
    raw = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return ApiResponse(result["statusCode"], headers, body, raw)
