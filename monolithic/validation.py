"""Request validation, pure: field checks in the contract's order with its exact messages."""

from __future__ import annotations

import re
from typing import Any, Mapping

from errors import validation_error

MAX_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 1024
MAX_SERVERS_PER_GROUP = 200
MAX_WAVES = 20
EXECUTION_TYPES = ("DRILL", "RECOVERY")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# re.ASCII: \d must not accept other scripts' digits
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d", re.ASCII)
ACCOUNT_PATTERN = re.compile(r"\d{12}", re.ASCII)
SOURCE_SERVER_PATTERN = re.compile(r"s-[0-9a-f]{17}")
PAGE_SIZE_PATTERN = re.compile(r"[0-9]+")

GROUP_FIELDS = ("groupName", "description", "region", "accountId", "sourceServerIds", "serverSelectionTags")
PLAN_FIELDS = ("planName", "description", "waves")
_TYPE_NAMES = {str: "a string", bool: "a boolean", list: "a list", dict: "an object", int: "an integer"}


# -- generic field checks (a null value counts as absent) -----------------------------------------------------------
def _is_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _typed(value: Any, expected: type, label: str) -> Any:
    if not _is_type(value, expected):
        raise validation_error(f"{label} must be {_TYPE_NAMES[expected]}")
    return value


def required(body: Mapping[str, Any], field: str, expected: type, label: str | None = None) -> Any:
    label = label or field
    if body.get(field) is None:
        raise validation_error(f"{label} is required")
    return _typed(body[field], expected, label)


def optional(body: Mapping[str, Any], field: str, expected: type, default: Any, label: str | None = None) -> Any:
    if body.get(field) is None:
        return default
    return _typed(body[field], expected, label or field)


def _non_empty_string(body: Mapping[str, Any], field: str, label: str | None = None) -> str:
    """A required string, returned as given; blank (after strip) is refused before any format or length check."""
    label = label or field
    value = required(body, field, str, label)
    if not value.strip():
        raise validation_error(f"{label} must not be empty")
    return value


def _bounded_name(body: Mapping[str, Any], field: str) -> str:
    name = _non_empty_string(body, field).strip()
    if len(name) > MAX_NAME_LENGTH:
        raise validation_error(f"{field} must be at most {MAX_NAME_LENGTH} characters")
    return name


def _description(body: Mapping[str, Any]) -> str:
    description = optional(body, "description", str, "")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise validation_error(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return description


def version_of(body: Mapping[str, Any]) -> int:
    return required(body, "version", int)


# -- protection groups ------------------------------------------------------------------------------------------------
def _region(body: Mapping[str, Any]) -> str:
    region = _non_empty_string(body, "region")
    if not REGION_PATTERN.fullmatch(region):
        raise validation_error("region must be a valid AWS region")
    return region


def _account_id(body: Mapping[str, Any], default_account_id: str) -> str:
    account_id = optional(body, "accountId", str, None)
    if account_id is None:
        return default_account_id
    if not ACCOUNT_PATTERN.fullmatch(account_id):
        raise validation_error("accountId must be a 12-digit AWS account id")
    return account_id


def _source_server_ids(value: Any) -> list[str]:
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_SERVERS_PER_GROUP
            or not all(isinstance(item, str) for item in value)):
        raise validation_error(f"sourceServerIds must be a list of 1 to {MAX_SERVERS_PER_GROUP} source server ids")
    for server_id in value:
        if not SOURCE_SERVER_PATTERN.fullmatch(server_id):
            raise validation_error(f"sourceServerIds contains an invalid id: {server_id}")
    if len(set(value)) != len(value):
        raise validation_error("sourceServerIds contains duplicates")
    return list(value)


def _selection_tags(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value or not all(isinstance(tag, str) for tag in value.values()):
        raise validation_error("serverSelectionTags must be a non-empty object of string values")
    return dict(value)


def _server_selection(body: Mapping[str, Any]) -> dict[str, Any]:
    has_ids = body.get("sourceServerIds") is not None
    has_tags = body.get("serverSelectionTags") is not None
    if has_ids and has_tags:
        raise validation_error("sourceServerIds and serverSelectionTags are mutually exclusive")
    if has_ids:
        return {"sourceServerIds": _source_server_ids(body["sourceServerIds"])}
    if has_tags:
        return {"serverSelectionTags": _selection_tags(body["serverSelectionTags"])}
    raise validation_error("sourceServerIds or serverSelectionTags is required")


def validate_group(body: Mapping[str, Any], default_account_id: str) -> dict[str, Any]:
    """The group's stored fields, or the first failing check as a 400."""
    return {
        "groupName": _bounded_name(body, "groupName"),
        "description": _description(body),
        "region": _region(body),
        "accountId": _account_id(body, default_account_id),
        **_server_selection(body),
    }


def merge_group(stored: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored group overlaid with the given fields; giving one server selection drops the other."""
    given = {field: body[field] for field in GROUP_FIELDS if body.get(field) is not None}
    merged = {field: stored.get(field) for field in GROUP_FIELDS}
    if "sourceServerIds" in given:
        merged["serverSelectionTags"] = None
    if "serverSelectionTags" in given:
        merged["sourceServerIds"] = None
    merged.update(given)
    return merged


# -- recovery plans ---------------------------------------------------------------------------------------------------
def _wave(raw: Any, index: int) -> dict[str, Any]:
    label = f"waves[{index}]"
    if not isinstance(raw, dict):
        raise validation_error(f"{label} must be an object")
    return {
        "waveNumber": index,
        "waveName": _non_empty_string(raw, "waveName", f"{label}.waveName").strip(),
        "protectionGroupId": _non_empty_string(raw, "protectionGroupId", f"{label}.protectionGroupId"),
        "pauseBeforeWave": optional(raw, "pauseBeforeWave", bool, False, f"{label}.pauseBeforeWave"),
    }


def _waves(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    if body.get("waves") is None:
        raise validation_error("waves is required")
    waves = body["waves"]
    if not isinstance(waves, list) or not 1 <= len(waves) <= MAX_WAVES:
        raise validation_error(f"waves must be a list of 1 to {MAX_WAVES} waves")
    return [_wave(raw, index) for index, raw in enumerate(waves)]


def validate_plan(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"planName": _bounded_name(body, "planName"), "description": _description(body), "waves": _waves(body)}


def merge_plan(stored: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    merged = {field: stored.get(field) for field in PLAN_FIELDS}
    merged.update({field: body[field] for field in PLAN_FIELDS if body.get(field) is not None})
    return merged


# -- executions -------------------------------------------------------------------------------------------------------
def validate_execution_start(body: Mapping[str, Any], claimed_email: str | None) -> tuple[str, str, str]:
    """(planId, executionType, initiatedBy) of a POST /executions."""
    plan_id = _non_empty_string(body, "planId")
    if body.get("executionType") is None:
        raise validation_error("executionType is required")
    execution_type = body["executionType"]
    if execution_type not in EXECUTION_TYPES:
        raise validation_error(f"executionType must be one of {', '.join(EXECUTION_TYPES)}")
    initiated_by = optional(body, "initiatedBy", str, claimed_email or "unknown")
    return plan_id, execution_type, initiated_by


def page_request(query: Mapping[str, str]) -> tuple[int, str | None]:
    """(limit, nextToken) of a GET /executions."""
    raw_limit = query.get("limit")
    if raw_limit is None:
        return DEFAULT_PAGE_SIZE, query.get("nextToken")
    if not PAGE_SIZE_PATTERN.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
        raise validation_error(f"limit must be an integer between 1 and {MAX_PAGE_SIZE}")
    return int(raw_limit), query.get("nextToken")
