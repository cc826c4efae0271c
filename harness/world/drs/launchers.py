"""Recovery instance launchers: real EC2 instances (Ec2Launcher; InProcessMotoLauncher, no wire) or invented ones."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any, Callable

from drs_parity.world.moto_workarounds import run_instance

from .models import SourceServer

# moto accepts any image id; this one is moto's long-standing default, used when no Amazon image is listed.
FALLBACK_IMAGE_ID = "ami-12c6146b"
IMAGE_NAME_PATTERN = "amzn2-ami-hvm-*"
SOURCE_SERVER_TAG = "drs:source-server"


def private_dns_name(region: str, private_ip: str) -> str:
    """EC2's private DNS name: ip-a-b-c-d.ec2.internal in us-east-1, <region>.compute.internal elsewhere."""
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{private_ip.replace('.', '-')}.{domain}"


class FakeLauncher:
    """Invents deterministic instance facts without any EC2 (unit tests, the standalone server)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.launched: dict[str, dict[str, str]] = {}
        self.terminated: list[str] = []

    def launch(self, account_id: str, region: str, server: SourceServer, is_drill: bool) -> dict[str, str]:
        number = next(self._counter)
        seed = f"{account_id}:{region}:{server.server_id}:{number}"
        private_ip = f"10.0.{number // 250}.{number % 250 + 4}"
        facts = {
            "instanceId": "i-" + hashlib.sha256(seed.encode()).hexdigest()[:17],
            "privateIp": private_ip,
            "instanceType": server.instance_type,
            "privateDnsName": private_dns_name(region, private_ip),
        }
        self.launched[facts["instanceId"]] = facts
        return facts

    def terminate(self, account_id: str, region: str, instance_ids: list[str]) -> None:
        self.terminated.extend(instance_ids)


def instance_tags(server: SourceServer) -> dict[str, str]:
    """The tags of a server's recovery instance: its name, and the source server it recovers."""
    return {"Name": server.display_name, SOURCE_SERVER_TAG: server.server_id}


class Ec2Launcher:
    """Runs one real EC2 instance per launched server through `client_factory(account_id, region)` -> ec2 client."""

    def __init__(self, client_factory: Callable[[str, str], Any]) -> None:
        self._client_factory = client_factory
        self._images: dict[tuple[str, str], str] = {}

    def launch(self, account_id: str, region: str, server: SourceServer, is_drill: bool) -> dict[str, str]:
        ec2 = self._client_factory(account_id, region)
        tags = [{"Key": key, "Value": value} for key, value in instance_tags(server).items()]
        reservation = ec2.run_instances(
            ImageId=self._image_id(ec2, account_id, region), InstanceType=server.instance_type,
            MinCount=1, MaxCount=1, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        launched = reservation["Instances"][0]  # RunInstances already answers with the facts we need
        return {
            "instanceId": launched["InstanceId"],
            "privateIp": launched["PrivateIpAddress"],
            "instanceType": launched["InstanceType"],
            "privateDnsName": launched["PrivateDnsName"],
        }

    def terminate(self, account_id: str, region: str, instance_ids: list[str]) -> None:
        if instance_ids:
            self._client_factory(account_id, region).terminate_instances(InstanceIds=instance_ids)

    def _image_id(self, ec2: Any, account_id: str, region: str) -> str:
        key = (account_id, region)
        if key not in self._images:
            self._images[key] = self._find_image(ec2)
        return self._images[key]

    @staticmethod
    def _find_image(ec2: Any) -> str:
        # A filtered listing is fast on moto and LocalStack; the unfiltered one lists ~1000 images.
        filters = [{"Name": "name", "Values": [IMAGE_NAME_PATTERN]}]
        images = ec2.describe_images(Owners=["amazon"], Filters=filters)["Images"]
        return min((image["ImageId"] for image in images), default=FALLBACK_IMAGE_ID)


class InProcessMotoLauncher(Ec2Launcher):
    """Ec2Launcher for a moto running in this process: the instance RunInstances would make, made by moto's EC2 model
    without the request's round trip through botocore and moto's serialiser (moto_workarounds.run_instance)."""

    def launch(self, account_id: str, region: str, server: SourceServer, is_drill: bool) -> dict[str, str]:
        image_id = self._image_id(self._client_factory(account_id, region), account_id, region)
        return run_instance(account_id, region, image_id, server.instance_type, instance_tags(server))
