"""Routes a template declares (ApiGateway tree, OpenAPI body, SAM) and the template moto is given of them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.world.api_routes import ApiDeclarationError, declared_api, for_moto

SUPPORTED = {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method",
             "AWS::ApiGateway::Deployment", "AWS::Lambda::Function", "AWS::Lambda::Permission"}

OPENAPI_AND_SAM = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersFunction: {Type: "AWS::Lambda::Function"}
  OrdersLive:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref OrdersFunction, FunctionVersion: "1", Name: live}
  ReportsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Read: {Type: Api, Properties: {Path: "/reports/{reportId}", Method: get, RestApiId: !Ref SamApi}}
        Anything: {Type: Api, Properties: {Path: "/reports/{reportId}/{proxy+}", Method: any}}
        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  OpenApi:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        openapi: "3.0.1"
        info: {title: orders-api}
        paths:
          /orders/{orderId}:
            parameters: [{name: orderId, in: path}]
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                timeoutInMillis: 10000
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/\\
                  ${OrdersFunction.Arn}/invocations"
            options:
              x-amazon-apigateway-integration: {type: mock}
          /orders/{proxy+}:
            x-amazon-apigateway-any-method:
              x-amazon-apigateway-integration:
                type: aws_proxy
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${OrdersLive}/invocations"
  SamApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionBody:
        swagger: "2.0"
        paths:
          /legacy:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\\
                  arn:aws:lambda:us-east-1:123456789012:function:legacy-fn:live/invocations"
"""


def test_openapi_bodies_sam_apis_and_sam_events_declare_routes() -> None:
    api = declared_api(parse_template(OPENAPI_AND_SAM))

    routes = {(route.method, route.resource.path): (route.target.function, route.target.logical, route.target.timeout)
              for route in api.routes.routes}
    assert routes == {
        ("GET", "/orders/{orderId}"): ("OrdersFunction", True, 10.0),
        ("ANY", "/orders/{proxy+}"): ("OrdersFunction", True, 29.0),  # through the alias
        ("POST", "/legacy"): ("legacy-fn", False, 29.0),  # a literal ARN: the function by name
        ("GET", "/reports/{reportId}"): ("ReportsFunction", True, 29.0),
        ("ANY", "/reports/{reportId}/{proxy+}"): ("ReportsFunction", True, 29.0),
    }
    assert api.unsupported == ["OpenApi.Body paths./orders/{orderId}.options: mock integration"]
    found = api.routes.match("GET", "/orders/o-1")
    assert found is not None and found.path_parameters == {"orderId": "o-1"}


def tree(**changes: Any) -> dict[str, Any]:
    """A RestApi with /items/{itemId} GET; `changes` replace resources (None removes one)."""
    resources: dict[str, Any] = {
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
        "Items": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "items"}},
        "Item": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ParentId": {"Ref": "Items"}, "PathPart": "{itemId}"}},
        "GetItem": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Item"}, "HttpMethod": "GET",
            "Integration": {"Type": "AWS_PROXY", "Uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/"
                                                                    "2015-03-31/functions/${Fn.Arn}/invocations"}}}},
    }
    for name, value in changes.items():
        if value is None:
            resources.pop(name)
        else:
            resources[name] = value
    return {"Resources": resources}


def test_a_tree_of_resources_declares_its_paths() -> None:
    api = declared_api(tree())

    assert [(r.method, r.resource.path, r.target.function) for r in api.routes.routes] == [
        ("GET", "/items/{itemId}", "Fn")]


def _method(**properties: Any) -> dict[str, Any]:
    base = tree()["Resources"]["GetItem"]
    return {"Type": base["Type"], "Properties": {**base["Properties"], **properties}}


