"""What a call asks IAM for: (action, resource ARN) pairs for every service the world serves, as AWS judges them."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from drs_parity.world.iam_actions import has_no_resource, iam_action, iam_prefix

UNKNOWN = None  # a resource the call's parameters do not tell (or a policy variable the evaluator cannot fill)
Request = tuple[str, "str | None"]  # (IAM action, resource ARN, "*" or UNKNOWN)
Params = dict[str, Any]


@dataclass(frozen=True)
class CallContext:
    """Who calls, from where: enough to build the ARNs of the resources a call names."""

    region: str
    account_id: str

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:aws:{service}:{region}:{self.account_id if account is None else account}:{resource}"


Deriver = Callable[[str, Params, CallContext], list[str]]


def call_requests(service: str, operation: str, params: Params, where: CallContext) -> list[Request]:
    """Each (action, resource) the call needs allowed; the resource is "*" for actions AWS judges against "*" only,
    UNKNOWN where it cannot be derived from the parameters."""
    prefix = iam_prefix(service)
    several = _SEVERAL_ACTIONS.get(f"{prefix}:{operation}")
    requests = several(params, where) if several is not None else []
    if requests:
        return requests
    action = iam_action(service, operation)
    if has_no_resource(action):
        return [(action, "*")]
    derive = _DERIVERS.get(prefix)
    arns = (derive(operation, params, where) if derive else []) or _arn_parameters(prefix, params)
    return [(action, arn) for arn in dict.fromkeys(arns)] or [(action, UNKNOWN)]


def resource_arns(service: str, operation: str, params: Params, where: CallContext) -> list[str | None]:
    """The resources of a call, in order: ARNs, "*" or UNKNOWN."""
    return [resource for _, resource in call_requests(service, operation, params, where)]


def _arn_parameters(prefix: str, params: Params) -> list[str]:
    """Top-level `...Arn` parameters that are ARNs of the service itself (stateMachineArn, TopicArn, resourceArn)."""
    return [value for key, value in params.items() if key.lower().endswith("arn") and isinstance(value, str)
            and value.startswith("arn:") and value.split(":")[2:3] == [prefix]]


# -- DynamoDB ---------------------------------------------------------------------------------------------------------
def _table_arn(table: Any, where: CallContext) -> str:
    return str(table) if str(table).startswith("arn:") else where.arn("dynamodb", f"table/{table}")


def _dynamodb(operation: str, params: Params, where: CallContext) -> list[str]:
    if params.get("TableName"):
        arn = _table_arn(params["TableName"], where)
        return [f"{arn}/index/{params['IndexName']}" if params.get("IndexName") else arn]
    return [_table_arn(table, where) for table in params.get("RequestItems") or {}]  # BatchGetItem, BatchWriteItem


_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _transaction(params: Params, where: CallContext) -> list[Request]:
    """TransactWriteItems / TransactGetItems: AWS judges each item's own action on its table."""
    requests = [(f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}", _table_arn(body.get("TableName"), where))
                for item in params.get("TransactItems") or [] for kind, body in item.items() if isinstance(body, dict)]
    return list(dict.fromkeys(requests))


# -- Lambda, STS, Step Functions, EventBridge, Scheduler, CloudWatch Logs ---------------------------------------------
def _function_arn(name: str, qualifier: Any, where: CallContext) -> str:
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:  # a partial ARN: account:function:name
        arn = f"arn:aws:lambda:{where.region}:{name}"
    else:
        arn = where.arn("lambda", f"function:{name}")
    return f"{arn}:{qualifier}" if qualifier and arn.count(":") == 6 else arn


def _lambda(operation: str, params: Params, where: CallContext) -> list[str]:
    if params.get("FunctionName"):
        return [_function_arn(str(params["FunctionName"]), params.get("Qualifier"), where)]
    if params.get("LayerName"):
        name = str(params["LayerName"])
        layer = name if name.startswith("arn:") else where.arn("lambda", f"layer:{name}")
        return [f"{layer}:{params['VersionNumber']}" if params.get("VersionNumber") else layer]
    return [where.arn("lambda", f"event-source-mapping:{params['UUID']}")] if params.get("UUID") else []


def _sts(operation: str, params: Params, where: CallContext) -> list[str]:
    if params.get("RoleArn"):
        return [str(params["RoleArn"])]
    if operation == "GetFederationToken" and params.get("Name"):
        return [f"arn:aws:sts::{where.account_id}:federated-user/{params['Name']}"]
    return []


