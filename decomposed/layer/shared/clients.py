"""boto3 clients for the function's own credentials, created on first use and cached for the process."""

import os
from typing import Any

import boto3

from shared import config

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_resources: dict[tuple[str | None, str | None], Any] = {}
_tables: dict[tuple[tuple[str | None, str | None], str], Any] = {}


def _credentials_key() -> str | None:
    # Keyed by the credentials in effect so a client never outlives the credentials it was built with.
    return os.environ.get("AWS_ACCESS_KEY_ID")


def client(service: str, region: str | None = None) -> Any:
    key = (service, region or config.default_region(), _credentials_key())
    if key not in _clients:
        _clients[key] = boto3.client(service, region_name=key[1])
    return _clients[key]


def dynamodb_table(name: str) -> Any:
    """The Table resource, cached: boto3 builds a new Table class on every .Table() call."""
    key = (config.default_region(), _credentials_key())
    if (key, name) not in _tables:
        if key not in _resources:
            _resources[key] = boto3.resource("dynamodb", region_name=key[0])
        _tables[(key, name)] = _resources[key].Table(name)
    return _tables[(key, name)]
