"""Recovery instances backed by real EC2 instances in moto (mock_aws), reached through the in-process transport."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from drs_parity.world.clock import VirtualClock
from drs_parity.world.drs import DrsEmulator, Ec2Launcher, RequestContext

SERVER = {"sourceServerId": "s-1234567890abcdef0", "hostname": "web-01.corp.example", "name": "web-01",
          "instanceType": "t3.large", "launch": {"status": "LAUNCHED", "seconds": 60}}
NAMELESS = {"sourceServerId": "s-1234567890abcdef1", "hostname": "db-01.corp.example",
            "launch": {"status": "LAUNCHED", "seconds": 60}}


def ec2_client(account_id: str, region: str) -> Any:
    return boto3.client("ec2", region_name=region)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def ec2_tags(instance: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}


def describe_instance(instance_id: str) -> dict[str, Any]:
    reservations = boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[instance_id])
    return reservations["Reservations"][0]["Instances"][0]


def test_launch_runs_a_tagged_instance_of_the_servers_type(aws: None) -> None:
    emulator = DrsEmulator(VirtualClock(), Ec2Launcher(ec2_client))
    emulator.load({}, [SERVER, NAMELESS], [])
    server, nameless = emulator.backend.servers_of(RequestContext("123456789012", "us-east-1"))
    facts = emulator.launcher.launch("123456789012", "us-east-1", server, True)
    instance = describe_instance(facts["instanceId"])
    assert facts["instanceType"] == instance["InstanceType"] == "t3.large"
    assert facts["privateIp"] == instance["PrivateIpAddress"] and facts["privateIp"].count(".") == 3
    assert facts["privateDnsName"] == instance["PrivateDnsName"]
    assert ec2_tags(instance) == {"Name": "web-01", "drs:source-server": SERVER["sourceServerId"]}
    unnamed = emulator.launcher.launch("123456789012", "us-east-1", nameless, False)
    assert ec2_tags(describe_instance(unnamed["instanceId"]))["Name"] == "db-01.corp.example"
    assert describe_instance(unnamed["instanceId"])["InstanceType"] == "t3.medium"


def test_drill_through_boto3_creates_and_terminates_ec2_instances(aws: None) -> None:
    clock = VirtualClock()
    emulator = DrsEmulator(clock, Ec2Launcher(ec2_client))
    emulator.load({"jobStartSeconds": 10, "jobEndSeconds": 10}, [SERVER], [])
    unregister = emulator.install_inprocess()
    try:
        with clock.installed():
            drill_then_terminate(clock)
    finally:
        unregister()


def drill_then_terminate(clock: VirtualClock) -> None:
    drs = boto3.client("drs", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    job_id = drs.start_recovery(sourceServers=[{"sourceServerID": SERVER["sourceServerId"]}],
                                isDrill=True)["job"]["jobID"]
    clock.advance(100)
    job = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    instance_id = job["participatingServers"][0]["recoveryInstanceID"]
    instance = describe_instance(instance_id)
    assert instance["State"]["Name"] == "running" and instance["InstanceType"] == "t3.large"
    # launched by a clock timer at start + jobStartSeconds + launch seconds, not when someone asked
    assert instance["LaunchTime"].timestamp() == clock.start + 10 + 60
    drs.terminate_recovery_instances(recoveryInstanceIDs=[instance_id])
    clock.advance(10)
    assert drs.describe_recovery_instances()["items"] == []
    assert describe_instance(instance_id)["State"]["Name"] == "terminated"
