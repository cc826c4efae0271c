"""Async invocation destinations: EventInvokeConfig from the template; records sent to SQS, SNS, Lambda or a bus."""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Protocol

from botocore.exceptions import ClientError

from drs_parity.world.lambda_async import SUCCESS, AsyncConfig

INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
_SUB = re.compile(r"\$\{([^}]+)\}")


def without_invoke_configs(body: str, supported_types: set[str] | None) -> str:
    """The template text for a moto backend, which cannot create EventInvokeConfigs: they are left out (the function
    host reads them from the template itself). Other backends (None) get the text as it is."""
    if supported_types is None or INVOKE_CONFIG in supported_types:
        return body
    template = json.loads(body)
    resources = template.get("Resources") or {}
    left_out = {logical_id for logical_id, resource in resources.items() if resource.get("Type") == INVOKE_CONFIG}
    if not left_out:
        return body
    template["Resources"] = {logical_id: _without_dependencies(resource, left_out)
                             for logical_id, resource in resources.items() if logical_id not in left_out}
    return json.dumps(template)


def _without_dependencies(resource: dict[str, Any], left_out: set[str]) -> dict[str, Any]:
    depends = resource.get("DependsOn")
    if depends is None:
        return resource
    kept = [name for name in ([depends] if isinstance(depends, str) else depends) if name not in left_out]
    return {key: value for key, value in resource.items() if key != "DependsOn"} | (
        {"DependsOn": kept} if kept else {})


# -- reading the configurations ----------------------------------------------------------------------------------------
class Stack(Protocol):
    """What a deployed stack (drs_parity.world.deploy.Stack, which deploys with this module's help) offers here."""

    name: str
    resources: dict[str, str]
    resource_types: dict[str, str]
    template: dict[str, Any]


class _References:
    """Refs, GetAtt .Arn and Sub of the template, turned into the names and ARNs the stack deployed."""

    def __init__(self, stack: Stack, region: str, account_id: str) -> None:
        self.stack = stack
        self.region = region
        self.account_id = account_id

    def value(self, node: Any, where: str) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and len(node) == 1:
            function, argument = next(iter(node.items()))
            if function == "Ref" and isinstance(argument, str):
                return self._ref(argument, where)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                if attribute in ("Arn", "TopicArn"):
                    return self._arn(logical_id, where)
            if function == "Fn::Sub" and isinstance(argument, str):
                return _SUB.sub(lambda match: self._sub(match.group(1), where), argument)
        raise ValueError(f"{where}: {json.dumps(node)} is not a name, ARN, Ref, GetAtt Arn or Fn::Sub the host "
                         "can resolve")

    def _sub(self, name: str, where: str) -> str:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::Partition": "aws",
                  "AWS::StackName": self.stack.name, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        logical_id, _, attribute = name.partition(".")
        return self._arn(logical_id, where) if attribute else self._ref(logical_id, where)

    def _ref(self, logical_id: str, where: str) -> str:
        kind = self._kind(logical_id, where)
        return self._arn(logical_id, where) if kind == "AWS::SQS::Queue" else self.stack.resources[logical_id]

    def _arn(self, logical_id: str, where: str) -> str:
        kind, physical = self._kind(logical_id, where), self.stack.resources[logical_id]
        service = {"AWS::Lambda::Function": ("lambda", "function:"), "AWS::SQS::Queue": ("sqs", ""),
                   "AWS::Events::EventBus": ("events", "event-bus/")}.get(kind)
        if physical.startswith("arn:") or service is None:
            return physical
        name = physical.rsplit("/", 1)[-1]  # a queue's physical id is its URL
        return f"arn:aws:{service[0]}:{self.region}:{self.account_id}:{service[1]}{name}"

    def _kind(self, logical_id: str, where: str) -> str:
        if logical_id not in self.stack.resources:
            raise ValueError(f"{where}: {logical_id!r} is no resource the stack created")
        return self.stack.resource_types.get(logical_id, "")


def invoke_configs(stack: Stack, region: str, account_id: str) -> dict[str, AsyncConfig]:
    """Function name -> its EventInvokeConfig, for each one of the template on `$LATEST` (the version the host
    runs); ValueError naming the resource for a reference it cannot resolve."""
    references = _References(stack, region, account_id)
    configs: dict[str, AsyncConfig] = {}
    for logical_id, resource in (stack.template.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != INVOKE_CONFIG or properties.get("Qualifier", "$LATEST") != "$LATEST":
            continue
        function = references.value(properties.get("FunctionName"), f"{logical_id}.FunctionName")
        destinations = properties.get("DestinationConfig") or {}
        configs[function.split(":function:")[-1]] = AsyncConfig(
            max_retry_attempts=int(properties.get("MaximumRetryAttempts", 2)),
            max_event_age=int(properties.get("MaximumEventAgeInSeconds", AsyncConfig.max_event_age)),
            on_success=_destination(references, destinations, "OnSuccess", logical_id),
            on_failure=_destination(references, destinations, "OnFailure", logical_id))
    return configs


def _destination(references: _References, destinations: dict[str, Any], kind: str, logical_id: str) -> str | None:
    node = (destinations.get(kind) or {}).get("Destination")
    return None if node is None else references.value(node, f"{logical_id}.DestinationConfig.{kind}.Destination")


# -- delivering records ------------------------------------------------------------------------------------------------
ClientFactory = Callable[[str], Any]
InvokeAsync = Callable[[str, Any], bool]  # (function ARN, event) -> whether such a function exists


class Destinations:
    """Sends invocation records the way Lambda does: SQS message, SNS message, async invoke, or EventBridge event."""

    def __init__(self, client: ClientFactory, invoke_async: InvokeAsync) -> None:
        self._client = client
        self._invoke_async = invoke_async

    def send(self, destination: str, record: dict[str, Any], condition: str, function_arn: str) -> str | None:
        """Deliver `record`; None when delivered, else why not (Lambda's DestinationDeliveryFailures)."""
        service = destination.split(":")[2] if destination.count(":") >= 5 else ""
        body = json.dumps(record)
        try:
            if service == "sqs":
                self._to_queue(destination, body)
            elif service == "sns":
                self._client("sns").publish(TopicArn=destination, Message=body)
            elif service == "lambda":
                return None if self._invoke_async(destination, record) else f"no function {destination}"
            elif service == "events":
                self._to_bus(destination, body, condition, function_arn)
            else:
                return f"{destination} is not an SQS queue, SNS topic, Lambda function or EventBridge bus"
        except ClientError as exc:
            return f"{exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message')}"
        return None

    def _to_queue(self, arn: str, body: str) -> None:
        *_, account_id, name = arn.split(":")
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account_id)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def _to_bus(self, arn: str, body: str, condition: str, function_arn: str) -> None:
        outcome = "Success" if condition == SUCCESS else "Failure"
        self._client("events").put_events(Entries=[{
            "Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {outcome}", "Detail": body,
            "EventBusName": arn, "Resources": [f"{function_arn}:$LATEST"]}])
