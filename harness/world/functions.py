"""What the function host knows: deployed functions, schedule rules and their targets, invocations, API answers."""

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


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str
