"""EC2 answers of every kind the reference pair and the DRS emulator see, for tests comparing two ways to write them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

SPECIAL = "a&b <c> \"d\" 'e' ]]> \t\n\r sørvér ✓ \U0001f600"  # XML's special characters, controls, unicode


def ec2_operations(ec2: Any) -> list[str]:
    """EC2 answers of every kind the reference pair and the DRS emulator see; the error codes met on the way."""
    tags = [{"Key": "Name", "Value": SPECIAL}, {"Key": "drs:source-server", "Value": "s-1 & <2>"}]
    made = [ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count, InstanceType="t3.small",
                              TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
            for count in (1, 3)]
    made.append(ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1))  # no tags at all
    ids = [instance["InstanceId"] for reservation in made for instance in reservation["Instances"]]
    ec2.describe_instances(InstanceIds=ids)
    ec2.describe_instances()
    ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")
    ec2.describe_volumes()
    ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [SPECIAL]}, {"Name": "instance-type",
                                                                                "Values": ["t3.small"]}])
    assert ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["nobody"]}])["Reservations"] == []
    ec2.describe_instances(MaxResults=5)
    ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": ids[:2]}])
    ec2.create_tags(Resources=ids[:1], Tags=[{"Key": "empty", "Value": ""}])
    ec2.terminate_instances(InstanceIds=ids[-1:])
    ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
    codes = []
    for failing in (lambda: ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"]),
                    lambda: ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"])):
        with pytest.raises(ClientError) as raised:
            failing()
        codes.append(raised.value.response["Error"]["Code"])
    return codes
