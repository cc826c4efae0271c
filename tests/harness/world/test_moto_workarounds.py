"""moto's costs that grow with a world, worked around: the same answers as moto's own code, without the growing work."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import moto.backends
import pytest
import yaml
from botocore.awsrequest import AWSPreparedRequest
from moto.cloudformation.models import Stack
from moto.core import serialize
from moto.core.botocore_stubber import BotocoreStubber
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.models.tags import TagBackend

from drs_parity.fixtures.cloudformation import parse_template
from drs_parity.fixtures.library import reference_dir
from drs_parity.world import moto_workarounds
from drs_parity.world.drs import Ec2Launcher, InProcessMotoLauncher
from drs_parity.world.drs.models import RequestContext, SourceServer
from drs_parity.world.world import World

ACCOUNT, REGION = "123456789012", "us-east-1"
# what differs between any two instances moto makes: generated ids, addresses, times, the client token
GENERATED = {"InstanceId", "PrivateIpAddress", "PrivateDnsName", "PublicIpAddress", "PublicDnsName", "LaunchTime",
             "SubnetId", "VpcId", "ClientToken", "NetworkInterfaces", "BlockDeviceMappings", "ReservationId",
             "UsageOperationUpdateTime"}


def source_server(number: int, name: str | None = "web") -> SourceServer:
    return SourceServer(server_id=f"s-{number:017x}", context=RequestContext(ACCOUNT, REGION),
                        hostname=f"host-{number}.corp.example", name=name, tags={}, instance_type="r5.large",
                        launch_status="LAUNCHED", launch_seconds=60.0, added_at=0.0)


@pytest.fixture
def world() -> Iterator[World]:
    with World("moto") as started:
        yield started


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count the calls of owner.name (moto's own function) for the rest of the test."""
    calls: list[int] = []
    original = inspect.getattr_static(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def without_generated(instance: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in instance.items() if key not in GENERATED}


def describe(world: World, instance_ids: list[str]) -> list[dict[str, Any]]:
    answer = world.client("ec2").describe_instances(InstanceIds=instance_ids)
    return [instance for reservation in answer["Reservations"] for instance in reservation["Instances"]]


def test_in_process_launcher_makes_the_instance_run_instances_makes(world: World) -> None:
    client = lambda account, region: world.client("ec2", region=region, account_id=account)  # noqa: E731
    by_api = Ec2Launcher(client).launch(ACCOUNT, REGION, source_server(1), True)
    direct = InProcessMotoLauncher(client).launch(ACCOUNT, REGION, source_server(2), True)
    api_instance, direct_instance = describe(world, [by_api["instanceId"], direct["instanceId"]])
    tags = {tag["Key"]: tag["Value"] for tag in direct_instance.pop("Tags")}
    assert tags == {"Name": "web", "drs:source-server": f"s-{2:017x}"}
    api_instance.pop("Tags")
    assert without_generated(direct_instance) == without_generated(api_instance)
    assert direct == {"instanceId": direct_instance["InstanceId"], "privateIp": direct_instance["PrivateIpAddress"],
                      "instanceType": "r5.large", "privateDnsName": direct_instance["PrivateDnsName"]}


def test_launching_copies_no_reservations_and_describing_scans_no_tags(world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    reservation_copies = counting(monkeypatch, InstanceBackend, "all_reservations")
    tag_scans = counting(monkeypatch, TagBackend, "describe_tags")
    launcher = InProcessMotoLauncher(lambda account, region: world.client("ec2", region=region))
    launched = [launcher.launch(ACCOUNT, REGION, source_server(n, name=f"web-{n}"), True) for n in range(5)]
    assert reservation_copies == []  # moto's get_instance copies every reservation to find the new one
    instances = describe(world, [facts["instanceId"] for facts in launched])
    assert [{tag["Key"]: tag["Value"] for tag in i["Tags"]}["Name"] for i in instances] == [
        f"web-{n}" for n in range(5)]
    assert tag_scans == []  # moto's get_tags walks every tag of the region for each instance


def test_an_instances_tags_are_moto_describe_tags_for_its_id(world: World) -> None:
    ec2 = world.client("ec2")
    made = ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]}])
    first, second = (instance["InstanceId"] for instance in made["Instances"])
    ec2.create_tags(Resources=[first], Tags=[{"Key": "only-first", "Value": ""}])
    backend = world_ec2_backend()
    for instance_id in (first, second):
        instance = backend.get_instance(instance_id)
        assert instance.get_tags() == backend.describe_tags(filters={"resource-id": [instance_id]})
    untagged = backend.create_volume(size=8, zone_name="us-east-1a")
    assert untagged.get_tags() == [] == backend.describe_tags(filters={"resource-id": [untagged.id]})


