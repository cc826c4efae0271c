"""Protection groups and recovery plans: validated create/read/update/delete with optimistic versions."""

from __future__ import annotations

import uuid
from typing import Any, Mapping

import domain
import validation
from aws import AwsError
from errors import ApiError, drs_error, missing_protection_group, plan_already_executing
from repositories import ConditionFailed, _Table
from services import Services, now, own_account_id

Item = dict[str, Any]
Result = tuple[int, Any]


def active_execution(services: Services, plan_id: str) -> Item | None:
    """The plan's execution that is not final, if any (planIdIndex)."""
    return next((item for item in services.executions.of_plan(plan_id) if not domain.is_final(item)), None)


def ensure_plan_idle(services: Services, plan_id: str) -> None:
    running = active_execution(services, plan_id)
    if running is not None:
        raise plan_already_executing(plan_id, running["executionId"])


class _Catalog:
    """CRUD shared by both kinds; subclasses add their validation and cross-checks."""

    label = ""  # "Protection group"
    key = ""  # the hash key attribute
    name_field = ""
    list_field = ""
    not_found_code = ""
    repository_name = ""  # the Services attribute holding this kind's table
    merge = staticmethod(validation.merge_plan)  # stored item overlaid with a PUT body

    def __init__(self, services: Services) -> None:
        self.services = services

    def repository(self) -> _Table:
        return getattr(self.services, self.repository_name)

    def validate(self, body: Mapping[str, Any]) -> Item:
        raise NotImplementedError

    def check_references(self, fields: Item) -> None:
        """Checks against other state (DRS, other tables) once the request itself is valid."""

    def check_deletable(self, item_id: str) -> None:
        """Refuse deleting an item something else still uses."""

    def check_updatable(self, item_id: str) -> None:
        """Refuse updating an item in use (checked after the version)."""

    # -- operations -------------------------------------------------------------------------------------------------
    def list(self) -> Result:
        items = sorted(self.repository().scan_all(), key=lambda item: (item[self.name_field], item[self.key]))
        return 200, {self.list_field: items, "count": len(items)}

    def get(self, item_id: str) -> Result:
        return 200, self.require(item_id)

    def require(self, item_id: str) -> Item:
        item = self.repository().get(item_id)
        if item is None:
            raise ApiError(404, self.not_found_code, f"{self.label} {item_id} not found")
        return item

    def create(self, body: Mapping[str, Any]) -> Result:
        fields = self.validate(body)
        self._ensure_name_free(fields[self.name_field], None)
        self.check_references(fields)
        moment = now()
        item = {self.key: str(uuid.uuid4()), **fields, "createdDate": moment, "lastModifiedDate": moment,
                "version": 1}
        self.repository().put_new(item)
        return 201, item

    def update(self, item_id: str, body: Mapping[str, Any]) -> Result:
        stored = self.require(item_id)
        version = validation.version_of(body)
        fields = self.validate(self.merge(stored, body))
        if version != stored["version"]:
            raise self._version_conflict(version, stored["version"])
        self.check_updatable(item_id)
        self._ensure_name_free(fields[self.name_field], item_id)
        self.check_references(fields)
        item = {self.key: item_id, **fields, "createdDate": stored["createdDate"], "lastModifiedDate": now(),
                "version": stored["version"] + 1}
        try:
            self.repository().replace_version(item, stored["version"])
        except ConditionFailed:
            current = self.repository().get(item_id) or stored
            raise self._version_conflict(version, current["version"]) from None
        return 200, item

    def delete(self, item_id: str) -> Result:
        self.require(item_id)
        self.check_deletable(item_id)
        self.repository().delete(item_id)
        return 200, {"message": f"{self.label} deleted", self.key: item_id}

    # -- helpers ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _version_conflict(given: int, stored: int) -> ApiError:
        return ApiError(409, "VERSION_CONFLICT", f"Version {given} does not match current version {stored}")

    def _ensure_name_free(self, name: str, own_id: str | None) -> None:
        wanted = name.casefold()  # Unicode caseless matching ("Straße" clashes with "STRASSE")
        for item in self.repository().scan_all():
            if item[self.key] != own_id and str(item[self.name_field]).casefold() == wanted:
                raise ApiError(409, "DUPLICATE_NAME", f"A {self.label.lower()} named {name} already exists")


class ProtectionGroupCatalog(_Catalog):
    label, key, name_field = "Protection group", "groupId", "groupName"
    list_field, not_found_code = "protectionGroups", "PROTECTION_GROUP_NOT_FOUND"
    repository_name, merge = "groups", staticmethod(validation.merge_group)

    def validate(self, body: Mapping[str, Any]) -> Item:
        return validation.validate_group(body, own_account_id())

    def check_references(self, fields: Item) -> None:
        server_ids = fields.get("sourceServerIds")
        if not server_ids:
            return  # tag groups are resolved when an execution starts
        try:
            found = self.services.drs.describe_source_servers(fields["accountId"], fields["region"], server_ids)
        except AwsError as error:
            raise drs_error(error.code, error.message) from None
        missing = sorted(set(server_ids) - {server["sourceServerID"] for server in found})
        if missing:
            raise ApiError(400, "INVALID_SOURCE_SERVERS", f"Source servers not found in DRS: {', '.join(missing)}")

    def check_deletable(self, item_id: str) -> None:
        users = [plan for plan in self.services.plans.scan_all()
                 if any(wave.get("protectionGroupId") == item_id for wave in plan.get("waves", []))]
        if users:
            first = min(users, key=lambda plan: (plan["planName"], plan["planId"]))
            raise ApiError(409, "PROTECTION_GROUP_IN_USE",
                           f"Protection group {item_id} is used by recovery plan {first['planName']}")


class RecoveryPlanCatalog(_Catalog):
    label, key, name_field = "Recovery plan", "planId", "planName"
    list_field, not_found_code = "recoveryPlans", "RECOVERY_PLAN_NOT_FOUND"
    repository_name, merge = "plans", staticmethod(validation.merge_plan)

    def validate(self, body: Mapping[str, Any]) -> Item:
        return validation.validate_plan(body)

    def check_references(self, fields: Item) -> None:
        for group_id in dict.fromkeys(wave["protectionGroupId"] for wave in fields["waves"]):
            if self.services.groups.get(group_id) is None:
                raise missing_protection_group(group_id)

    def check_updatable(self, item_id: str) -> None:
        ensure_plan_idle(self.services, item_id)

    def check_deletable(self, item_id: str) -> None:
        ensure_plan_idle(self.services, item_id)
