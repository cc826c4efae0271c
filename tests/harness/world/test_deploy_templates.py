"""Deploys as CloudFormation evaluates templates: Conditions, Fn::If, AWS::NoValue, parameters, the faulty property."""

from pathlib import Path
from typing import Any

import pytest

from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.world.deploy import DeployError
from drs_parity.world.template_eval import StackContext, TemplateProblem, resolve
from drs_parity.world.world import World

from tests.harness.world.test_world import make_world, world  # noqa: F401  (fixtures: a world per backend)

# A team's template: production adds a topic and a second inline policy (an !If with AWS::NoValue inside the role's
# list of policies, which moto alone answers with `'NoneType' object is not subscriptable`).
CONDITIONAL = """
Parameters:
  Environment: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  AlarmEmail: {Type: String, Default: ""}
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
  HasAlarmEmail: !Not [!Equals [!Ref AlarmEmail, ""]]
  ProdWithAlarms: !And [!Condition IsProd, !Condition HasAlarmEmail]
  InHomeRegion: !Equals [!Ref "AWS::Region", us-east-1]
  ProdOrHome: !Or [!Condition IsProd, !Condition InHomeRegion]
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "orders-${Environment}-${AWS::StackName}"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      Tags:
        - {Key: team, Value: recovery}
        - !If [IsProd, {Key: tier, Value: critical}, !Ref "AWS::NoValue"]
  AlertsTopic:
    Type: AWS::SNS::Topic
    Condition: IsProd
    Properties:
      TopicName: !Sub "alerts-${AWS::StackName}"
  AlarmSubscription:
    Type: AWS::SNS::Subscription
    Condition: ProdWithAlarms
    Properties: {TopicArn: !Ref AlertsTopic, Protocol: email, Endpoint: !Ref AlarmEmail}
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !If [IsProd, !Sub "worker-prod-${AWS::StackName}", !Ref "AWS::NoValue"]
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: orders
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt OrdersTable.Arn}]
        - !If
          - IsProd
          - PolicyName: alerts
            PolicyDocument:
              Version: "2012-10-17"
              Statement: [{Effect: Allow, Action: sns:Publish, Resource: !Ref AlertsTopic}]
          - !Ref "AWS::NoValue"
Outputs:
  TableName: {Value: !Ref OrdersTable}
  AlertsTopicArn:
    Condition: IsProd
    Value: !Ref AlertsTopic
  Reach: {Value: !If [ProdOrHome, wide, narrow]}
"""


def deploy(world: World, tmp_path: Path, body: str, **parameters: str) -> Any:
    template = tmp_path / "template.yaml"
    template.write_text(body)
    return world.deploy(template, "team", parameters=parameters)


def role_policies(world: World, role_name: str) -> list[str]:
    return world.client("iam").list_role_policies(RoleName=role_name)["PolicyNames"]


def test_a_false_condition_leaves_out_its_resources_outputs_and_no_value_members(world: World, tmp_path: Path) -> None:
    stack = deploy(world, tmp_path, CONDITIONAL)

    assert sorted(stack.resources) == ["OrdersTable", "WorkerRole"]
    assert stack.outputs == {"TableName": "orders-dev-team", "Reach": "wide"}
    assert stack.resources["WorkerRole"].startswith("team-WorkerRole-")  # RoleName: AWS::NoValue, a generated name
    assert role_policies(world, stack.resources["WorkerRole"]) == ["orders"]
    table_arn = world.client("dynamodb").describe_table(TableName="orders-dev-team")["Table"]["TableArn"]
    tags = world.client("dynamodb").list_tags_of_resource(ResourceArn=table_arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "recovery"}]


def test_a_true_condition_creates_them_and_takes_the_if_branch(world: World, tmp_path: Path) -> None:
    stack = deploy(world, tmp_path, CONDITIONAL, Environment="prod")

    assert sorted(stack.resources) == ["AlertsTopic", "OrdersTable", "WorkerRole"]  # no e-mail: no subscription
    assert stack.outputs["AlertsTopicArn"] == f"arn:aws:sns:us-east-1:{world.account_id}:alerts-team"
    assert stack.resources["WorkerRole"] == "worker-prod-team"
    assert role_policies(world, "worker-prod-team") == ["orders", "alerts"]
    assert "Conditions" not in stack.template and "Condition" not in stack.template["Resources"]["AlertsTopic"]


def test_parameters_without_a_value_are_all_listed_before_anything_is_deployed(world: World, tmp_path: Path) -> None:
    body = """
Parameters:
  Environment: {Type: String}
  ArtifactBucket: {Type: String}
  Owner: {Type: String}
  Stage: {Type: String, Default: dev}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Sub "topic-${Environment}-${Stage}"}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Ref ArtifactBucket}
"""
    with pytest.raises(DeployError) as raised:
        deploy(world, tmp_path, body, Owner="me")

    assert raised.value.resource == "Parameters"
    assert str(raised.value) == ("stack team: Parameters: 2 parameters have no value (no Default, not given): "
                                 "Environment (used by Topic), ArtifactBucket (used by Queue)")
    assert world.client("cloudformation").list_stacks()["StackSummaries"] == []


ROLE = """
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      Description: the worker's role
{properties}
"""
TRUST = ("      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, "
         "Principal: {Service: lambda.amazonaws.com}, Action: 'sts:AssumeRole'}]}\n")


