"""API Gateway's REST proxy integration: the event a function receives and the HTTP answer made of its result."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from drs_parity.world.functions import ApiResponse, Invocation

DEFAULT_CLAIMS = {"sub": "00000000-0000-4000-8000-000000000001", "email": "test.user@example.com",
                  "cognito:username": "test.user", "cognito:groups": "DRSOrchestrationAdmin"}
INTEGRATION_TIMEOUT = 29.0  # seconds API Gateway waits for a Lambda integration (the default maximum)
PROXY_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
HeaderValues = str | Sequence[str]


@dataclass(frozen=True)
class Gateway:
    """Where a request arrives: the account of the API, this request's id and its (virtual) arrival time."""

    account_id: str
    request_id: str
    now: float


def proxy_event(gateway: Gateway, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
                headers: Mapping[str, HeaderValues] | None = None, claims: Mapping[str, Any] | None = None,
                resource: str | None = None, path_parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event of one HTTP request through a REST proxy integration with a Cognito authorizer.

    A query or header value may be a list (sent several times): the single-value form keeps the last one.
    """
    multi_headers = _multi_values({"Content-Type": "application/json", "Accept": "application/json",
                                   **(headers or {})})
    multi_query = _multi_values(query or {})
    return {
        "resource": resource or path, "path": path, "httpMethod": method.upper(),
        "headers": {key: values[-1] for key, values in multi_headers.items()}, "multiValueHeaders": multi_headers,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": _request_context(gateway, method.upper(), path, resource or path, claims),
        "body": _proxy_body(body), "isBase64Encoded": False,
    }


def _multi_values(values: Mapping[str, Any]) -> dict[str, list[str]]:
    return {key: [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            for key, value in values.items()}


def _request_context(gateway: Gateway, method: str, path: str, resource: str,
                     claims: Mapping[str, Any] | None) -> dict[str, Any]:
    now = gateway.now
    return {
        "resourceId": hashlib.sha256(resource.encode()).hexdigest()[:6], "resourcePath": resource,
        "httpMethod": method, "path": f"/test{path}", "stage": "test",
        "accountId": gateway.account_id, "apiId": "drsparity", "protocol": "HTTP/1.1",
        "requestId": gateway.request_id, "extendedRequestId": gateway.request_id[:16],
        "requestTimeEpoch": int(now * 1000),
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


# -- API Gateway's own answers ----------------------------------------------------------------------------------------
def gateway_answer(status: int, message: str) -> ApiResponse:
    """An answer API Gateway gives by itself, without (or instead of) the function's."""
    raw = json.dumps({"message": message})
    return ApiResponse(status, {"Content-Type": "application/json", "x-amzn-ErrorType": _ERROR_TYPES[status]},
                       {"message": message}, raw)


_ERROR_TYPES = {403: "MissingAuthenticationTokenException", 502: "InternalServerErrorException",
                504: "IntegrationTimeoutException"}


def missing_authentication_token() -> ApiResponse:
    """What a REST API answers for a path (or a method on it) that no resource serves."""
    return gateway_answer(403, "Missing Authentication Token")


def run_time(invocation: Invocation) -> float:
    """The invocation's virtual duration: the clock's advance while it ran plus what it slept."""
    started, ended = invocation.started or 0.0, invocation.ended or invocation.started or 0.0
    return max(0.0, ended - started) + invocation.slept


def api_response(invocation: Invocation, integration_timeout: float = INTEGRATION_TIMEOUT,
                 function_timeout: float | None = None) -> ApiResponse:
    """What API Gateway answers for the function's proxy result.

    504 when the integration ran past its timeout (API Gateway stops waiting; the function runs on), 502 when the
    function failed (an unhandled error, or its own timeout) or answered something that is no proxy result.
    """
    duration = run_time(invocation)
    if duration > integration_timeout:
        return gateway_answer(504, "Endpoint request timed out")
    timed_out = function_timeout is not None and duration > function_timeout
    result = invocation.result
    if invocation.error is not None or timed_out or malformed_proxy_result(result):
        return gateway_answer(502, "Internal server error")
    headers = {key: ",".join(map(str, values)) for key, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update({key: str(value) for key, value in (result.get("headers") or {}).items()})
    raw = result.get("body") or ""
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return ApiResponse(result["statusCode"], headers, body, raw)


def malformed_proxy_result(result: Any) -> bool:
    """True when API Gateway would log "Malformed Lambda proxy response" (and answer 502) for this result."""
    if not isinstance(result, dict) or set(result) - PROXY_RESULT_KEYS:
        return True
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return True
    if result.get("body") is not None and not isinstance(result["body"], str):
        return True
    if not isinstance(result.get("isBase64Encoded", False), bool):
        return True
    multi = result.get("multiValueHeaders")
    return not (_mapping_or_none(result.get("headers")) and _mapping_or_none(multi)) or (
        isinstance(multi, dict) and not all(isinstance(values, list) for values in multi.values()))


def _mapping_or_none(value: Any) -> bool:
    return value is None or isinstance(value, dict)
