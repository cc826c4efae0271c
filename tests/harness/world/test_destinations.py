"""EventInvokeConfig read from a deployed template, left out of what moto gets, and records sent to each kind of
destination Lambda supports."""

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from drs_parity.world.destinations import Destinations, invoke_configs, without_invoke_configs
from drs_parity.world.lambda_async import AsyncConfig
from drs_parity.world.world import World
from tests.harness.world.small_worlds import started_world

REGION, ACCOUNT = "us-east-1", "123456789012"


@dataclass
class FakeStack:
    template: dict[str, Any]
    resources: dict[str, str] = field(default_factory=lambda: {
        "Worker": "worker-fn", "Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/failures",
        "Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:done", "Bus": "results"})
    resource_types: dict[str, str] = field(default_factory=lambda: {
        "Worker": "AWS::Lambda::Function", "Queue": "AWS::SQS::Queue", "Topic": "AWS::SNS::Topic",
        "Bus": "AWS::Events::EventBus"})
    name: str = "stack"


def config(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {"FunctionName": {"Ref": "Worker"}, **properties}}


def test_destinations_are_resolved_from_refs_getatts_subs_and_arns() -> None:
    stack = FakeStack({"Resources": {
        "A": config(MaximumRetryAttempts=0, MaximumEventAgeInSeconds=120,
                    DestinationConfig={"OnFailure": {"Destination": {"Fn::GetAtt": ["Queue", "Arn"]}},
                                       "OnSuccess": {"Destination": {"Ref": "Topic"}}}),
        "B": config(Qualifier="live", MaximumRetryAttempts=1),  # an alias: the host runs $LATEST only
    }})
    assert invoke_configs(stack, REGION, ACCOUNT) == {"worker-fn": AsyncConfig(
        0, 120, on_success=f"arn:aws:sns:{REGION}:{ACCOUNT}:done", on_failure=f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures")}

    stack.template["Resources"] = {"A": config(DestinationConfig={
        "OnSuccess": {"Destination": {"Fn::Sub": "arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/${Bus}"}},
        "OnFailure": {"Destination": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"}})}
    resolved = invoke_configs(stack, REGION, ACCOUNT)["worker-fn"]
    assert resolved.on_success == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/results"
    assert resolved.on_failure == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"
    assert resolved.max_retry_attempts == 2 and resolved.max_event_age == 21600  # Lambda's defaults


def test_a_reference_the_host_cannot_resolve_names_the_resource_and_property() -> None:
    stack = FakeStack({"Resources": {"A": config(DestinationConfig={
        "OnFailure": {"Destination": {"Fn::GetAtt": ["Missing", "Arn"]}}})}})
    with pytest.raises(ValueError, match=r"^A\.DestinationConfig\.OnFailure\.Destination: 'Missing' is no resource"):
        invoke_configs(stack, REGION, ACCOUNT)


def test_moto_gets_the_template_without_event_invoke_configs_and_dependencies_on_them() -> None:
    body = json.dumps({"Resources": {"A": config(), "Q": {"Type": "AWS::SQS::Queue", "DependsOn": ["A", "W"]},
                                     "W": {"Type": "AWS::Lambda::Function", "DependsOn": "A"}}})

    kept = json.loads(without_invoke_configs(body, {"AWS::SQS::Queue", "AWS::Lambda::Function"}))

    assert kept["Resources"] == {"Q": {"Type": "AWS::SQS::Queue", "DependsOn": ["W"]},
                                 "W": {"Type": "AWS::Lambda::Function"}}
    assert without_invoke_configs(body, None) == body  # a backend that creates them gets the template as it is


@pytest.fixture
def world() -> Iterator[World]:
    yield from started_world()


def queue(world: World, name: str) -> tuple[str, str]:
    url = world.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def messages(world: World, url: str) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in world.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_a_record_reaches_an_event_bus_as_lambdas_invocation_result_event(world: World) -> None:
    events = world.client("events")
    bus = events.create_event_bus(Name="results")["EventBusArn"]
    url, arn = queue(world, "seen")
    events.put_rule(Name="all", EventBusName="results", EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule="all", EventBusName="results", Targets=[{"Id": "q", "Arn": arn}])
    record = {"requestContext": {"condition": "RetriesExhausted"}}

    error = Destinations(world.client, lambda *_: False).send(bus, record, "RetriesExhausted", "arn:fn")

    [event] = messages(world, url)
    assert error is None and event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert (event["source"], event["detail"], event["resources"]) == ("lambda", record, ["arn:fn:$LATEST"])


def test_a_record_reaches_an_sns_topic_and_a_missing_queue_is_a_delivery_failure(world: World) -> None:
    topic = world.client("sns").create_topic(Name="done")["TopicArn"]
    url, arn = queue(world, "subscriber")
    world.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                  Attributes={"RawMessageDelivery": "true"})
    destinations = Destinations(world.client, lambda *_: False)

    assert destinations.send(topic, {"n": 1}, "Success", "arn:fn") is None
    assert messages(world, url) == [{"n": 1}]
    missing = destinations.send(f"arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere", {}, "Success", "arn:fn")
    assert missing is not None and missing.startswith("AWS.SimpleQueueService.NonExistentQueue")
    assert destinations.send("arn:aws:s3:::bucket", {}, "Success", "arn:fn").endswith(
        "is not an SQS queue, SNS topic, Lambda function or EventBridge bus")
