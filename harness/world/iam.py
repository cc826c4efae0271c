"""IAM enforcement for the function host: a function's outbound call is allowed only if its role's identity policies allow it."""

from __future__ import annotations

import ast
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Protocol

from drs_parity.world.host import FunctionHost

# Where the IAM action name differs from the botocore operation name.
ACTION_NAMES = {("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction"}
# Error code each service answers an authorisation failure with.
DENIAL_CODES = {"ec2": "UnauthorizedOperation", "sts": "AccessDenied", "iam": "AccessDenied"}
DEFAULT_DENIAL_CODE = "AccessDeniedException"
ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit-deny", "implicit-deny"

Denial = tuple[str, str]


class FunctionLike(Protocol):
    name: str
    role_arn: str
    environment: dict[str, str]


class ClientSource(Protocol):
    """Where the guard gets its IAM client and default region: a World (which itself installs the guard)."""

    region: str

    def client(self, service: str) -> Any: ...


# -- policy documents -------------------------------------------------------------------------------------------------
def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(item) for item in value)


@dataclass(frozen=True)
class Statement:
    """One identity-policy statement, reduced to what the evaluator understands."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    has_condition: bool = False
    source: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any], source: str = "") -> "Statement":
        return cls(effect=str(raw.get("Effect", "")), actions=_as_list(raw.get("Action")),
                   not_actions=_as_list(raw.get("NotAction")), resources=_as_list(raw.get("Resource")),
                   not_resources=_as_list(raw.get("NotResource")), has_condition=bool(raw.get("Condition")),
                   source=source)

    def matches(self, action: str, resource: str) -> bool:
        # Conditions are not evaluated: a conditional statement is never taken to apply (see docs/iam-enforcement.md).
        if self.has_condition:
            return False
        return self._matches_action(action) and self._matches_resource(resource)

    def _matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(wildcard_match(pattern, action, case_sensitive=False) for pattern in self.not_actions)
        return any(wildcard_match(pattern, action, case_sensitive=False) for pattern in self.actions)

    def _matches_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(wildcard_match(pattern, resource) for pattern in self.not_resources)
        return any(wildcard_match(pattern, resource) for pattern in self.resources)


def parse_document(document: Any, source: str = "") -> list[Statement]:
    """Statements of a policy document given as a dict or as (URL-encoded) JSON text."""
    if isinstance(document, str):
        document = _document_from_text(urllib.parse.unquote(document))
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    return [Statement.parse(raw, source) for raw in statements]


def _document_from_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # moto 5 returns some CloudFormation-created inline policies as a Python repr, not JSON
        return ast.literal_eval(text)


@lru_cache(maxsize=512)
def _wildcard_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters, ? one character; nothing else is special.
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM-style match: action names ignore case, resource ARNs do not."""
    return bool(_wildcard_regex(pattern, case_sensitive).match(value))


