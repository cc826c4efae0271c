"""Entry point of DataManagementFunction: the protection-group and recovery-plan routes."""

from typing import Any

from shared.api import Router

import groups
import plans

router = Router()
router.route("GET", "/protection-groups")(groups.list_all)
router.route("POST", "/protection-groups", takes_body=True)(groups.create)
router.route("GET", "/protection-groups/{id}")(groups.get)
router.route("PUT", "/protection-groups/{id}", takes_body=True)(groups.update)
router.route("DELETE", "/protection-groups/{id}")(groups.delete)
router.route("GET", "/recovery-plans")(plans.list_all)
router.route("POST", "/recovery-plans", takes_body=True)(plans.create)
router.route("GET", "/recovery-plans/{id}")(plans.get)
router.route("PUT", "/recovery-plans/{id}", takes_body=True)(plans.update)
router.route("DELETE", "/recovery-plans/{id}")(plans.delete)


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return router.handle(event)
