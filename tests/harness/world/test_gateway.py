"""API Gateway in front of a deployed stack: a team's handler behind a tree of resources, and the gateway's answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from drs_parity.fixtures.cloudformation import read_template
from drs_parity.fixtures.routes import RouteTable, route_key
from drs_parity.world.api_routes import ApiDeclarationError
from drs_parity.world.deploy import Stack
from drs_parity.world.gateway import ApiGateway, api_gateway, split_query
from drs_parity.world.world import World

PACKAGE = Path(__file__).resolve().parent / "packages" / "executions_api"
TEMPLATE = PACKAGE / "template.yaml"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[World, Stack, ApiGateway]]:
    with World("moto") as world:
        stack = world.deploy(TEMPLATE, "executions-api")
        world.host.load(stack)
        yield world, stack, api_gateway(world.host, stack)


@pytest.fixture
def gateway(deployed: tuple[World, Stack, ApiGateway]) -> ApiGateway:
    return deployed[2]


# -- what a team's handler reads ---------------------------------------------------------------------------------------
def test_the_handler_reads_the_resource_template_and_its_path_parameters(gateway: ApiGateway) -> None:
    response = gateway.request("GET", "/executions/ex-1")

    assert response.status == 200
    read = response.body
    assert read["executionId"] == "ex-1"  # no "Missing execution ID": the template and the parameter arrive
    assert (read["resource"], read["resourcePath"], read["path"]) == (
        "/executions/{executionId}", "/executions/{executionId}", "/executions/ex-1")
    assert read["pathParameters"] == {"executionId": "ex-1"}
    assert (read["query"], read["multiQuery"]) == (None, None)
    assert (read["requestedBy"], read["groups"]) == ("test.user@example.com", "DRSOrchestrationAdmin")


def test_query_strings_and_headers_arrive_in_both_forms(gateway: ApiGateway) -> None:
    response = gateway.request("GET", "/executions?status=RUNNING&status=PAUSED", query={"limit": 5},
                               headers={"X-Team": ["blue", "green"]})

    read = response.body
    assert response.status == 200 and (read["limit"], read["statuses"]) == (5, ["RUNNING", "PAUSED"])
    assert read["resource"] == "/executions" and read["pathParameters"] is None
    assert read["query"] == {"status": "PAUSED", "limit": "5"}  # the single-value form keeps the last
    assert read["multiQuery"] == {"status": ["RUNNING", "PAUSED"], "limit": ["5"]}
    assert (read["team"], read["teams"]) == ("green", ["blue", "green"])
    assert read["contentType"] == "application/json" and read["path"] == "/executions"


def test_the_method_picks_the_integration_and_claims_reach_the_handler(gateway: ApiGateway) -> None:
    claims = {"sub": "u-7", "email": "ops@example.com", "cognito:groups": "Operators"}

    response = gateway.request("POST", "/executions", body={"planId": "p-1"}, claims=claims)

    assert response.status == 202 and response.body["started"] == {"planId": "p-1"}
    assert (response.body["requestedBy"], response.body["groups"]) == ("ops@example.com", "Operators")


def test_a_greedy_proxy_under_a_parameter_carries_both(gateway: ApiGateway) -> None:
    response = gateway.request("POST", "/executions/ex-1/waves/2/cancel")

    assert response.status == 200 and response.body["action"] == "waves/2/cancel"
    assert response.body["resource"] == "/executions/{executionId}/{proxy+}"
    assert response.body["pathParameters"] == {"executionId": "ex-1", "proxy": "waves/2/cancel"}


# -- API Gateway's own answers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path", [("DELETE", "/executions"), ("POST", "/executions/ex-1"), ("GET", "/nope"),
                                          ("GET", "/"), ("GET", "/broken")])
def test_an_unrouted_path_or_method_is_missing_authentication_token_without_invoking(
        deployed: tuple[World, Stack, ApiGateway], method: str, path: str) -> None:
    world, _, gateway = deployed
    before = len(world.host.invocations)

    response = gateway.request(method, path)

    assert (response.status, response.body) == (403, {"message": "Missing Authentication Token"})
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert len(world.host.invocations) == before


@pytest.mark.parametrize("answer", ["not-a-dict", "no-status", "status-as-text", "body-object", "extra-key",
                                    "headers-list", "raise"])
def test_a_malformed_proxy_result_or_a_function_error_is_502(gateway: ApiGateway, answer: str) -> None:
    response = gateway.request("GET", f"/broken/{answer}")

    assert (response.status, response.body) == (502, {"message": "Internal server error"})


def test_a_well_formed_result_passes_status_headers_and_body(gateway: ApiGateway) -> None:
    response = gateway.request("GET", "/broken/fine")

    assert (response.status, response.body) == (201, {"ok": True})
    assert response.headers["X-Answer"] == "fine" and response.headers["Set-Cookie"] == "a=1,b=2"


@pytest.mark.parametrize("path, status", [
    ("/broken/sleep/20", 200),    # within API Gateway's 29 s
    ("/broken/sleep/30", 504),    # past them: the gateway stops waiting (the function runs on)
    ("/hurried/sleep/6", 504),    # past the method's own TimeoutInMillis (5 s)
    ("/short/sleep/4", 502),      # past the function's Timeout (3 s): Lambda fails it first
])
def test_integration_timeouts_are_judged_on_the_functions_virtual_run_time(
        deployed: tuple[World, Stack, ApiGateway], path: str, status: int) -> None:
    world, _, gateway = deployed

    response = gateway.request("GET", path)

    assert response.status == status
    if status == 504:
        assert response.body == {"message": "Endpoint request timed out"}
    assert world.host.invocations[-1].error is None  # the handler itself finished


# -- what is deployed and where routes come from -----------------------------------------------------------------------
def test_moto_creates_the_api_resources_it_can_and_the_routes_still_come_from_all(
        deployed: tuple[World, Stack, ApiGateway]) -> None:
    _, stack, gateway = deployed

    assert {"Api", "ExecutionsResource", "ListExecutionsMethod", "Deployment"} <= set(stack.resources)
    assert not {"Authorizer", "ProdStage"} & set(stack.resources)  # moto has no model for them
    assert stack.outputs["Url"].endswith(".amazonaws.com/prod")  # a Ref of the stage is its name
    assert gateway.unsupported == ("ExecutionOptionsMethod (OPTIONS /executions/{executionId}): MOCK integration",)


def test_without_an_api_in_the_template_the_system_descriptions_routes_serve(
        deployed: tuple[World, Stack, ApiGateway]) -> None:
    world, stack, _ = deployed
    fallback: RouteTable[str] = RouteTable()
    for key, logical_id in {"GET /executions/{executionId}": "ExecutionsFunction",
                            "/broken": "MisbehavingFunction"}.items():
        for method, resource in route_key(key):
            fallback.add(method, resource, logical_id)

    gateway = api_gateway(world.host, stack, fallback, template={"Resources": {}})

    read = gateway.request("GET", "/executions/ex-9?verbose=yes").body
    assert (read["resource"], read["pathParameters"], read["query"]) == (
        "/executions/{executionId}", {"executionId": "ex-9"}, {"verbose": "yes"})
    assert gateway.request("GET", "/broken/fine").status == 201
    assert gateway.request("GET", "/executions").status == 403


def test_a_route_to_a_function_that_is_not_deployed_names_the_method(
        deployed: tuple[World, Stack, ApiGateway]) -> None:
    world, stack, _ = deployed
    template: dict[str, Any] = read_template(TEMPLATE)
    template["Resources"]["GhostFunction"] = {"Type": "AWS::Lambda::Function", "Properties": {}}
    uri = template["Resources"]["BrokenMethod"]["Properties"]["Integration"]["Uri"]
    uri["Fn::Sub"] = uri["Fn::Sub"].replace("MisbehavingFunction", "GhostFunction")

    with pytest.raises(ApiDeclarationError, match=r"resource BrokenMethod \(ANY /broken/\{proxy\+\}\): .*"
                                                  r"GhostFunction is not a deployed Lambda function"):
        api_gateway(world.host, stack, template=template)


def test_split_query_merges_the_paths_query_string_with_the_query() -> None:
    assert split_query("/x?a=1&a=2&b=&c=%2F", {"d": "4", "a": "3"}) == (
        "/x", {"a": ["1", "2", "3"], "b": "", "c": "/", "d": "4"})
    assert split_query("/x", None) == ("/x", None)


CONDITIONAL_API = """
Parameters:
  Stage: {Type: String, Default: prod}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: conditional-api, Runtime: python3.11, Handler: index.lambda_handler, Role: !GetAtt Role.Arn, Code: CODE}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: conditional}
  Executions:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: executions}
  Debug:
    Type: AWS::ApiGateway::Resource
    Condition: IsDev
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: debug}
  ExecutionsGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Executions
      HttpMethod: GET
      AuthorizationType: NONE
      Integration: {Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  DebugGet:
    Type: AWS::ApiGateway::Method
    Condition: IsDev
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Debug
      HttpMethod: GET
      AuthorizationType: NONE
      Integration: {Type: AWS_PROXY, IntegrationHttpMethod: POST, Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
"""


def test_a_route_whose_condition_is_false_is_not_served(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(CONDITIONAL_API.replace("CODE", str(PACKAGE / "executions")))
    with World("moto") as world:
        stack = world.deploy(template, "conditional-api")
        world.host.load(stack)
        gateway = api_gateway(world.host, stack)
        assert gateway.request("GET", "/executions").status == 200
        missing = gateway.request("GET", "/debug")
    assert (missing.status, missing.body) == (403, {"message": "Missing Authentication Token"})
