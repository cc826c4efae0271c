"""The REST API a template declares (AWS::ApiGateway resources, OpenAPI bodies, SAM Api events) and what moto gets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import yaml

from drs_parity.errors import DrsParityError
from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.fixtures.routes import ANY, RouteTable, RouteTemplateError
from drs_parity.world.apigateway import INTEGRATION_TIMEOUT

REST_API, RESOURCE, METHOD = "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method"
SAM_API, SAM_FUNCTION = "AWS::Serverless::Api", "AWS::Serverless::Function"
FUNCTION_TYPES = ("AWS::Lambda::Function", SAM_FUNCTION)
ALIAS_TYPES = ("AWS::Lambda::Alias", "AWS::Lambda::Version")
ANY_METHOD = "x-amazon-apigateway-any-method"
OPENAPI_INTEGRATION = "x-amazon-apigateway-integration"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}")
_LITERAL_FUNCTION = re.compile(r":function:([A-Za-z0-9_-]+)")
_MAX_DEPTH = 64  # nested Resources deeper than this are a ParentId cycle


class ApiDeclarationError(DrsParityError, ValueError):
    """The template's API cannot be routed; the message names the resource and the property."""


@dataclass(frozen=True)
class Integration:
    """Where a route goes: a function of the template (logical id) or one named by a literal ARN."""

    function: str
    logical: bool
    timeout: float = INTEGRATION_TIMEOUT
    where: str = ""  # the declaring resource (and path), for messages


@dataclass
class DeclaredApi:
    """Routes of every REST API of a template; methods whose integration is no Lambda proxy are listed aside."""

    routes: RouteTable[Integration] = field(default_factory=RouteTable)
    unsupported: list[str] = field(default_factory=list)  # "OptionsMethod (OPTIONS /x): MOCK integration"


def declared_api(template: Mapping[str, Any]) -> DeclaredApi:
    """The routes a template declares (empty when it declares no API)."""
    resources = template.get("Resources") if isinstance(template, Mapping) else None
    api = DeclaredApi()
    if not isinstance(resources, Mapping):
        return api
    reader = _Reader(resources, api)
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        kind, properties = resource.get("Type"), resource.get("Properties") or {}
        if kind == METHOD:
            reader.method(logical_id, properties)
        elif kind == REST_API and isinstance(properties.get("Body"), Mapping):
            reader.openapi(f"{logical_id}.Body", properties["Body"])
        elif kind == SAM_API and isinstance(properties.get("DefinitionBody"), Mapping):
            reader.openapi(f"{logical_id}.DefinitionBody", properties["DefinitionBody"])
        elif kind == SAM_FUNCTION:
            reader.sam_events(logical_id, properties)
    return api


