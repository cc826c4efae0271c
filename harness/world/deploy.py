"""Stack deploy: template checks CloudFormation makes and moto skips, CreateStack, and the failing resource named."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drs_parity.errors import DrsParityError
from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.world.schedules import Schedule

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_STACK_POLLS = 600


class DeployError(DrsParityError, RuntimeError):
    """A stack that did not reach CREATE_COMPLETE; `resource` is the failing logical id (or the stack)."""

    def __init__(self, stack_name: str, resource: str, reason: str) -> None:
        super().__init__(f"stack {stack_name}: resource {resource} failed: {reason}")
        self.stack_name = stack_name
        self.resource = resource
        self.reason = reason


@dataclass
class Stack:
    name: str
    template_path: str
    outputs: dict[str, str] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    resource_types: dict[str, str] = field(default_factory=dict)  # logical id -> AWS::Service::Type


# -- templates -----------------------------------------------------------------------------------------------------
def load_template(body: str) -> dict[str, Any]:
    template = parse_template(body)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise DeployError("?", "template", "the template has no Resources section")
    return template


def check_template(template: dict[str, Any], supported_types: set[str] | None) -> list[tuple[str, str]]:
    """What CloudFormation would reject and moto lets through: [(logical id, reason)]."""
    problems: list[tuple[str, str]] = []
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if supported_types is not None and kind not in supported_types:
            problems.append((logical_id, f"resource type {kind} is not supported by the backend"))
        elif kind == "AWS::DynamoDB::Table":
            problems += [(logical_id, reason) for reason in _table_key_problems(properties)]
        elif kind == "AWS::Events::Rule":
            problems += [(logical_id, reason) for reason in _schedule_problems(properties)]
    return problems


def _table_key_problems(properties: dict[str, Any]) -> list[str]:
    defined = {item.get("AttributeName") for item in properties.get("AttributeDefinitions") or []}
    used: dict[str, str] = {}  # attribute -> where it is a key
    indexes = [("the table", properties.get("KeySchema") or [])]
    for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes += [(f"index {index.get('IndexName')}", index.get("KeySchema") or [])
                    for index in properties.get(section) or []]
    for where, schema in indexes:
        for key in schema:
            used.setdefault(key.get("AttributeName"), where)
    if not all(isinstance(name, str) for name in defined | set(used)):
        return []  # names built with intrinsics: leave it to the backend
    prefix = "Property AttributeDefinitions is inconsistent with the KeySchema of the table and the secondary indexes"
    problems = [f"{prefix}: {where} uses key attribute {name!r}, which is not in AttributeDefinitions"
                for name, where in used.items() if name not in defined]
    problems += [f"{prefix}: attribute {name!r} is defined but is no key of the table or any index"
                 for name in sorted(defined - set(used))]
    return problems


def _schedule_problems(properties: dict[str, Any]) -> list[str]:
    expression = properties.get("ScheduleExpression")
    if not isinstance(expression, str):
        return []
    try:
        Schedule(expression)
    except ValueError as exc:
        return [f"Parameter ScheduleExpression is not valid: {exc}"]
    return []


@contextlib.contextmanager
def _moto_resource_blame() -> Iterator[list[tuple[str, str]]]:
    """While active, the first moto CloudFormation resource that raises is recorded as (logical id, reason).

    moto creates a stack synchronously inside CreateStack and leaves no per-resource events when one fails;
    both moto backends run in this process, so wrapping its resource factory names the culprit.
    """
    from moto.cloudformation import parsing  # 2.3 s to import (every resource model): only moto deploys need it

    failures: list[tuple[str, str]] = []
    original = parsing.parse_and_create_resource

    def tracking(logical_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(logical_id, *args, **kwargs)
        except Exception as exc:
            if not failures:  # the innermost failure; its dependents re-raise it
                message = getattr(exc, "message", "") or str(exc)
                failures.append((logical_id, f"{getattr(exc, 'error_type', type(exc).__name__)}: {message}"))
            raise

    parsing.parse_and_create_resource = tracking
    try:
        yield failures
    finally:
        parsing.parse_and_create_resource = original


# -- stacks --------------------------------------------------------------------------------------------------------
def deploy_stack(cloudformation: Any, template_path: str | Path, stack_name: str, parameters: dict[str, str],
                 supported_types: set[str] | None) -> Stack:
    """Create the template as a stack; CREATE_COMPLETE or DeployError naming the failing logical resource.

    `supported_types` is what a moto backend can create (None: the backend is no moto, ask it instead).
    """
    body = Path(template_path).read_text()
    problems = check_template(load_template(body), supported_types)
    if problems:
        raise DeployError(stack_name, *problems[0])
    _create_stack(cloudformation, stack_name, body, parameters, blame_moto=supported_types is not None)
    status = _wait_for_stack(cloudformation, stack_name)
    if status != "CREATE_COMPLETE":
        raise DeployError(stack_name, *_first_failure(cloudformation, stack_name, status))
    return _describe_stack(cloudformation, stack_name, str(template_path))


def _create_stack(cloudformation: Any, stack_name: str, body: str, parameters: dict[str, str],
                  blame_moto: bool) -> None:
    blame = _moto_resource_blame() if blame_moto else contextlib.nullcontext([])
    with blame as failures:
        try:
            cloudformation.create_stack(
                StackName=stack_name, TemplateBody=body, Capabilities=CAPABILITIES,
                Parameters=[{"ParameterKey": key, "ParameterValue": str(value)} for key, value in parameters.items()])
        except (ClientError, BotoCoreError, ResponseParserError) as exc:  # moto answers some errors unparseably
            resource, reason = failures[0] if failures else (stack_name, str(exc))
            raise DeployError(stack_name, resource, reason) from exc


def _wait_for_stack(cloudformation: Any, stack_name: str) -> str:
    status = "CREATE_IN_PROGRESS"
    for attempt in range(_STACK_POLLS):
        status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(min(0.01 * 2 ** attempt, 1.0))  # real seconds: only LocalStack ever makes us wait
    return status


def _first_failure(cloudformation: Any, stack_name: str, status: str) -> tuple[str, str]:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    for event in reversed(events):  # oldest first: the first failure caused the rest
        if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != stack_name:
            return event["LogicalResourceId"], event.get("ResourceStatusReason", event["ResourceStatus"])
    return stack_name, f"stack ended in {status}"


def _describe_stack(cloudformation: Any, stack_name: str, template_path: str) -> Stack:
    described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    stack = Stack(stack_name, template_path,
                  outputs={item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])})
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary["LogicalResourceId"]:  # moto lists unsupported types as blank rows
                stack.resources[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
                stack.resource_types[summary["LogicalResourceId"]] = summary["ResourceType"]
    return stack
