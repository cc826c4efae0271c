"""What makes a protection group or a recovery plan valid (pure; no AWS)."""

import re
from typing import Any

from shared.domain.validation import (
    optional_boolean,
    optional_string,
    required,
    required_string,
)
from shared.errors import ApiError, ValidationError

Fields = dict[str, Any]

NAME_MAX_LENGTH = 128
DESCRIPTION_MAX_LENGTH = 1024
MAX_SERVERS_PER_GROUP = 200
MAX_WAVES_PER_PLAN = 20
# Used with fullmatch: "$" would accept a trailing newline, and "\d" other scripts' digits.
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
SOURCE_SERVER_ID_PATTERN = re.compile(r"s-[0-9a-f]{17}")

GROUP_FIELDS = ("groupName", "description", "region", "accountId", "sourceServerIds", "serverSelectionTags")
PLAN_FIELDS = ("planName", "description", "waves")
SERVER_SELECTIONS = ("sourceServerIds", "serverSelectionTags")


def _given(body: Fields, names: tuple[str, ...]) -> Fields:
    """The fields a PUT body gives: a JSON null counts as not given (the stored value stays)."""
    return {name: body[name] for name in names if body.get(name) is not None}


def merge_group_update(stored: Fields, body: Fields) -> Fields:
    """The stored group overlaid with the given fields; giving one server selection drops the other."""
    given = _given(body, GROUP_FIELDS)
    merged = {name: stored.get(name) for name in GROUP_FIELDS}
    if any(name in given for name in SERVER_SELECTIONS):
        merged.update(sourceServerIds=None, serverSelectionTags=None)
    merged.update(given)
    return merged


def merge_plan_update(stored: Fields, body: Fields) -> Fields:
    merged = {name: stored.get(name) for name in PLAN_FIELDS}
    merged.update(_given(body, PLAN_FIELDS))
    return merged


def validate_group(fields: Fields, default_account_id: str) -> Fields:
    """The group's stored fields (name stripped, defaults applied, only the given server selection)."""
    group: Fields = {
        "groupName": required_string(fields.get("groupName"), "groupName", NAME_MAX_LENGTH).strip(),
        "description": optional_string(fields.get("description"), "description", "", DESCRIPTION_MAX_LENGTH),
        "region": _region(fields.get("region")),
        "accountId": _account_id(fields.get("accountId"), default_account_id),
    }
    group.update(_server_selection(fields.get("sourceServerIds"), fields.get("serverSelectionTags")))
    return group


def _region(value: Any) -> str:
    region = required_string(value, "region")
    if not REGION_PATTERN.fullmatch(region):
        raise ValidationError("region must be a valid AWS region")
    return region


def _account_id(value: Any, default: str) -> str:
    account_id = optional_string(value, "accountId", default)
    if not ACCOUNT_ID_PATTERN.fullmatch(account_id or ""):
        raise ValidationError("accountId must be a 12-digit AWS account id")
    return str(account_id)


def _server_selection(server_ids: Any, selection_tags: Any) -> Fields:
    if server_ids is None and selection_tags is None:
        raise ValidationError("sourceServerIds or serverSelectionTags is required")
    if server_ids is not None and selection_tags is not None:
        raise ValidationError("sourceServerIds and serverSelectionTags are mutually exclusive")
    if server_ids is not None:
        return {"sourceServerIds": _source_server_ids(server_ids)}
    return {"serverSelectionTags": _selection_tags(selection_tags)}


def _source_server_ids(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_SERVERS_PER_GROUP
        or not all(isinstance(server_id, str) for server_id in value)
    ):
        raise ValidationError("sourceServerIds must be a list of 1 to 200 source server ids")
    for server_id in value:
        if not SOURCE_SERVER_ID_PATTERN.fullmatch(server_id):
            raise ValidationError(f"sourceServerIds contains an invalid id: {server_id}")
    if len(set(value)) != len(value):
        raise ValidationError("sourceServerIds contains duplicates")
    return list(value)


def _selection_tags(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value or not all(isinstance(tag, str) for tag in value.values()):
        raise ValidationError("serverSelectionTags must be a non-empty object of string values")
    return dict(value)


def validate_plan(fields: Fields) -> Fields:
    """The plan's stored fields: name stripped, waves numbered by position."""
    return {
        "planName": required_string(fields.get("planName"), "planName", NAME_MAX_LENGTH).strip(),
        "description": optional_string(fields.get("description"), "description", "", DESCRIPTION_MAX_LENGTH),
        "waves": _waves(fields.get("waves")),
    }


def _waves(value: Any) -> list[Fields]:
    required(value, "waves")
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_WAVES_PER_PLAN:
        raise ValidationError("waves must be a list of 1 to 20 waves")
    return [_wave(index, wave) for index, wave in enumerate(value)]


def _wave(index: int, wave: Any) -> Fields:
    label = f"waves[{index}]"
    if not isinstance(wave, dict):
        raise ValidationError(f"{label} must be an object")
    return {
        "waveNumber": index,
        "waveName": required_string(wave.get("waveName"), f"{label}.waveName").strip(),
        "protectionGroupId": required_string(wave.get("protectionGroupId"), f"{label}.protectionGroupId"),
        "pauseBeforeWave": optional_boolean(wave.get("pauseBeforeWave"), f"{label}.pauseBeforeWave", False),
    }


def ensure_unique_name(existing: list[Fields], name_field: str, id_field: str, name: str, own_id: str | None,
                       kind: str) -> None:
    """409 DUPLICATE_NAME when another item has the name (case-insensitive)."""
    wanted = name.casefold()
    for item in existing:
        if item.get(id_field) != own_id and str(item.get(name_field, "")).strip().casefold() == wanted:
            raise ApiError(409, "DUPLICATE_NAME", f"A {kind} named {name} already exists")


def ensure_version(given: int, stored: int) -> None:
    if given != stored:
        raise ApiError(409, "VERSION_CONFLICT", f"Version {given} does not match current version {stored}")


def sorted_by_name(items: list[Fields], name_field: str, id_field: str) -> list[Fields]:
    return sorted(items, key=lambda item: (item.get(name_field, ""), item.get(id_field, "")))
