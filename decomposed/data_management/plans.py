"""Recovery plan operations."""

from shared.api import Request, Response
from shared.catalogue import get_or_404, new_item, replace_item
from shared.domain.validation import required_integer
from shared.errors import ApiError
from shared.executions import ensure_plan_not_executing
from shared.repositories import Item, protection_groups, recovery_plans

import rules


def _find(plan_id: str) -> Item:
    return get_or_404(recovery_plans(), plan_id, "RECOVERY_PLAN_NOT_FOUND", "Recovery plan")


def _check_name_and_groups(plan: Item, own_id: str | None) -> None:
    existing = recovery_plans().list_all()
    rules.ensure_unique_name(existing, "planName", "planId", plan["planName"], own_id, "recovery plan")
    groups = protection_groups()
    for wave in plan["waves"]:
        if groups.get(wave["protectionGroupId"]) is None:
            raise ApiError(400, "INVALID_PROTECTION_GROUP", f"Protection group {wave['protectionGroupId']} not found")


def create(request: Request) -> Response:
    plan = rules.validate_plan(request.body)
    _check_name_and_groups(plan, None)
    return Response(201, new_item(recovery_plans(), plan))


def list_all(_: Request) -> Response:
    plans = rules.sorted_by_name(recovery_plans().list_all(), "planName", "planId")
    return Response(200, {"recoveryPlans": plans, "count": len(plans)})


def get(request: Request) -> Response:
    return Response(200, _find(request.path_params["id"]))


def update(request: Request) -> Response:
    stored = _find(request.path_params["id"])
    version = required_integer(request.body.get("version"), "version")
    plan = rules.validate_plan(rules.merge_plan_update(stored, request.body))
    rules.ensure_version(version, stored["version"])
    ensure_plan_not_executing(stored["planId"])
    _check_name_and_groups(plan, stored["planId"])
    return Response(200, replace_item(recovery_plans(), stored, plan))


def delete(request: Request) -> Response:
    plan_id = _find(request.path_params["id"])["planId"]
    ensure_plan_not_executing(plan_id)
    recovery_plans().delete(plan_id)
    return Response(200, {"message": "Recovery plan deleted", "planId": plan_id})