def world_ec2_backend() -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT][REGION]


def test_unknown_instance_is_moto_error(world: World) -> None:
    from moto.ec2.exceptions import InvalidInstanceIdError

    with pytest.raises(InvalidInstanceIdError):
        world_ec2_backend().get_instance("i-00000000000000000")


def test_serialised_answers_equal_moto_own_and_names_are_found_once(world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ec2 = world.client("ec2")
    made = ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3, InstanceType="m5.large")
    ids = [instance["InstanceId"] for instance in made["Instances"]]
    remembered = ec2.describe_instances(InstanceIds=ids)
    lookups = counting(monkeypatch, serialize.AttributePicker, "get_possible_keys")
    again = ec2.describe_instances(InstanceIds=ids)
    assert lookups == []  # every member's candidate names were found while serialising the first answer
    monkeypatch.setattr(serialize.AttributePicker, "__call__", moto_pick)
    assert again["Reservations"] == ec2.describe_instances(InstanceIds=ids)["Reservations"] == \
        remembered["Reservations"]


def moto_pick(picker: Any, context: Any) -> Any:
    """moto's AttributePicker.__call__ as moto 5 writes it (the workaround replaces it while a world runs)."""
    obj = context.obj
    for possible_key in picker.get_possible_keys(context):
        value = serialize.get_value(obj, possible_key, serialize.MISSING)
        if value is not serialize.MISSING:
            break
    else:
        value = None
    key_path = f"{context.key_path}.{context.key}"
    for transform_path, transform in picker.response_transformers.items():
        if key_path.endswith(transform_path):
            value = transform(value)
            break
    return value


