"""IAM policy evaluation: allow, default deny, wildcards, NotAction/NotResource, resource ARNs, explicit deny, wording."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws

from drs_parity.world import iam
from drs_parity.world.iam import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, CallContext, IamGuard, evaluate, parse_document

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/drs-orchestration-execution-history-test"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/finder-role"


def policy(*statements: dict) -> list[iam.Statement]:
    return parse_document({"Version": "2012-10-17", "Statement": list(statements)})


def test_an_allow_statement_allows_its_action_on_its_resource():
    statements = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE_ARN})
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN) == ALLOW


def test_anything_not_allowed_is_denied_by_default():
    statements = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE_ARN})
    assert evaluate(statements, "dynamodb:UpdateItem", TABLE_ARN) == IMPLICIT_DENY
    assert evaluate([], "dynamodb:Query", TABLE_ARN) == IMPLICIT_DENY


def test_action_wildcards_match_and_ignore_case_but_resources_do_not():
    statements = policy({"Effect": "Allow", "Action": ["drs:Describe*", "ec2:describeinstance?"], "Resource": "*"})
    assert evaluate(statements, "drs:DescribeJobs", "*") == ALLOW
    assert evaluate(statements, "ec2:DescribeInstances", "*") == ALLOW
    assert evaluate(statements, "drs:StartRecovery", "*") == IMPLICIT_DENY
    cased = policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN.upper()})
    assert evaluate(cased, "dynamodb:Query", TABLE_ARN) == IMPLICIT_DENY


def test_not_action_allows_everything_but_the_named_actions():
    statements = policy({"Effect": "Allow", "NotAction": ["lambda:*"], "Resource": "*"})
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN) == ALLOW
    assert evaluate(statements, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:1:function:x") == IMPLICIT_DENY


def test_resource_patterns_cover_indexes_only_when_written_so():
    table_only = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE_ARN})
    with_indexes = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": [TABLE_ARN, TABLE_ARN + "/index/*"]})
    index_arn = TABLE_ARN + "/index/StatusIndex"
    assert evaluate(table_only, "dynamodb:Query", index_arn) == IMPLICIT_DENY
    assert evaluate(with_indexes, "dynamodb:Query", index_arn) == ALLOW


def test_not_resource_excludes_the_named_resources():
    statements = policy({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": TABLE_ARN})
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN) == IMPLICIT_DENY
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN + "-other") == ALLOW


def test_an_explicit_deny_wins_over_any_allow():
    statements = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "dynamodb:UpdateItem", "Resource": TABLE_ARN})
    assert evaluate(statements, "dynamodb:UpdateItem", TABLE_ARN) == EXPLICIT_DENY
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN) == ALLOW


def test_a_conditional_statement_is_never_taken_to_apply():
    statements = policy({"Effect": "Allow", "Action": "*", "Resource": "*",
                         "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}})
    assert evaluate(statements, "dynamodb:Query", TABLE_ARN) == IMPLICIT_DENY


def test_a_url_encoded_json_document_is_read():
    statements = parse_document("%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sts%3A*%22%2C"
                                "%22Resource%22%3A%22*%22%7D%7D")
    assert evaluate(statements, "sts:AssumeRole", "arn:aws:iam::1:role/x") == ALLOW


@pytest.mark.parametrize("service, operation, params, expected", [
    ("dynamodb", "Query", {"TableName": "t", "IndexName": "StatusIndex"},
     ["arn:aws:dynamodb:eu-west-1:111122223333:table/t/index/StatusIndex"]),
    ("dynamodb", "UpdateItem", {"TableName": "t"}, ["arn:aws:dynamodb:eu-west-1:111122223333:table/t"]),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"a": [], "b": []}},
     ["arn:aws:dynamodb:eu-west-1:111122223333:table/a", "arn:aws:dynamodb:eu-west-1:111122223333:table/b"]),
    ("lambda", "Invoke", {"FunctionName": "poller"}, ["arn:aws:lambda:eu-west-1:111122223333:function:poller"]),
    ("lambda", "Invoke", {"FunctionName": "arn:aws:lambda:us-east-1:1:function:p"}, ["arn:aws:lambda:us-east-1:1:function:p"]),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::999:role/drs"}, ["arn:aws:iam::999:role/drs"]),
    ("drs", "DescribeJobs", {}, ["*"]),
    ("ec2", "DescribeInstances", {"InstanceIds": ["i-1"]}, ["*"]),
])
def test_resource_arns_are_derived_from_parameters(service, operation, params, expected):
    assert iam.resource_arns(service, operation, params, CallContext("eu-west-1", "111122223333")) == expected


def test_action_names_follow_iam_not_botocore():
    assert iam.iam_action("lambda", "Invoke") == "lambda:InvokeFunction"
    assert iam.iam_action("drs", "DescribeJobs") == "drs:DescribeJobs"
    assert iam.iam_action("sts", "AssumeRole") == "sts:AssumeRole"


@dataclass
class Function:
    name: str = "drs-orchestration-execution-finder-test"
    role_arn: str = ROLE_ARN
    environment: dict = field(default_factory=lambda: {"AWS_REGION": "us-east-1"})


def guard_with(*statements: dict) -> IamGuard:
    return IamGuard(lambda role_arn: policy(*statements), "us-east-1")


def test_the_guard_answers_a_denied_call_in_aws_wording_with_the_service_error_code():
    guard = guard_with({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*"})
    code, message = guard(Function(), "lambda", "Invoke", {"FunctionName": "poller"})
    assert code == "AccessDeniedException"
    assert message == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/finder-role/drs-orchestration-execution-finder-test"
                       " is not authorized to perform: lambda:InvokeFunction on resource: "
                       f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:poller because no identity-based policy "
                       "allows the lambda:InvokeFunction action")
    assert guard(Function(), "dynamodb", "Query", {"TableName": "t"}) is None
    assert guard.denials == [{"function": Function().name, "action": "lambda:InvokeFunction",
                              "resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:poller",
                              "decision": IMPLICIT_DENY, "error": "AccessDeniedException"}]


def test_a_function_without_a_role_is_not_guarded():
    guard = guard_with()  # no statement would allow anything
    assert guard(Function(role_arn=""), "dynamodb", "Query", {"TableName": "t"}) is None
    assert guard(Function(), "dynamodb", "Query", {"TableName": "t"}) is not None


@pytest.mark.parametrize("service, operation, code", [
    ("ec2", "DescribeInstances", "UnauthorizedOperation"),
    ("sts", "AssumeRole", "AccessDenied"),
    ("drs", "DescribeJobs", "AccessDeniedException"),
    ("dynamodb", "UpdateItem", "AccessDeniedException"),
])
def test_each_service_answers_with_its_own_error_code(service, operation, code):
    answer = guard_with()(Function(), service, operation, {"TableName": "t", "RoleArn": "arn:aws:iam::1:role/r"})
    assert answer[0] == code
    assert f"perform: {service}:{operation}" in answer[1]


def test_explicit_deny_is_worded_as_such():
    guard = guard_with({"Effect": "Allow", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Action": "drs:*", "Resource": "*"})
    code, message = guard(Function(), "drs", "DescribeJobs", {})
    assert message.endswith("is not authorized to perform: drs:DescribeJobs with an explicit deny in an "
                            "identity-based policy")


TEMPLATE = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
      Policies:
        - PolicyName: table
          PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [dynamodb:Query], Resource: !GetAtt Table.Arn}]}
  Ec2Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]}
"""


def test_role_policies_are_read_from_the_backend_inline_and_managed():
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(StackName="roles", TemplateBody=TEMPLATE)
        client = boto3.client("iam", region_name="us-east-1")
        role_arn = client.list_roles()["Roles"][0]["Arn"]
        statements = iam.load_role_statements(client, role_arn)
    assert evaluate(statements, "dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items") == ALLOW
    assert evaluate(statements, "ec2:DescribeInstances", "*") == ALLOW
    assert evaluate(statements, "dynamodb:UpdateItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items") == IMPLICIT_DENY
