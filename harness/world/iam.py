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
from drs_parity.world.iam_actions import always_allowed, iam_action
from drs_parity.world.iam_resources import UNKNOWN, CallContext, call_requests, resource_arns

__all__ = ["ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY", "NOT_EVALUATED", "CallContext", "IamGuard", "Statement",
           "Verdict", "always_allowed", "call_requests", "enforce_iam", "evaluate", "iam_action", "judge",
           "load_role_statements", "parse_document", "resource_arns", "wildcard_match"]

# Error code each service answers an authorisation failure with.
DENIAL_CODES = {"ec2": "UnauthorizedOperation", "sts": "AccessDenied", "iam": "AccessDenied"}
DEFAULT_DENIAL_CODE = "AccessDeniedException"
ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit-deny", "implicit-deny"
NOT_EVALUATED = "not-evaluated"  # the outcome hangs on what the evaluator cannot judge: allowed, and recorded

Denial = tuple[str, str]
Applies = tuple["bool | None", str]  # (True, False or None for "cannot tell", why it cannot tell)


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
    condition_keys: tuple[str, ...] = ()
    source: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any], source: str = "") -> "Statement":
        condition = raw.get("Condition")
        tests = condition.values() if isinstance(condition, dict) else ()
        keys = tuple(sorted({str(key) for test in tests if isinstance(test, dict) for key in test}))
        where = " ".join(part for part in (source, f"({raw['Sid']})" if raw.get("Sid") else "") if part)
        return cls(effect=str(raw.get("Effect", "")), actions=_as_list(raw.get("Action")),
                   not_actions=_as_list(raw.get("NotAction")), resources=_as_list(raw.get("Resource")),
                   not_resources=_as_list(raw.get("NotResource")),
                   condition_keys=keys or (("?",) if condition else ()), source=where)

    @property
    def has_condition(self) -> bool:
        return bool(self.condition_keys)

    def applies(self, action: str, resource: str | None) -> Applies:
        """Whether the statement applies to the action on the resource (UNKNOWN: not derived); None: cannot tell."""
        if not self._matches_action(action):
            return False, ""
        matched, why = self._matches_resource(resource)
        if matched is False:
            return False, ""
        if self.has_condition:  # conditions are not evaluated (see docs/iam-enforcement.md)
            return None, f"its Condition on {', '.join(self.condition_keys)} is not evaluated"
        return matched, why

    def matches(self, action: str, resource: str | None) -> bool:
        """Whether the statement certainly applies."""
        return self.applies(action, resource)[0] is True

    def _matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(wildcard_match(pattern, action, case_sensitive=False) for pattern in self.not_actions)
        return any(wildcard_match(pattern, action, case_sensitive=False) for pattern in self.actions)

    def _matches_resource(self, resource: str | None) -> Applies:
        excluding = bool(self.not_resources)
        found = [_resource_match(pattern, resource) for pattern in (self.not_resources or self.resources)]
        if True in found:
            return not excluding, ""
        if None in found:
            return None, ("the call's resource is not derived" if resource is UNKNOWN
                          else "its Resource has a policy variable, which is not filled")
        return excluding, ""


def _resource_match(pattern: str, resource: str | None) -> bool | None:
    """A Resource pattern against a resource: None where it cannot tell (resource not derived, policy variable)."""
    if pattern and set(pattern) == {"*"}:
        return True
    if resource is UNKNOWN:
        return None
    if "${" in pattern and resource != "*":
        return None
    return wildcard_match(pattern, resource)


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


@dataclass(frozen=True)
class Verdict:
    """The decision on one action on one resource; `reason` says what was not evaluated (NOT_EVALUATED only)."""

    decision: str
    reason: str = ""