def test_requests_are_routed_once_per_url(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    dynamodb = world.client("dynamodb")
    dynamodb.list_tables()
    listings = counting(monkeypatch, inspect, "getmembers")
    backend_lookups = counting(monkeypatch, moto.backends, "get_backend")
    assert dynamodb.list_tables()["TableNames"] == []
    assert backend_lookups == [] and listings == []  # the URL's handler and DynamoHandler's method names are known


def test_a_url_moto_does_not_serve_keeps_moto_answer(world: World) -> None:
    request = AWSPreparedRequest("GET", "https://no-such-service.us-east-1.amazonaws.com/", {}, b"", False)
    answer = BotocoreStubber().process_request(request)
    assert answer is not None and answer[0] == 404


def test_workarounds_last_while_a_moto_world_runs() -> None:
    moto_get_tags = TaggedEC2Resource.__dict__["get_tags"]
    with World("moto"):
        assert TaggedEC2Resource.__dict__["get_tags"] is moto_workarounds.resource_tags
        undo = moto_workarounds.install_moto_workarounds()  # a second user: the first's stop must not undo it
        undo()
        assert TaggedEC2Resource.__dict__["get_tags"] is moto_workarounds.resource_tags
    assert TaggedEC2Resource.__dict__["get_tags"] is moto_get_tags
    assert BotocoreStubber.__dict__["process_request"] is not moto_workarounds.route_request


# -- CloudFormation templates --------------------------------------------------------------------------------------
REFERENCE_TEMPLATES = [reference_dir() / "monolithic" / "template.yaml", reference_dir() / "decomposed" / "template.yaml",
                       reference_dir() / "decomposed" / "stepfunctions.yaml"]


@pytest.mark.parametrize("path", REFERENCE_TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_a_stack_template_reads_as_moto_reads_it_as_yaml_and_as_json(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    as_json = json.dumps(parse_template(text), default=str)  # what a deploy sends moto

    with moto_workarounds.fast_stack_templates():
        read = [moto_workarounds.stack_template(text), moto_workarounds.stack_template(as_json)]

    assert read == [Stack.parse_template(text), Stack.parse_template(as_json)]  # moto's own, pure Python


def test_a_stack_template_read_again_is_not_parsed_again_and_is_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    text = '{"Resources": {"T": {"Type": "X", "Properties": {"Tags": ["a"]}}}, "Id": "read-again"}'
    with moto_workarounds.fast_stack_templates():
        first = moto_workarounds.stack_template(text)
        first["Resources"]["T"]["Properties"]["Tags"].append("changed by one stack")
        loads = counting(monkeypatch, yaml, "load")
        second = moto_workarounds.stack_template(text)

    assert loads == [] and second["Resources"]["T"]["Properties"]["Tags"] == ["a"]


def test_a_text_libyaml_refuses_gets_moto_s_own_answer() -> None:
    with moto_workarounds.fast_stack_templates(), pytest.raises(json.JSONDecodeError):
        moto_workarounds.stack_template("{")  # moto: not YAML, so JSON, which it is not either


def test_a_second_stack_of_a_template_reads_no_yaml_and_moto_s_reader_is_back_after_each_deploy(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: second-stack}\n")
    moto_reader = Stack.__dict__["parse_template"]
    world.deploy(template, "first")
    loads = counting(monkeypatch, yaml, "load")

    world.deploy(template, "second")

    assert loads == [] and Stack.__dict__["parse_template"] is moto_reader


def test_a_response_transformer_re_set_or_added_at_run_time_is_the_one_applied() -> None:
    transformers: dict[str, Any] = {"Peering.Status": lambda value: "first"}
    transform_for = moto_workarounds._transform_for
    assert transform_for(transformers, "Reply.Peering.Status")(None) == "first"
    transformers["Peering.Status"] = lambda value: "re-set"  # what moto's VPC peering does on every call
    assert transform_for(transformers, "Reply.Peering.Status")(None) == "re-set"
    assert transform_for(transformers, "Reply.Peering.Code") is None
    transformers["Peering.Code"] = lambda value: "added"
    assert transform_for(transformers, "Reply.Peering.Code")(None) == "added"


@pytest.mark.parametrize("url, headers", [
    ("https://dynamodb.us-east-1.amazonaws.com/", {}), ("https://dynamodb.us-east-1.amazonaws.com:443/", {}),
    ("http://127.0.0.1:4566/2015-03-31/functions/f/invocations?Qualifier=1", {}),
    ("http://127.0.0.1:80/x%20y", {}), ("https://sts.amazonaws.com/", {"Host": "other.example:8443"})])
def test_a_requests_raw_url_is_moto_s_and_is_remembered_per_environ(url: str, headers: dict[str, str]) -> None:
    from moto.core.request import Request  # moto's own builder: the fast one is only installed while a world runs

    first, again = (Request.from_primitives("GET", url, headers) for _ in range(2))
    assert moto_workarounds.raw_url(first) == first.raw_url
    assert moto_workarounds.raw_url(again) is moto_workarounds.raw_url(first)  # remembered, not built again
    parts = urlsplit(url)
    other = Request.from_primitives("GET", parts._replace(path=f"/elsewhere{parts.path}").geturl(), headers)
    assert moto_workarounds.raw_url(other) == other.raw_url != first.raw_url
