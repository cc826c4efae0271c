"""The IAM action a botocore call needs: the service's IAM prefix from botocore's model, the action's IAM name."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.exceptions import UnknownServiceError

from drs_parity.world.backends import boto_session

# botocore service id (hyphenized, as the host names a call's service) -> botocore's name for its model, where the
# two differ beyond hyphens (botocore 1.44; any other id is looked up as it is and without its hyphens).
SERVICE_NAMES = {
    "application-auto-scaling": "application-autoscaling", "auto-scaling-plans": "autoscaling-plans",
    "cost-explorer": "ce", "cognito-identity-provider": "cognito-idp", "config-service": "config",
    "cost-and-usage-report-service": "cur", "application-discovery-service": "discovery",
    "database-migration-service": "dms", "directory-service": "ds", "directory-service-data": "ds-data",
    "elastic-load-balancing": "elb", "elastic-load-balancing-v2": "elbv2", "elasticsearch-service": "es",
    "eventbridge": "events", "iot-data-plane": "iot-data", "iot-jobs-data-plane": "iot-jobs-data",
    "lex-model-building-service": "lex-models", "lex-runtime-service": "lex-runtime",
    "lex-models-v2": "lexv2-models", "lex-runtime-v2": "lexv2-runtime", "cloudwatch-logs": "logs",
    "marketplace-entitlement-service": "marketplace-entitlement", "marketplace-metering": "meteringmarketplace",
    "migration-hub": "mgh", "simpledb": "sdb", "serverlessapplicationrepository": "serverlessrepo",
    "service-catalog-appregistry": "servicecatalog-appregistry", "pinpoint-sms-voice": "sms-voice",
    "sfn": "stepfunctions",
}
# Signing names that are not the service's IAM prefix (all others are: states, logs, events, dynamodb, ...).
SIGNING_NAME_PREFIXES = {"monitoring": "cloudwatch", "tagging": "tag", "iotdata": "iot",
                         "IoTSecuredTunneling": "iot", "mturk-requester": "mturk"}
# (IAM prefix, botocore operation) -> IAM action name, where they differ.
ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("s3", "HeadObject"): "GetObject", ("s3", "HeadBucket"): "ListBucket", ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket", ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "ListBuckets"): "ListAllMyBuckets", ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "CreateMultipartUpload"): "PutObject", ("s3", "UploadPart"): "PutObject",
    ("s3", "UploadPartCopy"): "PutObject", ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads", ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "GetBucketNotificationConfiguration"): "GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "PutBucketNotification",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
    ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility", ("sns", "PublishBatch"): "Publish",
}
# Calls no identity policy can deny on AWS (besides unsigned operations, which botocore marks): "No permissions are
# required to perform this operation" in their API reference.
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken"})
# Actions without resource-level permissions (the Service Authorization Reference lists no resource type): AWS judges
# them against "*", so only a statement whose Resource matches "*" applies. Patterns, matched case-insensitively.
NO_RESOURCE_ACTIONS = (
    "ec2:Describe*",
    "drs:DescribeJobs", "drs:DescribeSourceServers", "drs:DescribeRecoveryInstances",
    "drs:DescribeLaunchConfigurationTemplates", "drs:DescribeReplicationConfigurationTemplates",
    "drs:DescribeSourceNetworks", "drs:InitializeService", "drs:ListExtensibleSourceServers",
    "drs:ListStagingAccounts",
    "sts:GetAccessKeyInfo", "sts:DecodeAuthorizationMessage",
    "dynamodb:ListTables", "dynamodb:DescribeLimits", "dynamodb:DescribeEndpoints", "dynamodb:ListBackups",
    "dynamodb:ListGlobalTables", "dynamodb:ListStreams",
    "lambda:ListFunctions", "lambda:GetAccountSettings", "lambda:ListLayers", "lambda:ListLayerVersions",
    "lambda:ListEventSourceMappings",
    "states:ListStateMachines", "states:ListActivities", "states:SendTaskSuccess", "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "events:ListEventBuses", "events:TestEventPattern",
    "sqs:ListQueues",
    "sns:ListTopics", "sns:ListSubscriptions", "sns:ListPlatformApplications", "sns:CheckIfPhoneNumberIsOptedOut",
    "sns:GetSMSAttributes", "sns:SetSMSAttributes", "sns:ListPhoneNumbersOptedOut", "sns:OptInPhoneNumber",
    "s3:ListAllMyBuckets",
    "iam:ListRoles", "iam:ListPolicies", "iam:ListUsers", "iam:ListGroups", "iam:GetAccountSummary",
    "iam:ListAccountAliases",
    "cloudwatch:PutMetricData", "cloudwatch:ListMetrics", "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics", "cloudwatch:DescribeAlarmsForMetric",
    "ssm:DescribeParameters", "kms:ListKeys", "kms:ListAliases", "kms:CreateKey", "kms:GenerateRandom",
    "secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword",
    "scheduler:ListSchedules", "scheduler:ListScheduleGroups", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
)


@lru_cache(maxsize=None)
def service_model(service: str) -> Any | None:
    """botocore's model of a service named by its hyphenized service id ("sfn", "cloudwatch-logs"), None if unknown."""
    session = boto_session()._session  # shares the service models the world's clients already loaded
    for name in dict.fromkeys((SERVICE_NAMES.get(service, service), service.replace("-", ""))):
        try:
            model = session.get_service_model(name)
        except UnknownServiceError:
            continue
        if model.service_id.hyphenize() == service:
            return model
    return None


@lru_cache(maxsize=None)
def iam_prefix(service: str) -> str:
    """The IAM prefix of a service: its signing name (else endpoint prefix) in botocore's model, e.g. sfn -> states."""
    model = service_model(service)
    if model is None:
        return service
    signing_name = model.signing_name or model.endpoint_prefix
    return SIGNING_NAME_PREFIXES.get(signing_name, signing_name)


def iam_action(service: str, operation: str) -> str:
    """The IAM action a botocore operation needs, e.g. ("lambda", "Invoke") -> "lambda:InvokeFunction"."""
    prefix = iam_prefix(service)
    return f"{prefix}:{ACTION_NAMES.get((prefix, operation), operation)}"


@lru_cache(maxsize=4096)
def always_allowed(service: str, operation: str) -> bool:
    """Whether AWS lets any caller make this call whatever its identity policies say.

    True for sts:GetCallerIdentity and sts:GetSessionToken, and for operations botocore sends unsigned
    (sts:AssumeRoleWithWebIdentity, sts:AssumeRoleWithSAML, Cognito's identity calls): no identity is judged.
    """
    if iam_action(service, operation) in ALWAYS_ALLOWED:
        return True
    model = service_model(service)
    if model is None or operation not in model.operation_names:
        return False
    return model.operation_model(operation).auth_type == "none"


_NO_RESOURCE = tuple(pattern.lower() for pattern in NO_RESOURCE_ACTIONS)


@lru_cache(maxsize=4096)
def has_no_resource(action: str) -> bool:
    """Whether AWS judges the action against "*" only (it has no resource-level permissions)."""
    action = action.lower()
    return any(action.startswith(pattern[:-1]) if pattern.endswith("*") else action == pattern
               for pattern in _NO_RESOURCE)
