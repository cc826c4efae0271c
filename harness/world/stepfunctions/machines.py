"""State machines of a deployed stack: each AWS::StepFunctions::StateMachine's definition and role, intrinsics resolved."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from drs_parity.world.deploy import DeployError, Stack
from drs_parity.world.stepfunctions.definition import Definition, DefinitionError, parse_definition
from drs_parity.world.template_eval import TemplateProblem, parameter_values

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_SUB_NAME = re.compile(r"\$\{([^}]*)\}")
_PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::Partition", "AWS::URLSuffix")
# ARN of a resource CloudFormation's Fn::GetAtt X.Arn gives, from its physical id (types whose Ref is no ARN).
_ARNS = {
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{id}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{id}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{last}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{last}",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{last}",
    "AWS::S3::Bucket": "arn:aws:s3:::{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{id}:*",
}


@dataclass(frozen=True)
class StateMachine:
    """One deployed state machine: its ARN (the backend's), its resolved definition and the role it runs under."""

    logical_id: str
    arn: str
    role_arn: str
    definition: Definition
    definition_text: str  # as DescribeStateMachine gives it: substitutions applied
    type: str = "STANDARD"
    creation_date: datetime | None = None
    unsupported: tuple[str, ...] = field(default=())  # what it uses that the interpreter does not run

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


def read_state_machines(stack: Stack, parameters: Mapping[str, Any], region: str, account_id: str,
                        created: datetime | None = None) -> list[StateMachine]:
    """Every state machine of the stack as deployed; DeployError naming the machine and property it cannot read."""
    resources = stack.template.get("Resources") or {}
    wanted = [logical_id for logical_id, resource in resources.items()
              if isinstance(resource, dict) and resource.get("Type") == STATE_MACHINE]
    if not wanted:
        return []
    resolver = _Resolver(stack, parameters, region, account_id)
    machines = []
    for logical_id in wanted:
        if logical_id not in stack.resources:
            raise DeployError(stack.name, logical_id, "the backend created no state machine for it")
        machines.append(_machine(stack, logical_id, resources[logical_id].get("Properties") or {}, resolver, created))
    return machines


def _machine(stack: Stack, logical_id: str, properties: Mapping[str, Any], resolver: "_Resolver",
             created: datetime | None) -> StateMachine:
    def resolved(key: str) -> Any:
        try:
            return resolver.value(properties.get(key))
        except TemplateProblem as problem:
            raise DeployError(stack.name, logical_id, f"property {key}: {problem.reason}") from None

    text = _definition_text(stack.name, logical_id, properties, resolved)
    substitutions = resolved("DefinitionSubstitutions") or {}
    if not isinstance(substitutions, dict):
        raise DeployError(stack.name, logical_id, "property DefinitionSubstitutions must be a mapping")
    for name, value in substitutions.items():
        text = text.replace("${" + str(name) + "}", _substitution(value))
    try:
        definition = parse_definition(text)
    except DefinitionError as error:
        raise DeployError(stack.name, logical_id, f"property Definition: {error}") from None
    role = resolved("RoleArn")
    if not isinstance(role, str) or not role:
        raise DeployError(stack.name, logical_id, "property RoleArn must name the machine's IAM role")
    return StateMachine(logical_id, stack.resources[logical_id], role, definition, text,
                        str(resolved("StateMachineType") or "STANDARD"), created, tuple(definition.unsupported()))


def _definition_text(stack_name: str, logical_id: str, properties: Mapping[str, Any], resolved: Any) -> str:
    if "Definition" in properties:
        definition = resolved("Definition")
        if not isinstance(definition, dict):
            raise DeployError(stack_name, logical_id, "property Definition must be a JSON object")
        return json.dumps(definition)
    if "DefinitionString" in properties:
        text = resolved("DefinitionString")
        if not isinstance(text, str):
            raise DeployError(stack_name, logical_id, "property DefinitionString must give a string")
        return text
    where = "DefinitionS3Location (not read by the harness)" if "DefinitionS3Location" in properties else "none"
    raise DeployError(stack_name, logical_id, f"needs property Definition or DefinitionString; it has {where}")


def _substitution(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Resolver:
    """CloudFormation's intrinsic functions against the deployed stack: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, ..."""

    def __init__(self, stack: Stack, parameters: Mapping[str, Any], region: str, account_id: str) -> None:
        self.stack = stack
        self.region = region
        self.account_id = account_id
        self.resources = stack.template.get("Resources") or {}
        self.parameters = parameter_values(stack.template, dict(parameters))
        self.mappings = stack.template.get("Mappings") or {}

    def value(self, node: Any) -> Any:
        function = _intrinsic(node)
        if function is None:
            if isinstance(node, dict):
                return {key: self.value(item) for key, item in node.items()}
            if isinstance(node, list):
                return [self.value(item) for item in node]
            return node
        name, argument = function
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise TemplateProblem(name, f"{name} is not resolved by the harness (supported: {', '.join(_FUNCTIONS)})")
        return handler(self, argument)

    def ref(self, name: Any) -> Any:
        name = str(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in _PSEUDO:
            return {"AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::StackName": self.stack.name,
                    "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}[name]
        if name in self.stack.resources:
            return self.stack.resources[name]
        raise TemplateProblem(name, f"Ref {name}: no parameter, pseudo parameter or created resource has that name")

    def get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateProblem("Fn::GetAtt", f"Fn::GetAtt takes [resource, attribute], not {argument!r}")
        logical_id, attribute = str(argument[0]), str(self.value(argument[1]))
        if logical_id not in self.stack.resources:
            raise TemplateProblem(logical_id, f"Fn::GetAtt {logical_id}.{attribute}: no such created resource")
        kind = self.stack.resource_types.get(logical_id) or self.resources.get(logical_id, {}).get("Type", "")
        physical = self.stack.resources[logical_id]
        if attribute == "Arn":
            return self._arn(logical_id, kind, physical)
        if attribute in ("Name", "TopicName", "QueueName", "StateMachineName") and physical:
            return physical.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if attribute in ("TopicArn", "QueueUrl"):
            return physical
        raise TemplateProblem(logical_id, f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not resolved by the "
                                          f"harness (it resolves Arn, Name, TopicArn, QueueUrl)")

    def _arn(self, logical_id: str, kind: str, physical: str) -> str:
        if physical.startswith("arn:"):
            return physical
        if kind == "AWS::IAM::Role":
            path = (self.resources.get(logical_id, {}).get("Properties") or {}).get("Path") or "/"
            return f"arn:aws:iam::{self.account_id}:role{path}{physical}"
        template = _ARNS.get(kind)
        if template is None:
            raise TemplateProblem(logical_id, f"Fn::GetAtt {logical_id}.Arn ({kind}) is not resolved by the harness")
        return template.format(region=self.region, account=self.account_id, id=physical,
                               last=physical.rsplit("/", 1)[-1])

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (list(argument) + [{}])[:2]
        if not isinstance(text, str) or not isinstance(variables, dict):
            raise TemplateProblem("Fn::Sub", f"Fn::Sub takes a string or [string, variables], not {argument!r}")
        values = {str(key): self.value(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.stack.resources:
                return str(self.get_att(name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_NAME.sub(replace, text)

    def join(self, argument: Any) -> str:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateProblem("Fn::Join", f"Fn::Join takes [delimiter, [values]], not {argument!r}")
        items = self.value(argument[1])
        if not isinstance(items, list):
            raise TemplateProblem("Fn::Join", f"Fn::Join needs a list of values, not {items!r}")
        return str(argument[0]).join(str(item) for item in items)

    def select(self, argument: Any) -> Any:
        index, items = self._pair("Fn::Select", argument)
        if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
            raise TemplateProblem("Fn::Select", f"Fn::Select {index!r} of {items!r}: no such item")
        return items[int(index)]

    def split(self, argument: Any) -> list[str]:
        delimiter, text = self._pair("Fn::Split", argument)
        return str(text).split(str(delimiter))

    def _pair(self, function: str, argument: Any) -> tuple[Any, Any]:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateProblem(function, f"{function} takes two arguments, not {argument!r}")
        return self.value(argument[0]), self.value(argument[1])

    def find_in_map(self, argument: Any) -> Any:
        keys = [str(self.value(part)) for part in argument] if isinstance(argument, list) else []
        try:
            return self.mappings[keys[0]][keys[1]][keys[2]]
        except (KeyError, IndexError, TypeError):
            raise TemplateProblem("Fn::FindInMap", f"Fn::FindInMap {keys} finds nothing in Mappings") from None


def _intrinsic(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if key == "Ref" or key.startswith("Fn::"):
            return key, node[key]
    return None


_FUNCTIONS = {"Ref": _Resolver.ref, "Fn::GetAtt": _Resolver.get_att, "Fn::Sub": _Resolver.sub,
              "Fn::Join": _Resolver.join, "Fn::Select": _Resolver.select, "Fn::Split": _Resolver.split,
              "Fn::FindInMap": _Resolver.find_in_map}
