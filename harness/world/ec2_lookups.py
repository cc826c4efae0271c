"""moto's DescribeInstances by instance id, without scanning the asked ids once per reservation and per instance."""

# What moto does: InstanceBackend.get_reservations_by_instance_ids checks, for every reservation of the region,
# whether any asked id is in that reservation's id list, then keeps the instances whose id is in the asked *list*:
# O(reservations x ids) per call. The DRS emulator launches one reservation per recovery instance, and the poller
# asks for up to 1,000 ids a call, which moto answers in pages of 100 reservations, each page redoing the scan:
# 0.23 s a page at 1,000 instances, ten pages a poll.
# What we do: the same walk with the asked ids in a set; the same reservations (moto's shallow copies), the same
# instances in the same order, the same error for an unknown id, the same filters.
# Suggested to moto: `set(instance_ids)` in get_reservations_by_instance_ids.

from __future__ import annotations

from typing import Any, Callable

from drs_parity.world.shared_patch import SharedPatch, patch_attribute


def reservations_by_instance_ids(backend: Any, instance_ids: list[str], filters: Any = None) -> list[Any]:
    """moto.ec2.models.instances.InstanceBackend.get_reservations_by_instance_ids, with the asked ids in a set."""
    from moto.ec2.exceptions import InvalidInstanceIdError  # moto's EC2: only a moto world needs it
    from moto.ec2.utils import filter_reservations

    wanted = set(instance_ids)
    reservations = []
    for reservation in backend.all_reservations():
        if any(instance.id in wanted for instance in reservation.instances):
            reservation.instances = [instance for instance in reservation.instances if instance.id in wanted]
            reservations.append(reservation)
    found_instance_ids = [instance.id for reservation in reservations for instance in reservation.instances]
    if len(found_instance_ids) != len(instance_ids):  # moto's own check and choice of the id it names
        invalid_id = list(set(instance_ids).difference(set(found_instance_ids)))[0]
        raise InvalidInstanceIdError(invalid_id)
    if filters is not None:
        reservations = filter_reservations(reservations, filters)
    return reservations


def install_fast_ec2_lookups() -> Callable[[], None]:
    """Replace moto's lookup (once for any number of worlds); returns this world's undo."""
    return _PATCH.install()


def _swap_lookup() -> Callable[[], None]:
    from moto.ec2.models.instances import InstanceBackend  # as above

    return patch_attribute(InstanceBackend, "get_reservations_by_instance_ids", reservations_by_instance_ids)


_PATCH = SharedPatch(_swap_lookup)