def evaluate(statements: Iterable[Statement], action: str, resource: str) -> str:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for one action on one resource: an explicit Deny always wins."""
    decision = IMPLICIT_DENY
    for statement in statements:
        if not statement.matches(action, resource):
            continue
        if statement.effect == "Deny":
            return EXPLICIT_DENY
        if statement.effect == "Allow":
            decision = ALLOW
    return decision


# -- reading a role's policies from the backend -----------------------------------------------------------------------
def role_name_of(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def load_role_statements(iam: Any, role_arn: str) -> list[Statement]:
    """Every statement of the role's inline and attached managed policies, read from the backend's IAM."""
    role_name = role_name_of(role_arn)
    iam.get_role(RoleName=role_name)  # a role that does not exist is a harness error, not a denial
    statements: list[Statement] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for policy_name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            statements += parse_document(document, f"inline {policy_name}")
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for attached in page["AttachedPolicies"]:
            statements += _managed_statements(iam, attached["PolicyArn"])
    return statements


def _managed_statements(iam: Any, policy_arn: str) -> list[Statement]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    return parse_document(document, f"managed {policy_arn}")


# -- what a call asks for ---------------------------------------------------------------------------------------------
def iam_action(service: str, operation: str) -> str:
    """The IAM action a botocore operation needs, e.g. ("lambda", "Invoke") -> "lambda:InvokeFunction"."""
    return f"{service}:{ACTION_NAMES.get((service, operation), operation)}"


@dataclass(frozen=True)
class CallContext:
    """Who calls, from where: enough to build the ARNs of the resources a call names."""

    region: str
    account_id: str


def resource_arns(service: str, operation: str, params: dict[str, Any], where: CallContext) -> list[str]:
    """ARNs of the resources a call acts on, where derivable from its parameters; ["*"] otherwise."""
    derive = _RESOURCE_DERIVERS.get(service)
    arns = derive(operation, params, where) if derive else []
    return arns or ["*"]


def _dynamodb_arns(operation: str, params: dict[str, Any], where: CallContext) -> list[str]:
    prefix = f"arn:aws:dynamodb:{where.region}:{where.account_id}:table/"
    if "TableName" in params:
        arn = prefix + str(params["TableName"])
        return [f"{arn}/index/{params['IndexName']}" if params.get("IndexName") else arn]
    tables = list(params.get("RequestItems") or {})  # BatchGetItem / BatchWriteItem
    for item in params.get("TransactItems") or []:
        tables += [body["TableName"] for body in item.values() if isinstance(body, dict) and "TableName" in body]
    return [prefix + table for table in dict.fromkeys(tables)]


def _lambda_arns(operation: str, params: dict[str, Any], where: CallContext) -> list[str]:
    name = params.get("FunctionName")
    if not name:
        return []
    if str(name).startswith("arn:"):
        return [str(name)]
    return [f"arn:aws:lambda:{where.region}:{where.account_id}:function:{name}"]


def _sts_arns(operation: str, params: dict[str, Any], where: CallContext) -> list[str]:
    return [str(params["RoleArn"])] if params.get("RoleArn") else []


_RESOURCE_DERIVERS: dict[str, Callable[[str, dict[str, Any], CallContext], list[str]]] = {
    "dynamodb": _dynamodb_arns,
    "lambda": _lambda_arns,
    "sts": _sts_arns,
}


# -- the answer a denied caller sees ----------------------------------------------------------------------------------
def caller_arn(role_arn: str, function_name: str) -> str:
    account_id = role_arn.split(":")[4]
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name_of(role_arn)}/{function_name}"


def denial(service: str, action: str, resource: str, caller: str, decision: str) -> Denial:
    """(error code, message) in AWS's wording for a denied call."""
    on_resource = f" on resource: {resource}" if resource != "*" else ""
    if decision == EXPLICIT_DENY:
        reason = "with an explicit deny in an identity-based policy"
    else:
        reason = f"because no identity-based policy allows the {action} action"
    message = f"User: {caller} is not authorized to perform: {action}{on_resource} {reason}"
    if service == "ec2":  # EC2 prefixes its own sentence
        message = "You are not authorized to perform this operation. " + message
    return DENIAL_CODES.get(service, DEFAULT_DENIAL_CODE), message


# -- the guard the function host calls --------------------------------------------------------------------------------
@dataclass
class IamGuard:
    """Call guard: `guard(function, service, operation, params)` -> None (allowed) or (code, message)."""

    load_statements: Callable[[str], list[Statement]]
    default_region: str
    denials: list[dict[str, Any]] = field(default_factory=list)
    _cache: dict[str, list[Statement]] = field(default_factory=dict)

    def statements_of(self, role_arn: str) -> list[Statement]:
        if role_arn not in self._cache:
            self._cache[role_arn] = self.load_statements(role_arn)
        return self._cache[role_arn]

    def __call__(self, function: FunctionLike, service: str, operation: str, params: dict[str, Any]) -> Denial | None:
        if not function.role_arn:  # a test double added by hand, not deployed: there is no role to enforce
            return None
        statements = self.statements_of(function.role_arn)
        action = iam_action(service, operation)
        where = CallContext(_region_of(function, self.default_region), function.role_arn.split(":")[4])
        for resource in resource_arns(service, operation, params, where):
            decision = evaluate(statements, action, resource)
            if decision != ALLOW:
                answer = denial(service, action, resource, caller_arn(function.role_arn, function.name), decision)
                self.denials.append({"function": function.name, "action": action, "resource": resource,
                                     "decision": decision, "error": answer[0]})
                return answer
        return None


def _region_of(function: FunctionLike, default: str) -> str:
    environment = getattr(function, "environment", None) or {}
    return environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or default


def enforce_iam(world: ClientSource, host: FunctionHost) -> IamGuard:
    """Install IAM enforcement on `host`: every outbound call of a deployed function is checked against its role."""
    # the IAM client is made on the first guarded call: worlds whose functions never run pay nothing
    guard = IamGuard(lambda role_arn: load_role_statements(world.client("iam"), role_arn), world.region)
    host.set_call_guard(guard)
    return guard
