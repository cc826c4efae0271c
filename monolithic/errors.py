"""The API's error answers: an exception carrying the HTTP status, the contract's error code and its message."""

from __future__ import annotations


class ApiError(Exception):
    """Raised anywhere below the router; the router turns it into `{"error": code, "message": message}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation_error(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def invalid_state(message: str) -> ApiError:
    return ApiError(409, "INVALID_STATE", message)


def plan_already_executing(plan_id: str, execution_id: str) -> ApiError:
    return ApiError(409, "PLAN_ALREADY_EXECUTING", f"Recovery plan {plan_id} has an active execution {execution_id}")


def missing_protection_group(group_id: str) -> ApiError:
    return ApiError(400, "INVALID_PROTECTION_GROUP", f"Protection group {group_id} not found")


def too_many_servers(group_id: str, count: int, limit: int) -> ApiError:
    return ApiError(400, "INVALID_PROTECTION_GROUP",
                    f"Protection group {group_id} selects {count} source servers; a wave takes at most {limit}")


def drs_error(code: str, message: str) -> ApiError:
    return ApiError(502, "DRS_ERROR", f"{code}: {message}")
