"""Protection group operations."""

from shared import config
from shared.accounts import AccountContexts
from shared.api import Request, Response
from shared.catalogue import get_or_404, new_item, replace_item
from shared.domain.validation import required_integer
from shared.drs_gateway import DrsGateway
from shared.errors import ApiError
from shared.repositories import Item, protection_groups, recovery_plans

import rules

NOT_FOUND = "PROTECTION_GROUP_NOT_FOUND"


def _find(group_id: str) -> Item:
    return get_or_404(protection_groups(), group_id, NOT_FOUND, "Protection group")


def _check_name_and_servers(group: Item, own_id: str | None) -> None:
    existing = protection_groups().list_all()
    rules.ensure_unique_name(existing, "groupName", "groupId", group["groupName"], own_id, "protection group")
    if "sourceServerIds" in group:
        _ensure_servers_exist(group)


def _ensure_servers_exist(group: Item) -> None:
    drs = DrsGateway(AccountContexts())
    found = drs.describe_source_servers(group["accountId"], group["region"], group["sourceServerIds"])
    missing = sorted(set(group["sourceServerIds"]) - {server["sourceServerID"] for server in found})
    if missing:
        raise ApiError(400, "INVALID_SOURCE_SERVERS", f"Source servers not found in DRS: {', '.join(missing)}")


def create(request: Request) -> Response:
    group = rules.validate_group(request.body, config.own_account_id())
    _check_name_and_servers(group, None)
    return Response(201, new_item(protection_groups(), group))


def list_all(_: Request) -> Response:
    groups = rules.sorted_by_name(protection_groups().list_all(), "groupName", "groupId")
    return Response(200, {"protectionGroups": groups, "count": len(groups)})


def get(request: Request) -> Response:
    return Response(200, _find(request.path_params["id"]))


def update(request: Request) -> Response:
    stored = _find(request.path_params["id"])
    version = required_integer(request.body.get("version"), "version")
    group = rules.validate_group(rules.merge_group_update(stored, request.body), config.own_account_id())
    rules.ensure_version(version, stored["version"])
    _check_name_and_servers(group, stored["groupId"])
    return Response(200, replace_item(protection_groups(), stored, group))


def delete(request: Request) -> Response:
    group_id = _find(request.path_params["id"])["groupId"]
    users = [plan for plan in recovery_plans().list_all() if _references(plan, group_id)]
    if users:
        first = rules.sorted_by_name(users, "planName", "planId")[0]
        raise ApiError(409, "PROTECTION_GROUP_IN_USE",
                       f"Protection group {group_id} is used by recovery plan {first['planName']}")
    protection_groups().delete(group_id)
    return Response(200, {"message": "Protection group deleted", "groupId": group_id})


def _references(plan: Item, group_id: str) -> bool:
    return any(wave.get("protectionGroupId") == group_id for wave in plan.get("waves", []))
