"""moto's EC2 answers serialised by plan are moto's own answers, byte for byte, with far fewer lookups."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import boto3
import pytest
from moto.core import serialize
from moto.ec2.responses._base_response import EC2BaseResponse

from drs_parity.world import ec2_serializer
from drs_parity.world.world import World
from tests.harness.world.ec2_answers import ec2_operations

Serialised = tuple[str, dict[str, Any], dict[str, Any]]  # operation, planned answer, moto's answer


@pytest.fixture
def serialised() -> Iterator[list[Serialised]]:
    """A started moto world whose EC2 answers are each serialised both ways, and the pairs."""
    pairs: list[Serialised] = []

    class Comparing(ec2_serializer.planned_ec2_serializer()):  # type: ignore[misc]
        def serialize(self, result: Any) -> Any:
            moto = serialize.EC2Serializer(self.operation_model, pretty_print=self.pretty_print,
                                           value_picker=self._value_picker).serialize(result)
            planned = super().serialize(result)
            pairs.append((self.operation_name, copy.deepcopy(planned), moto))
            return planned

    with World("moto"):
        assert serialize.get_serializer_class("ec2", "ec2") is ec2_serializer.planned_ec2_serializer()
        serialize.SERVICE_SPECIFIC_SERIALIZERS["ec2"]["ec2"] = Comparing  # the world's stop undoes it with its own
        yield pairs


def test_every_ec2_answer_is_motos_own(serialised: list[Serialised]) -> None:
    codes = ec2_operations(boto3.client("ec2", region_name="us-east-1"))

    assert codes == ["InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound"]
    assert {operation for operation, _, _ in serialised} >= {
        "RunInstances", "DescribeInstances", "DescribeTags", "CreateTags", "TerminateInstances",
        "DescribeInstanceStatus", "CreateVolume", "DescribeVolumes"}
    assert [operation for operation, planned, moto in serialised if planned != moto] == []
    run = next(moto["body"] for operation, _, moto in serialised if operation == "RunInstances")
    assert "<name>pending</name>" in run  # a response transformer of moto's EC2 was applied, the same way


def test_a_changed_transformer_table_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    with World("moto"):
        ec2 = boto3.client("ec2", region_name="us-east-1")
        described = changed_transformer_answers(ec2, monkeypatch)
    assert described == ["m1.small", "x1.changed"]


def changed_transformer_answers(ec2: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An instance's type as described before and after a transformer of the type is added to moto's table."""
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]]
    described = [ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"][0]["InstanceType"]]
    # moto's EC2 responses add transformers to their shared table at run time (VPC peering does)
    monkeypatch.setitem(EC2BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER, "Instance.InstanceType",
                        lambda _: "x1.changed")
    described.append(ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"][0]["InstanceType"])
    return described


def test_members_are_planned_once_not_looked_up_per_object(monkeypatch: pytest.MonkeyPatch) -> None:
    with World("moto") as world:
        ec2 = world.client("ec2")
        ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3)["Instances"]]
        first = ec2.describe_instances(InstanceIds=ids)
        contexts: list[Any] = []
        real_context = serialize.AttributePickerContext
        monkeypatch.setattr(serialize, "AttributePickerContext",
                            lambda *args, **kwargs: contexts.append(1) or real_context(*args, **kwargs))
        again = ec2.describe_instances(InstanceIds=ids)
    assert contexts == []  # moto makes one per member of every object: ~150 an instance
    assert again["Reservations"] == first["Reservations"]


def test_moto_serialiser_is_back_after_the_world_stops() -> None:
    before = {service: dict(protocols) for service, protocols in serialize.SERVICE_SPECIFIC_SERIALIZERS.items()}
    with World("moto"):
        assert serialize.get_serializer_class("ec2", "ec2") is ec2_serializer.planned_ec2_serializer()
    assert serialize.SERVICE_SPECIFIC_SERIALIZERS == before
    assert serialize.get_serializer_class("ec2", "ec2") is serialize.EC2Serializer