def _states(operation: str, params: Params, where: CallContext) -> list[str]:
    kinds = {"CreateStateMachine": "stateMachine", "CreateActivity": "activity"}
    if operation in kinds and params.get("name"):
        return [where.arn("states", f"{kinds[operation]}:{params['name']}")]
    return []  # stateMachineArn, executionArn, activityArn, mapRunArn: the ARN parameters


_RULE_PARAMETER = {"PutRule": "Name", "DeleteRule": "Name", "DescribeRule": "Name", "EnableRule": "Name",
                   "DisableRule": "Name", "PutTargets": "Rule", "RemoveTargets": "Rule", "ListTargetsByRule": "Rule"}


def _bus_name(bus: Any) -> str:
    return str(bus).split(":event-bus/", 1)[-1] if bus else "default"


def _events(operation: str, params: Params, where: CallContext) -> list[str]:
    if operation == "PutEvents":
        buses = dict.fromkeys(_bus_name(entry.get("EventBusName")) for entry in params.get("Entries") or [])
        return [where.arn("events", f"event-bus/{bus}") for bus in buses]
    if operation.endswith("EventBus"):
        return [where.arn("events", f"event-bus/{_bus_name(params.get('Name'))}")]
    rule = params.get(_RULE_PARAMETER.get(operation, ""))
    if not rule:
        return []
    bus = _bus_name(params.get("EventBusName"))
    return [where.arn("events", f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}")]


def _scheduler(operation: str, params: Params, where: CallContext) -> list[str]:
    if not params.get("Name"):
        return []
    if operation.endswith("ScheduleGroup"):
        return [where.arn("scheduler", f"schedule-group/{params['Name']}")]
    return [where.arn("scheduler", f"schedule/{params.get('GroupName') or 'default'}/{params['Name']}")]


_STREAM_OPERATIONS = {"PutLogEvents", "GetLogEvents", "DeleteLogStream"}
_UNSTARRED_OPERATIONS = {"TagLogGroup", "UntagLogGroup", "ListTagsLogGroup"}


def _logs(operation: str, params: Params, where: CallContext) -> list[str]:
    """Log groups as IAM sees them: `log-group:<name>:*` (bare for the tag actions); streams for stream actions."""
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if not group:
        return []
    group = str(group)
    base = group.removesuffix(":*") if group.startswith("arn:") else where.arn("logs", f"log-group:{group}")
    if operation in _STREAM_OPERATIONS and params.get("logStreamName"):
        return [f"{base}:log-stream:{params['logStreamName']}"]
    return [base] if operation in _UNSTARRED_OPERATIONS else [f"{base}:*"]


# -- SQS, SNS, S3 -----------------------------------------------------------------------------------------------------
def _sqs(operation: str, params: Params, where: CallContext) -> list[str]:
    if params.get("QueueUrl"):
        url = urllib.parse.urlparse(str(params["QueueUrl"]))
        segments = url.path.strip("/").split("/")
        if len(segments) != 2:
            return []
        host = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.", url.hostname or "")
        return [where.arn("sqs", segments[1], region=host[1] if host else None, account=segments[0])]
    if params.get("QueueName"):
        return [where.arn("sqs", str(params["QueueName"]), account=params.get("QueueOwnerAWSAccountId"))]
    return []


def _sns(operation: str, params: Params, where: CallContext) -> list[str]:
    return [where.arn("sns", str(params["Name"]))] if operation == "CreateTopic" and params.get("Name") else []


def _object_arn(bucket: str, key: Any) -> str:
    return f"{bucket}/object/{key}" if bucket.startswith("arn:") else f"arn:aws:s3:::{bucket}/{key}"


def _s3(operation: str, params: Params, where: CallContext) -> list[str]:
    bucket = str(params.get("Bucket") or "")
    if not bucket:
        return []
    if operation == "DeleteObjects":
        return [_object_arn(bucket, item.get("Key")) for item in (params.get("Delete") or {}).get("Objects") or []]
    if params.get("Key") is not None:
        return [_object_arn(bucket, params["Key"])]
    return [bucket if bucket.startswith("arn:") else f"arn:aws:s3:::{bucket}"]


def _copy_source(source: Any) -> str:
    if isinstance(source, dict):
        return _object_arn(str(source.get("Bucket")), source.get("Key"))
    bucket, _, key = urllib.parse.unquote(str(source)).lstrip("/").partition("/")
    return _object_arn(bucket, key.split("?versionId=", 1)[0])


def _copy(params: Params, where: CallContext) -> list[Request]:
    """CopyObject / UploadPartCopy: s3:GetObject on the source, s3:PutObject on the target."""
    target = _object_arn(str(params.get("Bucket")), params.get("Key"))
    return [("s3:GetObject", _copy_source(params.get("CopySource"))), ("s3:PutObject", target)]


# -- DRS, EC2, IAM, SSM, KMS ------------------------------------------------------------------------------------------
_DRS_IDS = {"sourceServerID": "source-server", "recoveryInstanceID": "recovery-instance", "jobID": "job",
            "sourceNetworkID": "source-network",
            "launchConfigurationTemplateID": "launch-configuration-template",
            "replicationConfigurationTemplateID": "replication-configuration-template"}


def _drs(operation: str, params: Params, where: CallContext) -> list[str]:
    ids = [(kind, params[key]) for key, kind in _DRS_IDS.items() if params.get(key)]
    ids += [("source-server", server.get("sourceServerID")) for server in params.get("sourceServers") or []]
    ids += [("recovery-instance", instance) for instance in params.get("recoveryInstanceIDs") or []]
    return [where.arn("drs", f"{kind}/{resource_id}") for kind, resource_id in ids]


_EC2_KINDS = {"i": "instance", "vol": "volume", "snap": "snapshot", "sg": "security-group", "subnet": "subnet",
              "vpc": "vpc", "ami": "image", "eni": "network-interface", "lt": "launch-template"}
_EC2_UNOWNED = {"snapshot", "image"}  # their ARNs carry no account


def _ec2_ids(params: Params) -> Iterable[str]:
    for key in ("InstanceIds", "Resources"):
        yield from (str(item) for item in params.get(key) or [])
    for key in ("InstanceId", "VolumeId"):
        if params.get(key):
            yield str(params[key])


def _ec2(operation: str, params: Params, where: CallContext) -> list[str]:
    if operation == "RunInstances":
        return []  # judged on the instance, image, subnet, network interface, ... it creates: not derived
    arns = []
    for resource_id in _ec2_ids(params):
        kind = _EC2_KINDS.get(resource_id.split("-", 1)[0])
        if kind is None:
            return []  # an id we cannot type: the call's resources are not all known
        arns.append(where.arn("ec2", f"{kind}/{resource_id}", account="" if kind in _EC2_UNOWNED else None))
    return arns


_IAM_NAMES = {"RoleName": "role", "UserName": "user", "GroupName": "group", "InstanceProfileName": "instance-profile"}


def _iam(operation: str, params: Params, where: CallContext) -> list[str]:
    for key, kind in _IAM_NAMES.items():
        if params.get(key):
            return [f"arn:aws:iam::{where.account_id}:{kind}/{params[key]}"]  # the path is not known: `/` assumed
    return [str(params["PolicyArn"])] if params.get("PolicyArn") else []


def _parameter_arn(name: Any, where: CallContext) -> str:
    name = str(name)
    if name.startswith("arn:"):
        return name
    return where.arn("ssm", f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


def _ssm(operation: str, params: Params, where: CallContext) -> list[str]:
    if "Parameter" not in operation:
        return []
    names = list(params.get("Names") or []) + [params[key] for key in ("Name", "Path") if params.get(key)]
    return [_parameter_arn(name, where) for name in names]


def _kms(operation: str, params: Params, where: CallContext) -> list[str]:
    key = str(params.get("KeyId") or "")
    if not key or key.startswith("alias/"):
        return []  # AWS judges the key an alias names: not derived
    return [key if key.startswith("arn:") else where.arn("kms", f"key/{key}")]


_DERIVERS: dict[str, Deriver] = {
    "dynamodb": _dynamodb, "lambda": _lambda, "sts": _sts, "states": _states, "events": _events,
    "scheduler": _scheduler, "logs": _logs, "sqs": _sqs, "sns": _sns, "s3": _s3, "drs": _drs, "ec2": _ec2,
    "iam": _iam, "ssm": _ssm, "kms": _kms,
}
_SEVERAL_ACTIONS: dict[str, Callable[[Params, CallContext], list[Request]]] = {
    "dynamodb:TransactWriteItems": _transaction, "dynamodb:TransactGetItems": _transaction,
    "s3:CopyObject": _copy, "s3:UploadPartCopy": _copy,
}
