"""The API in front of a deployed stack: requests routed as API Gateway routes them, or answered by it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl

from drs_parity.fixtures.cloudformation import read_template
from drs_parity.fixtures.routes import RouteTable
from drs_parity.world.api_routes import ApiDeclarationError, DeclaredApi, Integration, declared_api
from drs_parity.world.apigateway import HeaderValues, api_response, missing_authentication_token
from drs_parity.world.deploy import Stack
from drs_parity.world.functions import ApiResponse
from drs_parity.world.host import FunctionHost


@dataclass(frozen=True)
class Target:
    """A route's function as the host knows it, and how long API Gateway waits for it."""

    function: str  # the deployed function's name
    timeout: float
    function_timeout: float


class ApiGateway:
    """One REST API: matches each request to a route and calls its function through a Lambda proxy integration."""

    def __init__(self, host: FunctionHost, routes: RouteTable[Target], unsupported: tuple[str, ...] = ()) -> None:
        self.host = host
        self.routes = routes
        self.unsupported = unsupported  # methods the template declares with integrations that are not served

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
                headers: Mapping[str, HeaderValues] | None = None,
                claims: Mapping[str, Any] | None = None) -> ApiResponse:
        """What the API answers `method path` (a query string in `path` joins `query`); async work drained."""
        path, query = split_query(path, query)
        found = self.routes.match(method, path)
        if found is None:  # API Gateway answers itself: no function is invoked
            return missing_authentication_token()
        target = found.route.target
        mark = len(self.host.invocations)
        self.host.api_request(target.function, method, path, body=body, query=query, headers=headers, claims=claims,
                              resource=found.resource, path_parameters=found.path_parameters or None)
        invocation = self.host.invocations[mark]  # the host records the API's invocation first, then drains
        return api_response(invocation, target.timeout, target.function_timeout)


def split_query(path: str, query: Mapping[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """The path without its query string, and that string's parameters merged with `query` (repeats kept)."""
    path, _, text = path.partition("?")
    merged: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        merged.setdefault(key, []).append(value)
    for key, value in (query or {}).items():
        merged.setdefault(key, []).extend(value if isinstance(value, (list, tuple)) else [value])
    return path, {key: values if len(values) > 1 else values[0] for key, values in merged.items()} or None


def api_gateway(host: FunctionHost, stack: Stack, fallback: RouteTable[str] | None = None,
                template: Mapping[str, Any] | None = None) -> ApiGateway:
    """The API of a deployed stack: the routes its template declares, else `fallback` (logical ids: a system
    description's routes). ApiDeclarationError names the resource when a route's function is not deployed."""
    # the template as deployed: Conditions applied, so an API resource whose Condition is false routes nothing
    document = template if template is not None else (stack.template or read_template(Path(stack.template_path)))
    declared = declared_api(document)
    if not declared.routes and fallback:
        declared = DeclaredApi(fallback.map(lambda logical_id: Integration(logical_id, True, where="routes")))
    routes = declared.routes.map(lambda integration: _target(host, stack, integration))
    return ApiGateway(host, routes, tuple(declared.unsupported))


def _target(host: FunctionHost, stack: Stack, integration: Integration) -> Target:
    name = stack.resources.get(integration.function) if integration.logical else integration.function
    function = host.find(name) if name else None
    if function is None:
        raise ApiDeclarationError(f"resource {integration.where}: the integration's function "
                                  f"{integration.function} is not a deployed Lambda function")
    return Target(function.name, integration.timeout, float(function.timeout))
