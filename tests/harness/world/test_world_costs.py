"""What a world costs: one botocore session for everything in it, and a teardown that loads no EC2 images."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
from moto.ec2.models.amis import AmiBackend

from drs_parity.world.world import World


def test_teardown_loads_no_default_images(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[int] = []
    original = AmiBackend._load_amis

    def counting(self: Any) -> None:
        original(self)
        loaded.append(len(self.amis))

    monkeypatch.setattr(AmiBackend, "_load_amis", counting)
    with World("moto") as world:
        world.client("ec2").describe_instances()
        world.client("ec2", region="us-west-2").describe_instances()
        started = len(loaded)
    assert len(loaded) > started and set(loaded) == {0}  # stop re-creates the backends (moto's reset), no images


def test_one_botocore_session_per_world(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    original = botocore.session.get_session

    def counting() -> Any:
        made.append(original())
        return made[-1]

    monkeypatch.setattr(botocore.session, "get_session", counting)
    with World("moto") as world:
        for service in ("dynamodb", "lambda", "cloudformation", "ec2", "sts"):
            world.client(service)
        world.client("ec2", region="eu-west-1")
        boto3.client("dynamodb")  # as the code under test makes its clients: from boto3's default session
        boto3.resource("dynamodb")
    assert len(made) == 1