class _Reader:
    """Reads one template's API declarations into `api`; each problem names the resource and the property."""

    def __init__(self, resources: Mapping[str, Any], api: DeclaredApi) -> None:
        self.resources = resources
        self.api = api

    def fail(self, where: str, problem: str) -> ApiDeclarationError:
        return ApiDeclarationError(f"resource {where}: {problem}")

    # -- AWS::ApiGateway::Method on a tree of AWS::ApiGateway::Resource --------------------------------------------
    def method(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        http_method = properties.get("HttpMethod")
        if not isinstance(http_method, str):
            raise self.fail(logical_id, "property HttpMethod: must be a method name such as GET or ANY")
        path = self.resource_path(properties.get("ResourceId"), f"{logical_id} property ResourceId", 0)
        integration = properties.get("Integration") or {}
        kind = str(integration.get("Type", "")).upper() if isinstance(integration, Mapping) else ""
        where = f"{logical_id} ({http_method.upper()} {path})"
        if kind != "AWS_PROXY":
            self.api.unsupported.append(f"{where}: {kind or 'no'} integration")
            return
        target = self.integration(integration.get("Uri"), f"{logical_id} property Integration.Uri",
                                  integration.get("TimeoutInMillis"), where)
        self.add(http_method, path, target, logical_id)

    def resource_path(self, reference: Any, where: str, depth: int) -> str:
        """The path of the resource a ResourceId/ParentId names: the API's root, or a Resource's path."""
        if depth > _MAX_DEPTH:
            raise self.fail(where, "the Resources' ParentIds form a cycle")
        if isinstance(reference, Mapping) and "Fn::GetAtt" in reference:
            target = _getatt(reference["Fn::GetAtt"])
            if target is not None and target[1] == "RootResourceId":
                return "/"
        if isinstance(reference, Mapping) and isinstance(reference.get("Ref"), str):
            logical_id = reference["Ref"]
            resource = self.resources.get(logical_id)
            if isinstance(resource, Mapping) and resource.get("Type") == RESOURCE:
                properties = resource.get("Properties") or {}
                part = properties.get("PathPart")
                if not isinstance(part, str) or not part:
                    raise self.fail(logical_id, "property PathPart: must be a path segment such as items or {id}")
                parent = self.resource_path(properties.get("ParentId"), f"{logical_id} property ParentId", depth + 1)
                return f"{parent.rstrip('/')}/{part}"
        raise self.fail(where, "must be !GetAtt <RestApi>.RootResourceId or !Ref <AWS::ApiGateway::Resource>")

    # -- OpenAPI bodies and SAM events ---------------------------------------------------------------------------------
    def openapi(self, where: str, body: Mapping[str, Any]) -> None:
        paths = body.get("paths") or {}
        for path, operations in paths.items() if isinstance(paths, Mapping) else ():
            for verb, operation in operations.items() if isinstance(operations, Mapping) else ():
                if not isinstance(operation, Mapping) or (verb.upper() not in _HTTP_VERBS and verb != ANY_METHOD):
                    continue
                method = ANY if verb == ANY_METHOD else verb.upper()
                spot = f"{where} paths.{path}.{verb}"
                integration = operation.get(OPENAPI_INTEGRATION) or {}
                kind = str(integration.get("type", "")).lower() if isinstance(integration, Mapping) else ""
                if kind != "aws_proxy":
                    self.api.unsupported.append(f"{spot}: {kind or 'no'} integration")
                    continue
                target = self.integration(integration.get("uri"), f"{spot} {OPENAPI_INTEGRATION}.uri",
                                          integration.get("timeoutInMillis"), f"{where} ({method} {path})")
                self.add(method, str(path), target, spot)

    def sam_events(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        events = properties.get("Events") or {}
        for name, event in events.items() if isinstance(events, Mapping) else ():
            if not isinstance(event, Mapping) or event.get("Type") != "Api":
                continue
            spot = f"{logical_id} property Events.{name}"
            details = event.get("Properties") or {}
            path, method = details.get("Path"), details.get("Method")
            if not isinstance(path, str) or not isinstance(method, str):
                raise self.fail(spot, "an Api event needs Properties.Path and Properties.Method")
            method = ANY if method.lower() in ("any", ANY_METHOD) else method.upper()
            self.add(method, path, Integration(logical_id, True, where=f"{spot} ({method} {path})"), spot)

    # -- the integration's function ------------------------------------------------------------------------------------
    def integration(self, uri: Any, where: str, timeout_ms: Any, route: str) -> Integration:
        timeout = INTEGRATION_TIMEOUT
        if timeout_ms is not None:
            try:
                timeout = min(INTEGRATION_TIMEOUT, int(timeout_ms) / 1000)
            except (TypeError, ValueError):
                raise self.fail(route, f"integration timeout {timeout_ms!r} is not a number of milliseconds") from None
        functions = [name for name in _referenced_names(uri) if self.function_of(name) is not None]
        if functions:
            return Integration(str(self.function_of(functions[0])), True, timeout, route)
        literal = _LITERAL_FUNCTION.search(uri) if isinstance(uri, str) else None
        if literal:
            return Integration(literal.group(1), False, timeout, route)
        raise self.fail(where, "names no Lambda function (expected arn:aws:apigateway:<region>:lambda:path/"
                               "2015-03-31/functions/${Function.Arn}/invocations)")

    def function_of(self, logical_id: str) -> str | None:
        """The function a logical id stands for: itself, or the function an alias or version points at."""
        resource = self.resources.get(logical_id)
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if kind in FUNCTION_TYPES:
            return logical_id
        if kind in ALIAS_TYPES:
            names = list(_referenced_names((resource.get("Properties") or {}).get("FunctionName")))
            return next((name for name in names if self.function_of(name) == name), None)
        return None

    def add(self, method: str, path: str, target: Integration, where: str) -> None:
        try:
            self.api.routes.add(method, path, target)
        except RouteTemplateError as error:
            raise self.fail(where, str(error)) from None


_HTTP_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _getatt(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and "." in value:
        value = value.split(".", 1)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    return None


def _referenced_names(value: Any) -> Iterator[str]:
    """Logical ids an expression refers to (Ref, Fn::GetAtt, ${Name} / ${Name.Arn} in Fn::Sub), in order."""
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        if "Fn::GetAtt" in value and _getatt(value["Fn::GetAtt"]) is not None:
            yield _getatt(value["Fn::GetAtt"])[0]  # type: ignore[index]
        sub = value.get("Fn::Sub")
        text, variables = (sub[0], sub[1]) if isinstance(sub, list) and len(sub) == 2 else (sub, {})
        if isinstance(text, str):
            for name in _SUB_NAME.findall(text):
                yield from _referenced_names(variables[name]) if name in (variables or {}) else (name,)
        for key, item in value.items():
            if key not in ("Ref", "Fn::GetAtt", "Fn::Sub"):
                yield from _referenced_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced_names(item)


# -- what moto is given -----------------------------------------------------------------------------------------------
API_FAMILY = ("AWS::ApiGateway::", SAM_API)
DEPLOYMENT, STAGE = "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"
_NEEDS_METHOD = ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY")  # without IntegrationHttpMethod AWS refuses them, so moto
_API_LINKS = ("RestApiId", "ParentId", "ResourceId", "DeploymentId")  # a member of an API that moto left out


def for_moto(body: str, supported_types: set[str] | None) -> str:
    """The template text a moto backend gets: the API resources it cannot create left out (the harness routes
    from the template itself), the properties its models insist on filled with CloudFormation's defaults, and
    references to what was left out replaced by a stand-in id. Other backends (None) get the text as it is.
    """
    if supported_types is None:
        return body
    try:
        template = parse_template(body)
    except yaml.YAMLError:
        return body  # the deploy's own reading reports it
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict) or not any(_in_api_family(resource) for resource in resources.values()):
        return body
    left_out = _left_out(resources, supported_types)
    kept = {logical_id: resource for logical_id, resource in resources.items() if logical_id not in left_out}
    for logical_id, resource in kept.items():
        _fill_moto_defaults(logical_id, resource)
    template["Resources"] = kept
    stand_ins = {logical_id: _stand_in(logical_id, resources[logical_id]) for logical_id in left_out}
    return json.dumps(_without_references(template, stand_ins), default=str)


def _in_api_family(resource: Any) -> bool:
    return isinstance(resource, dict) and str(resource.get("Type", "")).startswith(API_FAMILY)


def _left_out(resources: dict[str, Any], supported_types: set[str]) -> set[str]:
    """API resources moto cannot create: unsupported types, Deployments of an API without Methods (moto refuses
    them: NoMethodDefined), and members of an API left out, until nothing more follows."""
    left_out = {logical_id for logical_id, resource in resources.items()
                if _in_api_family(resource) and resource["Type"] not in supported_types}
    with_methods = {name for resource in resources.values() if isinstance(resource, dict)
                    and resource.get("Type") == METHOD
                    for name in _referenced_names((resource.get("Properties") or {}).get("RestApiId"))}
    left_out |= {logical_id for logical_id, resource in resources.items() if isinstance(resource, dict)
                 and resource.get("Type") == DEPLOYMENT
                 and not set(_referenced_names((resource.get("Properties") or {}).get("RestApiId"))) & with_methods}
    while True:
        follows = {logical_id for logical_id, resource in resources.items()
                   if logical_id not in left_out and _in_api_family(resource)
                   and set(_referenced_names([(resource.get("Properties") or {}).get(link) for link in _API_LINKS]))
                   & left_out}
        if not follows:
            return left_out
        left_out |= follows


def _fill_moto_defaults(logical_id: str, resource: Any) -> None:
    """Properties CloudFormation lets you leave out and moto's models read unconditionally."""
    if not _in_api_family(resource):
        return
    properties = resource.setdefault("Properties", {})
    if resource["Type"] == REST_API and "Name" not in properties:
        info = (properties.get("Body") or {}).get("info") if isinstance(properties.get("Body"), dict) else None
        properties["Name"] = info.get("title", logical_id) if isinstance(info, dict) else logical_id
    elif resource["Type"] == METHOD:
        properties.setdefault("AuthorizationType", "NONE")
        integration = properties.setdefault("Integration", {"Type": "MOCK"})
        if isinstance(integration, dict) and str(integration.get("Type", "")).upper() not in _NEEDS_METHOD:
            integration.setdefault("IntegrationHttpMethod", "POST")  # a MOCK has none; moto reads it anyway
        if isinstance(integration, dict):
            integration.setdefault("Uri", "")


def _without_references(value: Any, left_out: Mapping[str, str]) -> Any:
    """`value` with every Ref, Fn::GetAtt, ${Name} and DependsOn naming a left-out resource replaced by its
    stand-in (`left_out`: logical id -> stand-in)."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str) and value["Ref"] in left_out:
            return left_out[value["Ref"]]
        target = _getatt(value.get("Fn::GetAtt")) if "Fn::GetAtt" in value else None
        if target is not None and target[0] in left_out:
            return left_out[target[0]]
        return {key: _without_depends_on(item, left_out) if key == "DependsOn" else
                _sub_text(item, left_out) if key == "Fn::Sub" else _without_references(item, left_out)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_without_references(item, left_out) for item in value]
    return value


def _without_depends_on(value: Any, left_out: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return [] if value in left_out else value
    return [name for name in value if name not in left_out] if isinstance(value, list) else value


def _sub_text(value: Any, left_out: Mapping[str, str]) -> Any:
    def replace(found: re.Match[str]) -> str:
        return left_out.get(found.group(1), found.group(0))

    if isinstance(value, str):
        return _SUB_ANY.sub(replace, value)
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [_SUB_ANY.sub(replace, value[0]), *_without_references(value[1:], left_out)]
    return _without_references(value, left_out)


_SUB_ANY = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _stand_in(logical_id: str, resource: Mapping[str, Any]) -> str:
    """What a Ref of a resource moto did not create stands for: a stage's name, else an id (API Gateway's are
    ten lower-case letters and digits)."""
    stage = (resource.get("Properties") or {}).get("StageName") if resource.get("Type") == STAGE else None
    return stage if isinstance(stage, str) else (re.sub(r"[^a-z0-9]", "", logical_id.lower()) + "0000000000")[:10]
