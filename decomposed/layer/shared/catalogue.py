"""Lifecycle of user-managed items (groups, plans): lookup, new/updated stamps, versioned replacement."""

import time
import uuid
from typing import Any

from shared.errors import ApiError
from shared.repositories import VersionedRepository

Item = dict[str, Any]


def get_or_404(repository: VersionedRepository, item_id: str, code: str, kind: str) -> Item:
    item = repository.get(item_id)
    if item is None:
        raise ApiError(404, code, f"{kind} {item_id} not found")
    return item


def new_item(repository: VersionedRepository, fields: Item) -> Item:
    now = int(time.time())
    item = {repository.key: str(uuid.uuid4()), **fields, "createdDate": now, "lastModifiedDate": now, "version": 1}
    repository.create(item)
    return item


def replace_item(repository: VersionedRepository, stored: Item, fields: Item) -> Item:
    """Writes the updated item under the stored version; a lost race is the same 409 as a stale version."""
    item = {
        repository.key: stored[repository.key],
        **fields,
        "createdDate": stored.get("createdDate"),
        "lastModifiedDate": int(time.time()),
        "version": stored["version"] + 1,
    }
    if not repository.replace_if_version(item, stored["version"]):
        current = (repository.get(stored[repository.key]) or stored)["version"]
        raise ApiError(409, "VERSION_CONFLICT", f"Version {stored['version']} does not match current version {current}")
    return item