@pytest.mark.parametrize("properties, reason", [
    (TRUST + "      Policies: [not-a-policy]",
     "property Policies: moto cannot read it: TypeError: "),
    ("      Path: /",
     "property AssumeRolePolicyDocument is missing, and moto needs it: KeyError: 'AssumeRolePolicyDocument'"),
    (TRUST + "      Policies:\n        -",
     "property Policies[0] is null: 'null' values are not allowed in templates"),
])
def test_a_property_moto_cannot_digest_is_named_with_its_resource(world: World, tmp_path: Path, properties: str,
                                                                  reason: str) -> None:
    with pytest.raises(DeployError) as raised:
        deploy(world, tmp_path, ROLE.format(properties=properties))

    assert raised.value.resource == "WorkerRole" and raised.value.reason.startswith(reason)
    assert str(raised.value).startswith(f"stack team: resource WorkerRole failed: {reason}")


@pytest.mark.parametrize("body, resource, reason", [
    ("""
Conditions: {IsProd: !Equals [dev, prod]}
Resources:
  Topic: {Type: AWS::SNS::Topic, Condition: IsProd}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {Tags: [{Key: topic, Value: !Ref Topic}]}
""", "Queue", "property Tags[0].Value refers to Topic, which is not created: its Condition IsProd is false"),
    ("""
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {DelaySeconds: !If [IsProd, 1, 2]}
""", "Queue", "property DelaySeconds: Fn::If names condition 'IsProd', which is not declared in Conditions"),
    ("""
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Ref QueueName}
""", "Queue", "property QueueName refers to QueueName, which is no parameter, resource or pseudo parameter"),
    ("""
Conditions: {Loop: !Not [!Condition Loop]}
Resources:
  Queue: {Type: AWS::SQS::Queue}
""", "Conditions.Loop", "conditions refer to each other in a loop: Loop -> Loop"),
])
def test_what_cloudformation_refuses_before_creating_is_named(world: World, tmp_path: Path, body: str, resource: str,
                                                              reason: str) -> None:
    with pytest.raises(DeployError) as raised:
        deploy(world, tmp_path, body)

    assert raised.value.resource == resource and raised.value.reason.startswith(reason)


def evaluated(body: str, **parameters: str) -> dict[str, Any]:
    context = StackContext("team", "eu-west-1", lambda: "444455556666")
    return resolve(parse_template(body), parameters, context)


def test_conditions_compare_mappings_pseudo_parameters_and_literals_as_cloudformation_strings() -> None:
    template = evaluated("""
Parameters:
  Replicas: {Type: Number, Default: 2}
  Zones: {Type: CommaDelimitedList, Default: "eu-west-1a, eu-west-1b"}
Mappings:
  Regions: {eu-west-1: {Tier: gold}}
Conditions:
  Gold: !Equals [!FindInMap [Regions, !Ref "AWS::Region", Tier], gold]
  TwoReplicas: !Equals [!Ref Replicas, "2"]
  HomeAccount: !Equals [!Ref "AWS::AccountId", "444455556666"]
  Enabled: !Equals [true, "true"]
  FirstZone: !Equals [!Select [0, !Ref Zones], eu-west-1a]
  Named: !Equals [!Join ["-", [queue, !Ref "AWS::StackName"]], queue-team]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - !If [Gold, {Key: tier, Value: gold}, !Ref "AWS::NoValue"]
        - !If [TwoReplicas, {Key: replicas, Value: two}, !Ref "AWS::NoValue"]
        - !If [HomeAccount, {Key: account, Value: home}, !Ref "AWS::NoValue"]
        - !If [Enabled, {Key: enabled, Value: "yes"}, !Ref "AWS::NoValue"]
        - !If [FirstZone, {Key: zone, Value: a}, !Ref "AWS::NoValue"]
        - !If [Named, {Key: named, Value: "yes"}, !Ref "AWS::NoValue"]
""")
    assert [tag["Key"] for tag in template["Resources"]["Queue"]["Properties"]["Tags"]] == [
        "tier", "replicas", "account", "enabled", "zone", "named"]


def test_a_property_whose_if_gives_no_value_is_removed_and_nested_ifs_are_decided() -> None:
    template = evaluated("""
Parameters:
  Size: {Type: String, Default: small}
Conditions:
  Big: !Equals [!Ref Size, big]
  Small: !Equals [!Ref Size, small]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: !If [Big, 5, !Ref "AWS::NoValue"]
      VisibilityTimeout: !If [Big, 60, !If [Small, 10, 30]]
""")
    assert template["Resources"]["Queue"]["Properties"] == {"VisibilityTimeout": 10}


def test_a_condition_that_is_no_condition_function_is_named() -> None:
    with pytest.raises(TemplateProblem) as raised:
        evaluated("Conditions: {Odd: !Ref Size}\nResources: {Queue: {Type: AWS::SQS::Queue}}")

    assert raised.value.where == "Conditions.Odd" and "is no condition function" in raised.value.reason


def test_a_transformed_template_may_refer_to_what_its_transform_adds() -> None:
    template = evaluated("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {Tags: [{Key: api, Value: !Ref ServerlessRestApi}]}
""")
    tags = template["Resources"]["Queue"]["Properties"]["Tags"]
    assert tags == [{"Key": "api", "Value": {"Ref": "ServerlessRestApi"}}]