def judge(statements: Iterable[Statement], action: str, resource: str | None) -> Verdict:
    """The decision as AWS makes it from identity policies: an explicit Deny wins, then an Allow, else default deny.

    Where the outcome hangs on a statement the evaluator cannot judge (a Condition, a resource not derived from the
    call, a policy variable), the verdict is NOT_EVALUATED, with the statement and why; it is never a denial.
    """
    allowed, open_allow, open_deny = False, "", ""
    for statement in statements:
        applies, why = statement.applies(action, resource)
        if applies is False:
            continue
        if statement.effect == "Deny":
            if applies:
                return Verdict(EXPLICIT_DENY)
            open_deny = open_deny or f"Deny in {statement.source} might apply: {why}"
        elif statement.effect == "Allow":
            allowed = allowed or bool(applies)
            if not applies:
                open_allow = open_allow or f"only the Allow in {statement.source} might allow it: {why}"
    if allowed:
        return Verdict(NOT_EVALUATED, open_deny) if open_deny else Verdict(ALLOW)
    return Verdict(NOT_EVALUATED, open_allow) if open_allow else Verdict(IMPLICIT_DENY)


def evaluate(statements: Iterable[Statement], action: str, resource: str | None) -> str:
    """ALLOW, EXPLICIT_DENY, IMPLICIT_DENY or NOT_EVALUATED for one action on one resource."""
    return judge(statements, action, resource).decision


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
    """Call guard: `guard(function, service, operation, params)` -> None (allowed) or (code, message).

    `denials` lists every denied call; `not_evaluated` every distinct (function, action, resource, reason) the
    evaluator could not judge and let through, with how many calls it covered.
    """

    load_statements: Callable[[str], list[Statement]]
    default_region: str
    denials: list[dict[str, Any]] = field(default_factory=list)
    not_evaluated: list[dict[str, Any]] = field(default_factory=list)
    _cache: dict[str, list[Statement]] = field(default_factory=dict)
    _unjudged: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    # (role, action, resource) -> the verdict: it hangs on the role's statements alone, read once like them
    _verdicts: dict[tuple[str, str, Any], Verdict] = field(default_factory=dict)

    def statements_of(self, role_arn: str) -> list[Statement]:
        if role_arn not in self._cache:
            self._cache[role_arn] = self.load_statements(role_arn)
        return self._cache[role_arn]

    def verdict(self, role_arn: str, action: str, resource: str | None) -> Verdict:
        """judge() on the role's statements, once per action and resource (a finder asks the same every tick)."""
        key = (role_arn, action, resource)
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = judge(self.statements_of(role_arn), action, resource)
        return found

    def __call__(self, function: FunctionLike, service: str, operation: str, params: dict[str, Any]) -> Denial | None:
        if not function.role_arn:  # a test double added by hand, not deployed: there is no role to enforce
            return None
        if always_allowed(service, operation):  # no identity policy can deny it on AWS
            return None
        where = CallContext(_region_of(function, self.default_region), function.role_arn.split(":")[4])
        for action, resource in call_requests(service, operation, params, where):
            verdict = self.verdict(function.role_arn, action, resource)
            if verdict.decision == NOT_EVALUATED:
                self._record_unjudged(function.name, action, resource, verdict.reason)
            elif verdict.decision != ALLOW:
                shown = resource if resource is not UNKNOWN else "*"
                answer = denial(service, action, shown, caller_arn(function.role_arn, function.name), verdict.decision)
                self.denials.append({"function": function.name, "action": action, "resource": shown,
                                     "decision": verdict.decision, "error": answer[0]})
                return answer
        return None

    def _record_unjudged(self, function: str, action: str, resource: str | None, reason: str) -> None:
        shown = resource if resource is not UNKNOWN else "(not derived)"
        key = (function, action, shown, reason)
        if key not in self._unjudged:
            self._unjudged[key] = {"function": function, "action": action, "resource": shown,
                                   "decision": NOT_EVALUATED, "reason": reason, "calls": 0}
            self.not_evaluated.append(self._unjudged[key])
        self._unjudged[key]["calls"] += 1


def _region_of(function: FunctionLike, default: str) -> str:
    environment = getattr(function, "environment", None) or {}
    return environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or default


def enforce_iam(world: ClientSource, host: FunctionHost) -> IamGuard:
    """Install IAM enforcement on `host`: every outbound call of a deployed function is checked against its role."""
    # the IAM client is made on the first guarded call: worlds whose functions never run pay nothing
    guard = IamGuard(lambda role_arn: load_role_statements(world.client("iam"), role_arn), world.region)
    host.set_call_guard(guard)
    return guard
