"""Stack deploy: template checks CloudFormation makes and moto skips, CreateStack, and the failing resource named."""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drs_parity.errors import DrsParityError
from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.world.api_routes import for_moto
from drs_parity.world.code import FunctionCode, package_template
from drs_parity.world.destinations import without_invoke_configs
from drs_parity.world.moto_workarounds import fast_stack_templates
from drs_parity.world.schedules import Schedule
from drs_parity.world.template_eval import StackContext, TemplateProblem, resolve

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_STACK_POLLS = 600
TEMPLATE_SECTIONS = {"template", "Parameters", "Conditions", "Mappings", "Outputs"}


class DeployError(DrsParityError, RuntimeError):
    """A stack that did not reach CREATE_COMPLETE; `resource` is the failing logical id (or the stack)."""

    def __init__(self, stack_name: str, resource: str, reason: str) -> None:
        section = resource.split(".", 1)[0] in TEMPLATE_SECTIONS  # Parameters, Conditions.<name>, Outputs.<name>
        super().__init__(f"stack {stack_name}: {resource}: {reason}" if section
                         else f"stack {stack_name}: resource {resource} failed: {reason}")
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
    code: dict[str, FunctionCode] = field(default_factory=dict)  # function logical id -> code folder and layers
    template: dict[str, Any] = field(default_factory=dict)  # as deployed: Conditions, Fn::If, AWS::NoValue applied


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
    both moto backends run in this process, so wrapping its resource factory names the culprit. A Python error
    in moto's model (moto could not read a property) names the property too.
    """
    from moto.cloudformation import parsing  # 2.3 s to import (every resource model): only moto deploys need it

    failures: list[tuple[str, str]] = []
    original = parsing.parse_and_create_resource

    def tracking(logical_id: str, resource_json: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(logical_id, resource_json, *args, **kwargs)
        except Exception as exc:
            if not failures:  # the innermost failure; its dependents re-raise it
                failures.append((logical_id, _moto_failure(exc, resource_json)))
            raise

    parsing.parse_and_create_resource = tracking
    try:
        yield failures
    finally:
        parsing.parse_and_create_resource = original


def _moto_failure(exc: Exception, resource_json: Any) -> str:
    """Why moto failed a resource: its AWS error as it stands, else the property moto could not read."""
    message = getattr(exc, "message", "") or str(exc)
    if hasattr(exc, "error_type") or isinstance(exc, ClientError):
        return f"{getattr(exc, 'error_type', type(exc).__name__)}: {message}"
    properties = resource_json.get("Properties") if isinstance(resource_json, dict) else None
    properties = properties if isinstance(properties, dict) else {}
    blamed = blamed_property(exc, properties)
    error = f"{type(exc).__name__}: {message}"
    if blamed is None:
        return f"moto cannot read one of its properties ({', '.join(properties) or 'none'}): {error}"
    if blamed.endswith(MISSING):
        return f"property {blamed.removesuffix(MISSING)} is missing, and moto needs it: {error}"
    return f"property {blamed}: moto cannot read it: {error}"


MISSING = " (missing)"
_LITERAL = re.compile(r"""["']([A-Za-z][A-Za-z0-9]*)["']""")


def blamed_property(exc: BaseException, properties: dict[str, Any]) -> str | None:
    """The property moto's model was reading when `exc` rose: the nearest property name its code names, from the
    failing line upward, innermost moto frame first; `<name> (missing)` for a KeyError on a property not given."""
    names = set(properties)
    for frame, line_number in reversed(list(traceback.walk_tb(exc.__traceback__))):
        filename = frame.f_code.co_filename.replace("\\", "/")
        if "/moto/" not in filename or filename.endswith("/moto/cloudformation/parsing.py"):
            continue
        lines = _source_up_to(frame, line_number)
        missing = _missing_property(exc, frame, lines[:1], names)
        if missing:
            return missing
        for line in lines:
            named = [literal for literal in _LITERAL.findall(line) if literal in names]
            if named:
                return named[-1]
    return None


def _source_up_to(frame: Any, line_number: int) -> list[str]:
    """The lines of the frame's function from `line_number` up to its start, nearest first."""
    try:
        lines, start = inspect.getsourcelines(frame.f_code)
    except (OSError, TypeError):
        return []
    return list(reversed(lines[:max(line_number - start + 1, 0)]))


def _missing_property(exc: BaseException, frame: Any, failing: list[str], names: set[str]) -> str | None:
    """`<key> (missing)` when the failing line subscripts the properties themselves with a key they lack."""
    key = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
    if not isinstance(key, str) or key in names or not failing:
        return None
    holders = [name for name, value in frame.f_locals.items() if isinstance(value, dict) and set(value) == names]
    pattern = "|".join(re.escape(name) for name in holders)
    if holders and re.search(rf"\b(?:{pattern})\[[\"']{re.escape(key)}[\"']\]", failing[0]):
        return f"{key}{MISSING}"
    return None


# -- stacks --------------------------------------------------------------------------------------------------------
def deploy_stack(cloudformation: Any, template_path: str | Path, stack_name: str, parameters: dict[str, str],
                 supported_types: set[str] | None) -> Stack:
    """Create the template as a stack; CREATE_COMPLETE or DeployError naming the failing logical resource.

    What CloudFormation evaluates itself (parameters without a value, Conditions, Fn::If, AWS::NoValue) is
    evaluated here first, so moto gets the template as CloudFormation would create it.
    `supported_types` is what a moto backend can create (None: the backend is no moto, ask it instead).
    """
    resolved = resolved_template(load_template(Path(template_path).read_text()), stack_name, parameters,
                                 cloudformation.meta.region_name)
    # the API types and EventInvokeConfigs moto cannot create are left out (the host reads them from the template)
    body = without_invoke_configs(for_moto(json.dumps(resolved, default=str), supported_types), supported_types)
    template = load_template(body)
    packaged = package_template(template, Path(template_path).resolve().parent)  # local code: placeholders
    problems = packaged.problems + check_template(template, supported_types)
    if problems:
        raise DeployError(stack_name, *problems[0])
    _create_stack(cloudformation, stack_name, packaged.body(body), parameters, blame_moto=supported_types is not None)
    described = _wait_for_stack(cloudformation, stack_name)
    status = described["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise DeployError(stack_name, *_first_failure(cloudformation, stack_name, status))
    stack = _described_stack(cloudformation, stack_name, described, str(template_path))
    stack.code = packaged.code
    stack.template = resolved
    return stack


def resolved_template(template: dict[str, Any], stack_name: str, parameters: dict[str, str],
                      region: str) -> dict[str, Any]:
    """The template as CloudFormation creates it (see template_eval.resolve); DeployError where it would refuse."""
    context = StackContext(stack_name, region, _caller_account)
    try:
        return resolve(template, parameters, context)
    except TemplateProblem as problem:
        raise DeployError(stack_name, problem.where, problem.reason) from None


def _caller_account() -> str:
    """The account the stack goes to: the active world's (asked only when a condition compares AWS::AccountId)."""
    return str(boto3.client("sts").get_caller_identity()["Account"])


def _create_stack(cloudformation: Any, stack_name: str, body: str, parameters: dict[str, str],
                  blame_moto: bool) -> None:
    blame = _moto_resource_blame() if blame_moto else contextlib.nullcontext([])
    templates = fast_stack_templates() if blame_moto else contextlib.nullcontext()  # both run moto in this process
    with blame as failures, templates:
        try:
            cloudformation.create_stack(
                StackName=stack_name, TemplateBody=body, Capabilities=CAPABILITIES,
                Parameters=[{"ParameterKey": key, "ParameterValue": str(value)} for key, value in parameters.items()])
        except (ClientError, BotoCoreError, ResponseParserError) as exc:  # moto answers some errors unparseably
            resource, reason = failures[0] if failures else (stack_name, str(exc))
            raise DeployError(stack_name, resource, reason) from exc
        except Exception as exc:  # in-process moto lets its models' own errors through CreateStack
            if not blame_moto:
                raise
            resource, reason = failures[0] if failures else (stack_name, f"{type(exc).__name__}: {exc}")
            raise DeployError(stack_name, resource, reason) from exc


def _wait_for_stack(cloudformation: Any, stack_name: str) -> dict[str, Any]:
    """The stack as DescribeStacks last answered, once no longer in progress (or after the last poll)."""
    for attempt in range(_STACK_POLLS):
        described: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(min(0.01 * 2 ** attempt, 1.0))  # real seconds: only LocalStack ever makes us wait
    return described


def _first_failure(cloudformation: Any, stack_name: str, status: str) -> tuple[str, str]:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    for event in reversed(events):  # oldest first: the first failure caused the rest
        if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != stack_name:
            return event["LogicalResourceId"], event.get("ResourceStatusReason", event["ResourceStatus"])
    return stack_name, f"stack ended in {status}"


def _described_stack(cloudformation: Any, stack_name: str, described: dict[str, Any], template_path: str) -> Stack:
    """The Stack of a created stack, from its DescribeStacks answer and its resources."""
    stack = Stack(stack_name, template_path,
                  outputs={item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])})
    for page in stack_resource_pages(cloudformation, stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary["LogicalResourceId"]:  # moto lists unsupported types as blank rows
                stack.resources[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
                stack.resource_types[summary["LogicalResourceId"]] = summary["ResourceType"]
    return stack


def stack_resource_pages(cloudformation: Any, stack_name: str) -> Iterator[dict[str, Any]]:
    """ListStackResources page by page: botocore's paginator would make a class (and a closure over the client)
    per call, freed only by the cycle collector."""
    token: dict[str, str] = {}
    while True:
        page = cloudformation.list_stack_resources(StackName=stack_name, **token)
        yield page
        if not page.get("NextToken"):
            return
        token = {"NextToken": page["NextToken"]}
