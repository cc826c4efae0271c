"""moto's DescribeInstances by id, found through a set: moto's own reservations and errors, without the list scans."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from moto.ec2.models.instances import InstanceBackend

from drs_parity.world import ec2_lookups
from drs_parity.world.world import World

MOTO_LOOKUP = InstanceBackend.__dict__["get_reservations_by_instance_ids"]  # before any world replaces it


class CountingList(list):  # type: ignore[type-arg]
    """The asked ids, counting how often they are scanned for one id."""

    scans = 0

    def __contains__(self, item: object) -> bool:
        type(self).scans += 1
        return super().__contains__(item)


@pytest.fixture
def ec2() -> Iterator[tuple[Any, list[str]]]:
    """moto's us-east-1 EC2 backend with 5 reservations (one of 3 instances, tagged), and the 7 instance ids."""
    from moto.ec2.models import ec2_backends

    with World("moto") as world:
        client = world.client("ec2")
        tags = [{"ResourceType": "instance", "Tags": [{"Key": "Tier", "Value": "web"}]}]
        made = [client.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count,
                                     TagSpecifications=tags if count == 3 else [])
                for count in (1, 3, 1, 1, 1)]
        yield ec2_backends["123456789012"]["us-east-1"], [i["InstanceId"] for r in made for i in r["Instances"]]


def outcome(lookup: Any, backend: Any, ids: list[str], filters: Any) -> Any:
    """The reservations' ids and instance ids found, or the error's type and message."""
    try:
        found = lookup(backend, list(ids), filters)
    except Exception as error:  # moto's errors, and what its own code raises on odd input
        return type(error).__name__, str(error)
    return [(reservation.id, [instance.id for instance in reservation.instances]) for reservation in found]


@pytest.mark.parametrize("pick, filters", [
    (lambda ids: ids, None),
    (lambda ids: [ids[5], ids[2], ids[0]], None),
    (lambda ids: ids[1:3], {"tag:Tier": ["web"]}),
    (lambda ids: ids, {"tag:Tier": ["db"]}),
    (lambda ids: ids[:2] + ["i-0123456789abcdef0"], None),
    (lambda ids: [ids[0], ids[0]], None),
], ids=["all", "some-unordered", "part-of-a-reservation-filtered", "filtered-out", "unknown-id", "repeated-id"])
def test_the_lookup_finds_what_moto_finds(ec2: tuple[Any, list[str]], pick: Any, filters: Any) -> None:
    backend, ids = ec2
    assert outcome(ec2_lookups.reservations_by_instance_ids, backend, pick(ids), filters) == \
        outcome(MOTO_LOOKUP, backend, pick(ids), filters)


def test_the_asked_ids_are_not_scanned_per_reservation(ec2: tuple[Any, list[str]]) -> None:
    backend, ids = ec2
    CountingList.scans = 0
    MOTO_LOOKUP(backend, CountingList(ids), None)
    assert CountingList.scans >= len(ids)  # moto scans the list for every instance it keeps

    CountingList.scans = 0
    found = backend.get_reservations_by_instance_ids(CountingList(ids))
    assert CountingList.scans == 0 and sum(len(reservation.instances) for reservation in found) == len(ids)


def test_moto_lookup_is_back_after_the_world_stops() -> None:
    with World("moto"):
        assert InstanceBackend.__dict__["get_reservations_by_instance_ids"] is ec2_lookups.reservations_by_instance_ids
    assert InstanceBackend.__dict__["get_reservations_by_instance_ids"] is MOTO_LOOKUP
