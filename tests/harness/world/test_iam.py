"""IAM policy evaluation: allow, default deny, wildcards, NotAction/NotResource, resource ARNs, explicit deny, wording."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws

from drs_parity.world import iam
from drs_parity.world.iam import (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, NOT_EVALUATED, CallContext, IamGuard, evaluate,
                                  parse_document)

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/drs-orchestration-execution-history-test"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/finder-role"
WHERE = CallContext("eu-west-1", "111122223333")


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


def test_a_conditional_allow_is_not_evaluated_never_denied():
    statements = policy({"Effect": "Allow", "Action": "*", "Resource": "*",
                         "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}})
    verdict = iam.judge(statements, "dynamodb:Query", TABLE_ARN)
    assert verdict.decision == NOT_EVALUATED
    assert "Condition on aws:RequestedRegion is not evaluated" in verdict.reason


def test_a_conditional_deny_leaves_an_allowed_call_not_evaluated_and_a_denied_one_denied():
    conditional_deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    allowed = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE_ARN}, conditional_deny)
    assert evaluate(allowed, "dynamodb:Query", TABLE_ARN) == NOT_EVALUATED
    assert evaluate(policy(conditional_deny), "dynamodb:Query", TABLE_ARN) == IMPLICIT_DENY


def test_a_resource_not_derived_is_judged_by_wildcard_grants_only():
    everywhere = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    scoped = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/k"})
    assert evaluate(everywhere, "kms:Decrypt", iam.UNKNOWN) == ALLOW
    assert evaluate(scoped, "kms:Decrypt", iam.UNKNOWN) == NOT_EVALUATED
    assert evaluate(scoped, "kms:Encrypt", iam.UNKNOWN) == IMPLICIT_DENY
    excluded = policy({"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "*"})
    assert evaluate(excluded, "kms:Decrypt", iam.UNKNOWN) == IMPLICIT_DENY


def test_a_policy_variable_in_a_resource_is_not_evaluated():
    statements = policy({"Effect": "Allow", "Action": "s3:GetObject",
                         "Resource": "arn:aws:s3:::home/${aws:username}/*"})
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::home/alice/notes") == NOT_EVALUATED


def test_actions_without_resource_level_permissions_are_judged_against_star_as_aws_does():
    scoped = policy({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "arn:aws:ec2:*:*:instance/*"})
    assert iam.resource_arns("ec2", "DescribeInstances", {"InstanceIds": ["i-1"]}, WHERE) == ["*"]
    assert evaluate(scoped, "ec2:DescribeInstances", "*") == IMPLICIT_DENY


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
    assert iam.iam_action("s3", "ListObjectsV2") == "s3:ListBucket"
    assert iam.iam_action("sqs", "SendMessageBatch") == "sqs:SendMessage"


@pytest.mark.parametrize("service, operation, action", [
    ("sfn", "StartExecution", "states:StartExecution"),
    ("cloudwatch-logs", "PutLogEvents", "logs:PutLogEvents"),
    ("eventbridge", "PutEvents", "events:PutEvents"),
    ("cloudwatch", "PutMetricData", "cloudwatch:PutMetricData"),
    ("dynamodb-streams", "GetRecords", "dynamodb:GetRecords"),
    ("secrets-manager", "GetSecretValue", "secretsmanager:GetSecretValue"),
    ("scheduler", "CreateSchedule", "scheduler:CreateSchedule"),
])
def test_actions_carry_the_iam_prefix_of_botocores_service_model(service, operation, action):
    assert iam.iam_action(service, operation) == action


@pytest.mark.parametrize("service, operation, params, expected", [
    ("sfn", "StartExecution", {"stateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:recovery",
                               "input": "{}"},
     [("states:StartExecution", "arn:aws:states:eu-west-1:111122223333:stateMachine:recovery")]),
    ("sfn", "DescribeExecution", {"executionArn": "arn:aws:states:eu-west-1:111122223333:execution:recovery:e1"},
     [("states:DescribeExecution", "arn:aws:states:eu-west-1:111122223333:execution:recovery:e1")]),
    ("sfn", "CreateStateMachine", {"name": "sm", "roleArn": "arn:aws:iam::111122223333:role/r", "definition": "{}"},
     [("states:CreateStateMachine", "arn:aws:states:eu-west-1:111122223333:stateMachine:sm")]),
    ("eventbridge", "PutRule", {"Name": "tick", "EventBusName": "orders"},
     [("events:PutRule", "arn:aws:events:eu-west-1:111122223333:rule/orders/tick")]),
    ("eventbridge", "PutTargets", {"Rule": "tick", "Targets": []},
     [("events:PutTargets", "arn:aws:events:eu-west-1:111122223333:rule/tick")]),
    ("eventbridge", "PutEvents", {"Entries": [{"Detail": "{}"}, {"EventBusName": "orders"}]},
     [("events:PutEvents", "arn:aws:events:eu-west-1:111122223333:event-bus/default"),
      ("events:PutEvents", "arn:aws:events:eu-west-1:111122223333:event-bus/orders")]),
    ("cloudwatch-logs", "CreateLogStream", {"logGroupName": "/aws/lambda/f", "logStreamName": "s"},
     [("logs:CreateLogStream", "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f:*")]),
    ("cloudwatch-logs", "PutLogEvents", {"logGroupName": "/aws/lambda/f", "logStreamName": "s", "logEvents": []},
     [("logs:PutLogEvents", "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f:log-stream:s")]),
    ("sqs", "SendMessage", {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/444455556666/jobs", "MessageBody": "x"},
     [("sqs:SendMessage", "arn:aws:sqs:us-west-2:444455556666:jobs")]),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:111122223333:alerts", "Message": "m"},
     [("sns:Publish", "arn:aws:sns:eu-west-1:111122223333:alerts")]),
    ("s3", "PutObject", {"Bucket": "reports", "Key": "a/b.json"}, [("s3:PutObject", "arn:aws:s3:::reports/a/b.json")]),
    ("s3", "ListObjectsV2", {"Bucket": "reports"}, [("s3:ListBucket", "arn:aws:s3:::reports")]),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "k2", "CopySource": "a/k1"},
     [("s3:GetObject", "arn:aws:s3:::a/k1"), ("s3:PutObject", "arn:aws:s3:::b/k2")]),
    ("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "a"}},
                                                          {"ConditionCheck": {"TableName": "b"}}]},
     [("dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/a"),
      ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/b")]),
    ("drs", "StartRecovery", {"sourceServers": [{"sourceServerID": "s-1"}], "isDrill": True},
     [("drs:StartRecovery", "arn:aws:drs:eu-west-1:111122223333:source-server/s-1")]),
    ("ec2", "TerminateInstances", {"InstanceIds": ["i-1"]},
     [("ec2:TerminateInstances", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1")]),
    ("ssm", "GetParameter", {"Name": "/drs/config"},
     [("ssm:GetParameter", "arn:aws:ssm:eu-west-1:111122223333:parameter/drs/config")]),
    ("lambda", "Invoke", {"FunctionName": "poller", "Qualifier": "live"},
     [("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:poller:live")]),
    ("kms", "Decrypt", {"CiphertextBlob": b"x"}, [("kms:Decrypt", iam.UNKNOWN)]),
])
def test_each_service_names_its_resources_as_arns(service, operation, params, expected):
    assert iam.call_requests(service, operation, params, WHERE) == expected


def test_a_role_granting_states_start_execution_may_start_an_execution():
    guard = guard_with({"Effect": "Allow", "Action": "states:StartExecution",
                        "Resource": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:recovery"})
    params = {"stateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:recovery"}
    assert guard(Function(), "sfn", "StartExecution", params) is None
    code, message = guard(Function(), "sfn", "StopExecution", {"executionArn": f"arn:aws:states:us-east-1:{ACCOUNT}"
                                                                                ":execution:recovery:e1"})
    assert code == "AccessDeniedException" and "perform: states:StopExecution on resource" in message


@pytest.mark.parametrize("operation", ["GetCallerIdentity", "GetSessionToken", "AssumeRoleWithWebIdentity"])
def test_calls_no_identity_policy_can_deny_are_allowed(operation):
    assert guard_with()(Function(), "sts", operation, {}) is None
    denying = guard_with({"Effect": "Deny", "Action": "sts:*", "Resource": "*"})
    assert denying(Function(), "sts", operation, {}) is None
    assert denying.denials == [] and denying.not_evaluated == []


def test_the_guard_lets_what_it_cannot_judge_through_and_records_it_once_with_a_count():
    guard = guard_with({"Sid": "InRegion", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}})
    topic = {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"}
    assert guard(Function(), "sns", "Publish", topic) is None
    assert guard(Function(), "sns", "Publish", topic) is None
    assert guard.denials == []
    assert guard.not_evaluated == [{
        "function": Function().name, "action": "sns:Publish", "resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts",
        "decision": NOT_EVALUATED, "calls": 2,
        "reason": "only the Allow in (InRegion) might allow it: its Condition on aws:RequestedRegion is not evaluated"}]


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


def test_each_action_and_resource_of_a_role_is_judged_once_with_the_verdicts_judge_gives(monkeypatch):
    guard = guard_with({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*"},
                       {"Effect": "Deny", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:*:*:table/secret"})
    judged, judge = [], iam.judge

    def counting(statements, action, resource):
        judged.append((action, resource))
        return judge(statements, action, resource)

    monkeypatch.setattr("drs_parity.world.iam.judge", counting)
    answers = [guard(Function(), "dynamodb", "Query", {"TableName": table}) for table in ("t", "secret", "t", "secret")]
    assert answers[0] is None and answers[2] is None
    assert answers[1] == answers[3] and answers[1][0] == "AccessDeniedException"
    assert len(judged) == 2 and len(guard.denials) == 2
