"""What the function host knows: deployed functions and schedule rules (read from the backend), invocations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DeployedFunction:
    name: str
    arn: str
    handler: str
    environment: dict[str, str] = field(default_factory=dict)
    role_arn: str = ""
    logical_id: str = ""
    memory_size: int = 128
    timeout: int = 3
    runtime: str = "python3.11"
    code: Path | None = None  # its code folder; None: the directory you run in
    layers: tuple[Path, ...] = ()  # what its layers put on the import path, in the order of its Layers


@dataclass
class RuleTarget:
    id: str
    arn: str
    input: str | None = None


@dataclass
class ScheduleRule:
    name: str
    arn: str
    expression: str
    state: str = "ENABLED"
    targets: list[RuleTarget] = field(default_factory=list)
    logical_id: str = ""


@dataclass
class Invocation:
    function: str
    trigger: str  # 'api' | 'invoke' | 'event' | 'schedule' | 'direct' | 'stepfunctions'
    event: Any
    request_id: str
    started: float | None = None
    ended: float | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None
    result: Any = None
    stack_trace: list[str] = field(default_factory=list)
    slept: float = 0.0  # seconds the handler asked to sleep (botocore retry back-off included); none really pass
    attempt: int = 1  # of an asynchronous event: 2 and 3 are Lambda's retries after a failure
    duplicate: bool = False  # a second delivery of an asynchronous event (the same request id)
    timeout_after_calls: int | None = None  # a scripted timeout: the AWS calls that complete before Lambda ends it


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str


def read_function(lambda_client: Any, name: str, logical_id: str) -> DeployedFunction:
    """A deployed function as the backend describes it (its code comes from the stack, not from here)."""
    config = lambda_client.get_function_configuration(FunctionName=name)
    return DeployedFunction(
        name=config["FunctionName"], arn=config["FunctionArn"], handler=config["Handler"],
        environment=dict(config.get("Environment", {}).get("Variables", {})), role_arn=config.get("Role", ""),
        logical_id=logical_id, memory_size=int(config.get("MemorySize", 128)),
        timeout=int(config.get("Timeout", 3)), runtime=config.get("Runtime", ""),
    )


def read_rule(events_client: Any, physical_id: str, logical_id: str) -> ScheduleRule | None:
    """A schedule rule and its targets as the backend describes them; None for an event-pattern rule."""
    name = physical_id.rsplit("/", 1)[-1]  # the physical id is the name (moto) or the ARN
    rule = events_client.describe_rule(Name=name)
    if not rule.get("ScheduleExpression"):
        return None  # an event-pattern rule: nothing fires it on a clock
    targets = events_client.list_targets_by_rule(Rule=name)["Targets"]
    return ScheduleRule(
        name=rule["Name"], arn=rule["Arn"], expression=rule["ScheduleExpression"], state=rule["State"],
        targets=[RuleTarget(target["Id"], target["Arn"], target.get("Input")) for target in targets],
        logical_id=logical_id,
    )
