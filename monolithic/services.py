"""What one invocation works with: repositories, gateways, the clock and settings read from the environment."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from aws import AccountContext, DrsGateway, Ec2Gateway, FunctionInvoker
from repositories import Executions, ProtectionGroups, RecoveryPlans, TargetAccounts


def now() -> int:
    return int(time.time())


def own_account_id() -> str:
    return os.environ.get("ACCOUNT_ID", "")


def execution_timeout_seconds() -> int:
    return int(os.environ.get("EXECUTION_TIMEOUT_SECONDS", "7200"))


def own_function_name() -> str:
    return os.environ["AWS_LAMBDA_FUNCTION_NAME"]


@dataclass
class Services:
    """Built once per invocation, so assumed-role credentials never outlive the invocation."""

    groups: ProtectionGroups = field(default_factory=ProtectionGroups)
    plans: RecoveryPlans = field(default_factory=RecoveryPlans)
    executions: Executions = field(default_factory=Executions)
    target_accounts: TargetAccounts = field(default_factory=TargetAccounts)
    invoker: FunctionInvoker = field(default_factory=FunctionInvoker)
    drs: DrsGateway = field(init=False)
    ec2: Ec2Gateway = field(init=False)

    def __post_init__(self) -> None:
        accounts = AccountContext(own_account_id(), self.target_accounts.get)
        self.drs = DrsGateway(accounts)
        self.ec2 = Ec2Gateway(accounts)
