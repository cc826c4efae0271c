"""moto's state of a stopping world freed by reference counting: the cycles its EC2 models make, broken first."""

from __future__ import annotations

import sys
from typing import Any, Iterator

# moto resets a backend by dropping its state. EC2 links every instance to its network interfaces and every
# attached volume to its attachment both ways, so a world's instances (and all they hold: ~50 objects each) would
# wait for the cycle collector, promoted to older generations by then; broken here, they go when moto drops them.


def release_ec2_links() -> None:
    """Unlink EC2's instances from their network interfaces and volumes from their attachments, in every account
    and region (moto drops them next: nothing reads these links again)."""
    models = sys.modules.get("moto.ec2.models")  # never imported here: a world that used no EC2 has nothing to undo
    if models is None:
        return
    for backend in _region_backends(models.ec2_backends):
        for interface in backend.enis.values():
            interface.instance = None
        for volume in backend.volumes.values():
            volume.attachment = None


def _region_backends(backends: Any) -> Iterator[Any]:
    """The backends moto created, per account and region (dict views: looking creates none)."""
    for account in list(dict.values(backends)):
        yield from list(dict.values(account))
