"""Settings from the environment, read at call time because the platform sets them per invocation."""

import os

DEFAULT_EXECUTION_TIMEOUT_SECONDS = 7200


def _table_name(variable: str, short_name: str) -> str:
    environment = os.environ.get("ENVIRONMENT", "test")
    return os.environ.get(variable) or f"drs-orchestration-{short_name}-{environment}"


def protection_groups_table() -> str:
    return _table_name("PROTECTION_GROUPS_TABLE", "protection-groups")


def recovery_plans_table() -> str:
    return _table_name("RECOVERY_PLANS_TABLE", "recovery-plans")


def execution_history_table() -> str:
    return _table_name("EXECUTION_HISTORY_TABLE", "execution-history")


def target_accounts_table() -> str:
    return _table_name("TARGET_ACCOUNTS_TABLE", "target-accounts")


def own_account_id() -> str:
    return os.environ.get("ACCOUNT_ID", "")


def execution_timeout_seconds() -> int:
    return int(os.environ.get("EXECUTION_TIMEOUT_SECONDS") or DEFAULT_EXECUTION_TIMEOUT_SECONDS)


def own_function_name() -> str:
    return os.environ["AWS_LAMBDA_FUNCTION_NAME"]


def poller_function_name() -> str:
    return os.environ["POLLER_FUNCTION_NAME"]


def state_machine_arn() -> str | None:
    """The wave state machine the API starts for each execution; None: the API starts wave 0 itself."""
    return os.environ.get("STATE_MACHINE_ARN") or None


def task_tokens_table() -> str | None:
    """Where the task token of each execution's waiting wave is kept; None: no state machine runs the waves."""
    return os.environ.get("TASK_TOKENS_TABLE") or None


def default_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def log_level() -> str:
    return os.environ.get("LOG_LEVEL", "INFO").upper()