@pytest.mark.parametrize("changes, problem", [
    ({"GetItem": _method(ResourceId="abc123")},
     "resource GetItem property ResourceId: must be !GetAtt <RestApi>.RootResourceId or !Ref"),
    ({"Item": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "Items"}}}},
     "resource Item: property PathPart: must be a path segment"),
    ({"Items": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "Item"}, "PathPart": "x"}}},
     "the Resources' ParentIds form a cycle"),
    ({"GetItem": _method(HttpMethod=None)}, "resource GetItem: property HttpMethod"),
    ({"GetItem": _method(Integration={"Type": "AWS_PROXY", "Uri": {"Fn::Sub": "arn:${Table.Arn}"}})},
     "resource GetItem property Integration.Uri: names no Lambda function"),
    ({"Item": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "Items"}, "PathPart": "a{b}"}}},
     r"resource GetItem: resource path '/items/a\{b\}'"),
])
def test_an_api_that_cannot_be_routed_names_resource_and_property(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ApiDeclarationError, match=problem):
        declared_api(tree(**changes))


# -- what moto is given ------------------------------------------------------------------------------------------------
def test_other_backends_and_templates_without_an_api_get_the_text_as_it_is() -> None:
    text = "Resources:\n  Fn: {Type: AWS::Lambda::Function}\n"

    assert for_moto(text, SUPPORTED) is text and for_moto(OPENAPI_AND_SAM, None) is OPENAPI_AND_SAM
    assert for_moto("Resources: [", SUPPORTED) == "Resources: ["  # the deploy's own reading reports it


def test_moto_gets_what_it_can_create_with_references_to_the_rest_standing_in() -> None:
    template = tree()
    resources = template["Resources"]
    resources["Authorizer"] = {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"RestApiId": {"Ref": "Api"}}}
    resources["GetItem"]["Properties"]["AuthorizerId"] = {"Ref": "Authorizer"}
    resources["Deployment"] = {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "GetItem",
                               "Properties": {"RestApiId": {"Ref": "Api"}}}
    resources["Stage"] = {"Type": "AWS::ApiGateway::Stage", "Properties": {
        "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "prod"}}
    resources["Mapping"] = {"Type": "AWS::ApiGateway::BasePathMapping", "DependsOn": ["Stage", "Deployment"],
                            "Properties": {"Stage": {"Ref": "Stage"}}}
    resources["Options"] = {"Type": "AWS::ApiGateway::Method", "Properties": {
        "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Item"}, "HttpMethod": "OPTIONS",
        "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}}}
    resources["Permission"] = {"Type": "AWS::Lambda::Permission", "DependsOn": ["Stage", "GetItem"], "Properties": {
        "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/${Stage}/GET/*"}}}
    template["Outputs"] = {"Url": {"Value": {"Fn::Sub": ["https://${Api}/${S}", {"S": {"Ref": "Stage"}}]}},
                           "Authorizer": {"Value": {"Fn::GetAtt": ["Authorizer", "AuthorizerId"]}}}

    given = json.loads(for_moto(json.dumps(template), SUPPORTED))

    assert set(given["Resources"]) == {"Fn", "Api", "Items", "Item", "GetItem", "Options", "Deployment", "Permission"}
    assert given["Resources"]["Options"]["Properties"]["Integration"] == {
        "Type": "MOCK", "IntegrationHttpMethod": "POST", "Uri": ""}  # what moto reads of any integration
    method = given["Resources"]["GetItem"]["Properties"]
    assert method["AuthorizerId"] == "authorizer" and method["AuthorizationType"] == "NONE"
    assert "IntegrationHttpMethod" not in method["Integration"]  # a Lambda proxy needs it: moto refuses, as AWS
    permission = given["Resources"]["Permission"]
    assert permission["DependsOn"] == ["GetItem"]
    assert permission["Properties"]["SourceArn"]["Fn::Sub"].endswith(":${Api}/prod/GET/*")
    assert given["Outputs"]["Url"]["Value"]["Fn::Sub"][1] == {"S": "prod"}
    assert given["Outputs"]["Authorizer"]["Value"] == "authorizer"


def test_an_api_declared_by_its_body_alone_gets_a_name_and_no_deployment_moto_would_refuse() -> None:
    given = json.loads(for_moto(OPENAPI_AND_SAM + """\
  OpenApiDeployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: !Ref OpenApi, StageName: live}
""", SUPPORTED))

    assert given["Resources"]["OpenApi"]["Properties"]["Name"] == "orders-api"
    assert not {"OpenApiDeployment", "SamApi"} & set(given["Resources"])
    events = given["Resources"]["ReportsFunction"]["Properties"]["Events"]
    assert events["Read"]["Properties"]["RestApiId"] == "samapi0000"
