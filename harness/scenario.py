"""The fixture scenario format: loading YAML scenarios into typed dataclasses, with errors naming file, field and problem."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, NoReturn, Sequence, TypeVar

import botocore.session
import yaml

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_INSTANCE_TYPE = "t3.medium"
DEFAULT_INITIATED_BY = "drs-parity@example.com"
DEFAULT_UNTIL_WITHIN = 30 * 60

EXECUTION_STATUSES = (
    "INITIATED", "POLLING", "PAUSED", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLING", "CANCELLED",
)
WAVE_STATUSES = ("PENDING", "STARTED", "LAUNCHING", "COMPLETED", "FAILED", "CANCELLED")
SERVER_LAUNCH_STATUSES = ("PENDING", "IN_PROGRESS", "LAUNCHED", "FAILED", "TERMINATED")
FIXTURE_LAUNCH_OUTCOMES = ("LAUNCHED", "FAILED")
EXECUTION_TYPES = ("DRILL", "RECOVERY")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
# step kind -> path below /executions/{id} (None: not an execution action)
EXECUTION_ACTIONS = {
    "pause": "pause",
    "resume": "resume",
    "cancel": "cancel",
    "terminate": "terminate-instances",
}

SOURCE_SERVER_ID = re.compile(r"^s-[0-9a-f]{17}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FIXTURES_ENV = "DRS_PARITY_FIXTURES"


class ScenarioError(ValueError):
    """A scenario file (or name) that cannot be used; the message names the file, the field path and the problem."""


# -- reading validated YAML -------------------------------------------------------------------------------------------
T = TypeVar("T")


class Field:
    """One value of a YAML document and where it sits (file + field path), so each error can say exactly where.

    Shared by scenario.py and system.py; `error` is the exception class raised.
    """

    def __init__(self, value: Any, path: str, source: str, error: type[Exception] = ScenarioError) -> None:
        self.value = value
        self.path = path
        self.source = source
        self.error = error

    def fail(self, problem: str) -> NoReturn:
        where = f"{self.source}: {self.path}: " if self.path else f"{self.source}: "
        raise self.error(where + problem)

    def child(self, key: str | int) -> "Field":
        container = self.value
        if isinstance(key, int):
            value = container[key] if isinstance(container, list) and key < len(container) else None
        else:
            value = container.get(key) if isinstance(container, dict) else None
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
        else:
            path = f"{self.path}.{key}" if self.path else key
        return Field(value, path, self.source, self.error)

    @property
    def missing(self) -> bool:
        return self.value is None

    # -- shapes ------------------------------------------------------------------------------------------------------
    def mapping(self, allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Any]:
        """The value as a mapping whose keys are all `allowed` and include every `required` key."""
        if not isinstance(self.value, dict):
            self.fail(f"must be a mapping, got {_type_name(self.value)}")
        allowed = tuple(allowed)
        unknown = [str(key) for key in self.value if key not in allowed]
        if unknown:
            what = "top-level key" if not self.path else "key"
            self.fail(f"unknown {what} {unknown[0]!r} (allowed: {', '.join(allowed)})")
        for key in required:
            if self.value.get(key) is None:
                self.child(key).fail("required field is missing")
        return self.value

    def items(self, allow_empty: bool = True) -> list["Field"]:
        """The value as a list of child fields (absent counts as empty)."""
        if self.value is None:
            self.value = []
        if not isinstance(self.value, list):
            self.fail(f"must be a list, got {_type_name(self.value)}")
        if not allow_empty and not self.value:
            self.fail("must not be empty")
        return [self.child(index) for index in range(len(self.value))]

    def string(self, default: str | None = None, pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        if self.value is None and default is not None:
            return default
        if self.value is None:
            self.fail("required field is missing")
        if isinstance(self.value, int) and not isinstance(self.value, bool) and pattern is ACCOUNT_ID:
            self.fail(f"must be a string: quote it (\"{self.value:012d}\")")
        if not isinstance(self.value, str):
            self.fail(f"must be a string, got {_type_name(self.value)}")
        if pattern is not None and not pattern.match(self.value):
            self.fail(f"{self.value!r} {hint or 'has the wrong form'}")
        return self.value

    def optional_string(self) -> str | None:
        return None if self.value is None else self.string()

    def choice(self, choices: Sequence[str], default: str | None = None) -> str:
        value = self.string(default)
        if value not in choices:
            self.fail(f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, default: int | None = None, minimum: int = 0) -> int:
        if self.value is None and default is not None:
            return default
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            self.fail(f"must be an integer, got {_type_name(self.value)}")
        if self.value < minimum:
            self.fail(f"must be at least {minimum}, got {self.value}")
        return self.value

    def boolean(self, default: bool = False) -> bool:
        if self.value is None:
            return default
        if not isinstance(self.value, bool):
            self.fail(f"must be true or false, got {_type_name(self.value)}")
        return self.value

    def string_map(self) -> dict[str, str]:
        if self.value is None:
            return {}
        if not isinstance(self.value, dict):
            self.fail(f"must be a mapping of strings, got {_type_name(self.value)}")
        for key, value in self.value.items():
            if not isinstance(key, str) or not isinstance(value, str):
                self.child(key).fail("keys and values must be strings (quote numbers)")
        return dict(self.value)

    def string_list(self, allow_empty: bool = True) -> tuple[str, ...]:
        return tuple(item.string() for item in self.items(allow_empty))

    def duration(self, default: int | None = None) -> int:
        """Seconds from an integer (seconds) or a string such as 90s, 5m, 1h30m."""
        if self.value is None and default is not None:
            return default
        if isinstance(self.value, int) and not isinstance(self.value, bool) and self.value >= 0:
            return self.value
        text = self.value if isinstance(self.value, str) else ""
        match = DURATION.match(text.strip())
        if not text.strip() or match is None:
            self.fail(f"bad duration {self.value!r} (use seconds or a string like 30s, 5m, 1h30m)")
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return hours * 3600 + minutes * 60 + seconds


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def read_yaml(path: Path, error: type[Exception]) -> Any:
    """Parse a YAML file, turning a missing file or a syntax error into one line of `error`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{path}: not valid YAML{where}: {problem}") from None


# -- the scenario model ---------------------------------------------------------------------------------------------
def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def fixture_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as the camelCase dict the fixture format uses (None fields left out), recursively."""
    result: dict[str, Any] = {}
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if value is None or item.name == "key":
            continue
        if dataclasses.is_dataclass(value):
            value = fixture_dict(value)
        elif isinstance(value, tuple):
            value = [fixture_dict(v) if dataclasses.is_dataclass(v) else v for v in value]
        result[camel_case(item.name)] = value
    return result


@dataclass(frozen=True)
class DrsTiming:
    job_start_seconds: int = 30
    job_end_seconds: int = 30


@dataclass(frozen=True)
class Launch:
    status: str
    seconds: int


@dataclass(frozen=True)
class SourceServer:
    source_server_id: str
    hostname: str
    name: str | None
    tags: dict[str, str]
    region: str
    account_id: str
    instance_type: str
    launch: Launch


@dataclass(frozen=True)
class Fault:
    operation: str
    error: str
    after_seconds: int
    count: int = 1


@dataclass(frozen=True)
class TargetAccount:
    account_id: str
    assume_role_name: str
    external_id: str | None = None


@dataclass(frozen=True)
class ProtectionGroup:
    key: str
    group_name: str
    description: str
    region: str
    account_id: str
    source_server_ids: tuple[str, ...] | None = None
    server_selection_tags: dict[str, str] | None = None

    def request_body(self) -> dict[str, Any]:
        """The POST /protection-groups body."""
        body = fixture_dict(self)
        if self.source_server_ids is not None:
            body["sourceServerIds"] = list(self.source_server_ids)
        return body


@dataclass(frozen=True)
class Wave:
    wave_name: str
    protection_group: str  # a protection group key
    pause_before_wave: bool = False


@dataclass(frozen=True)
class RecoveryPlan:
    key: str
    plan_name: str
    description: str
    waves: tuple[Wave, ...]

    def request_body(self, group_ids: Mapping[str, str]) -> dict[str, Any]:
        """The POST /recovery-plans body, with protection group keys replaced by their generated ids."""
        waves = [
            {"waveNumber": number, "waveName": wave.wave_name, "protectionGroupId": group_ids[wave.protection_group],
             "pauseBeforeWave": wave.pause_before_wave}
            for number, wave in enumerate(self.waves)
        ]
        return {"planName": self.plan_name, "description": self.description, "waves": waves}


@dataclass(frozen=True)
class StartStep:
    plan: str  # a recovery plan key
    execution_type: str = "DRILL"
    initiated_by: str = DEFAULT_INITIATED_BY
    kind: str = "start"

    def label(self) -> str:
        return f"start {self.plan} {self.execution_type}"


@dataclass(frozen=True)
class AdvanceStep:
    seconds: int
    kind: str = "advance"

    def label(self) -> str:
        return f"advance {format_duration(self.seconds)}"


@dataclass(frozen=True)
class UntilStep:
    statuses: tuple[str, ...]
    within: int = DEFAULT_UNTIL_WITHIN
    kind: str = "until"

    def label(self) -> str:
        return f"until {'|'.join(self.statuses)} within {format_duration(self.within)}"


@dataclass(frozen=True)
class ExecutionActionStep:
    """pause, resume, cancel, terminate: POST /executions/{current}/<action path>."""

    kind: str
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return "/executions/{execution}/" + EXECUTION_ACTIONS[self.kind]

    def label(self) -> str:
        return self.kind


@dataclass(frozen=True)
class ApiStep:
    method: str
    path: str  # may hold {execution}, {plan:KEY}, {group:KEY}
    body: Any = None
    query: dict[str, str] | None = None
    kind: str = "api"

    def label(self) -> str:
        return f"api {self.method} {self.path}"


Step = StartStep | AdvanceStep | UntilStep | ExecutionActionStep | ApiStep


@dataclass(frozen=True)
class Expectation:
    status: str | None = None
    waves: tuple[str, ...] | None = None
    servers: dict[str, str] = field(default_factory=dict)  # sourceServerId -> final launchStatus


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path
    region: str
    drs: DrsTiming
    source_servers: tuple[SourceServer, ...]
    target_accounts: tuple[TargetAccount, ...]
    protection_groups: tuple[ProtectionGroup, ...]
    recovery_plans: tuple[RecoveryPlan, ...]
    faults: tuple[Fault, ...]
    steps: tuple[Step, ...]
    expect: Expectation

    # the sections exactly as DrsEmulator.load(drs_config, source_servers, faults) takes them
    def drs_config(self) -> dict[str, Any]:
        return fixture_dict(self.drs)

    def drs_source_servers(self) -> list[dict[str, Any]]:
        return [fixture_dict(server) for server in self.source_servers]

    def drs_faults(self) -> list[dict[str, Any]]:
        return [fixture_dict(fault) for fault in self.faults]

    def plan(self, key: str) -> RecoveryPlan:
        return next(plan for plan in self.recovery_plans if plan.key == key)


def format_duration(seconds: int) -> str:
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


# -- parsing each section -----------------------------------------------------------------------------------------
TOP_LEVEL_KEYS = (
    "name", "description", "region", "drs", "sourceServers", "targetAccounts", "protectionGroups",
    "recoveryPlans", "faults", "steps", "expect",
)
STEP_KINDS = ("start", "advance", "until", "api", *EXECUTION_ACTIONS)


def _parse_drs(node: Field) -> DrsTiming:
    if node.missing:
        return DrsTiming()
    node.mapping(("jobStartSeconds", "jobEndSeconds"))
    return DrsTiming(node.child("jobStartSeconds").integer(30), node.child("jobEndSeconds").integer(30))


def _parse_source_server(node: Field, region: str) -> SourceServer:
    node.mapping(
        ("sourceServerId", "hostname", "name", "tags", "region", "accountId", "instanceType", "launch"),
        required=("sourceServerId", "hostname", "launch"),
    )
    launch = node.child("launch")
    launch.mapping(("status", "seconds"), required=("status", "seconds"))
    return SourceServer(
        source_server_id=node.child("sourceServerId").string(
            pattern=SOURCE_SERVER_ID, hint="must be s- followed by 17 lowercase hex characters"),
        hostname=node.child("hostname").string(),
        name=node.child("name").optional_string(),
        tags=node.child("tags").string_map(),
        region=_region(node.child("region"), region),
        account_id=_account(node.child("accountId")),
        instance_type=node.child("instanceType").string(DEFAULT_INSTANCE_TYPE),
        launch=Launch(launch.child("status").choice(FIXTURE_LAUNCH_OUTCOMES), launch.child("seconds").integer()),
    )


def _region(node: Field, default: str) -> str:
    return node.string(default, pattern=REGION, hint="is not an AWS region name")


def _account(node: Field, default: str | None = DEFAULT_ACCOUNT_ID) -> str:
    return node.string(default, pattern=ACCOUNT_ID, hint="must be a 12-digit AWS account id")


def _parse_target_account(node: Field) -> TargetAccount:
    node.mapping(("accountId", "assumeRoleName", "externalId"), required=("accountId", "assumeRoleName"))
    return TargetAccount(
        account_id=_account(node.child("accountId"), None),
        assume_role_name=node.child("assumeRoleName").string(),
        external_id=node.child("externalId").optional_string(),
    )


@functools.lru_cache(maxsize=1)
def _drs_model() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(operation names, error codes) of botocore's own drs service model."""
    model = botocore.session.get_session().get_service_model("drs")
    return tuple(model.operation_names), tuple(shape.name for shape in model.error_shapes)


def _parse_fault(node: Field) -> Fault:
    node.mapping(("operation", "error", "afterSeconds", "count"), required=("operation", "error"))
    operations, errors = _drs_model()
    operation = node.child("operation").string()
    if operation not in operations:
        node.child("operation").fail(f"{operation!r} is not a DRS operation (e.g. DescribeJobs, StartRecovery)")
    error = node.child("error").string()
    if error not in errors:
        node.child("error").fail(f"{error!r} is not an error of the DRS model (known: {', '.join(sorted(errors))})")
    return Fault(
        operation=operation,
        error=error,
        after_seconds=node.child("afterSeconds").integer(0),
        count=node.child("count").integer(1, minimum=1),
    )


def _parse_protection_group(node: Field, region: str, servers: Mapping[str, SourceServer]) -> ProtectionGroup:
    node.mapping(
        ("key", "groupName", "description", "region", "accountId", "sourceServerIds", "serverSelectionTags"),
        required=("key", "groupName"),
    )
    group = ProtectionGroup(
        key=node.child("key").string(),
        group_name=node.child("groupName").string(),
        description=node.child("description").string(""),
        region=_region(node.child("region"), region),
        account_id=_account(node.child("accountId")),
        source_server_ids=None if node.child("sourceServerIds").missing
        else node.child("sourceServerIds").string_list(allow_empty=False),
        server_selection_tags=None if node.child("serverSelectionTags").missing
        else node.child("serverSelectionTags").string_map(),
    )
    if (group.source_server_ids is None) == (group.server_selection_tags is None):
        node.fail("give exactly one of sourceServerIds and serverSelectionTags")
    for index, server_id in enumerate(group.source_server_ids or ()):
        _check_group_member(node.child("sourceServerIds").child(index), group, servers.get(server_id))
    return group


def _check_group_member(node: Field, group: ProtectionGroup, server: SourceServer | None) -> None:
    if server is None:
        node.fail(f"{node.value!r} is not a source server of this scenario")
    if (server.region, server.account_id) != (group.region, group.account_id):
        node.fail(f"{server.source_server_id} is in {server.account_id}/{server.region}, "
                  f"the group is in {group.account_id}/{group.region}")


def _parse_recovery_plan(node: Field, group_keys: set[str]) -> RecoveryPlan:
    node.mapping(("key", "planName", "description", "waves"), required=("key", "planName", "waves"))
    waves = []
    for wave in node.child("waves").items(allow_empty=False):
        wave.mapping(("waveName", "protectionGroup", "pauseBeforeWave"), required=("waveName", "protectionGroup"))
        group_key = wave.child("protectionGroup").string()
        if group_key not in group_keys:
            wave.child("protectionGroup").fail(
                f"unknown protection group key {group_key!r} (known: {', '.join(sorted(group_keys)) or 'none'})")
        waves.append(Wave(wave.child("waveName").string(), group_key, wave.child("pauseBeforeWave").boolean()))
    return RecoveryPlan(
        key=node.child("key").string(),
        plan_name=node.child("planName").string(),
        description=node.child("description").string(""),
        waves=tuple(waves),
    )


class _StepContext:
    """What earlier parts of the scenario declared, for checking the references a step makes."""

    def __init__(self, plan_keys: set[str], group_keys: set[str]) -> None:
        self.plan_keys = plan_keys
        self.group_keys = group_keys
        self.started = False

    def check_path(self, node: Field) -> None:
        for placeholder in PLACEHOLDER.findall(node.value):
            self._check_placeholder(node, placeholder)

    def _check_placeholder(self, node: Field, placeholder: str) -> None:
        kind, _, key = placeholder.partition(":")
        if placeholder == "execution":
            self.require_execution(node)
        elif kind == "plan" and key in self.plan_keys or kind == "group" and key in self.group_keys:
            return
        elif kind in ("plan", "group"):
            node.fail(f"placeholder {{{placeholder}}} names an unknown {kind} key {key!r}")
        else:
            node.fail(f"unknown placeholder {{{placeholder}}} (use {{execution}}, {{plan:KEY}}, {{group:KEY}})")

    def require_execution(self, node: Field) -> None:
        if not self.started:
            node.fail("no execution has been started before this step (add a start step first)")


def _parse_step(node: Field, context: _StepContext) -> Step:
    if not isinstance(node.value, dict) or len(node.value) != 1:
        node.fail(f"a step is a mapping with exactly one key, the step kind ({', '.join(STEP_KINDS)})")
    kind = next(iter(node.value))
    if kind not in STEP_KINDS:
        node.fail(f"unknown step kind {kind!r} (known: {', '.join(STEP_KINDS)})")
    body = node.child(kind)
    if kind == "start":
        return _parse_start(body, context)
    if kind == "advance":
        return AdvanceStep(body.duration())
    if kind == "until":
        return _parse_until(body, context)
    if kind == "api":
        return _parse_api(body, context)
    return _parse_execution_action(kind, body, context)


def _parse_start(node: Field, context: _StepContext) -> StartStep:
    node.mapping(("plan", "executionType", "initiatedBy"), required=("plan",))
    plan = node.child("plan").string()
    if plan not in context.plan_keys:
        node.child("plan").fail(f"unknown recovery plan key {plan!r} (known: {', '.join(sorted(context.plan_keys))})")
    context.started = True
    return StartStep(
        plan=plan,
        execution_type=node.child("executionType").choice(EXECUTION_TYPES, "DRILL"),
        initiated_by=node.child("initiatedBy").string(DEFAULT_INITIATED_BY),
    )


def _parse_until(node: Field, context: _StepContext) -> UntilStep:
    node.mapping(("status", "within"), required=("status",))
    context.require_execution(node)
    status = node.child("status")
    if isinstance(status.value, str):
        status.value = [status.value]
    statuses = tuple(item.choice(EXECUTION_STATUSES) for item in status.items(allow_empty=False))
    return UntilStep(statuses, node.child("within").duration(DEFAULT_UNTIL_WITHIN))


def _parse_api(node: Field, context: _StepContext) -> ApiStep:
    node.mapping(("method", "path", "body", "query"), required=("method", "path"))
    path = node.child("path")
    if not path.string().startswith("/"):
        path.fail(f"{path.value!r} must start with /")
    context.check_path(path)
    query = node.child("query")
    return ApiStep(
        method=node.child("method").choice(HTTP_METHODS),
        path=path.value,
        body=node.child("body").value,
        query=None if query.missing else query.string_map(),
    )


def _parse_execution_action(kind: str, node: Field, context: _StepContext) -> ExecutionActionStep:
    context.require_execution(node)
    if node.value is not None and not isinstance(node.value, dict):
        node.fail(f"must be a mapping (the request body, usually {{}}), got {_type_name(node.value)}")
    return ExecutionActionStep(kind, dict(node.value or {}))


def _parse_expect(node: Field, servers: Mapping[str, SourceServer]) -> Expectation:
    if node.missing:
        return Expectation()
    node.mapping(("status", "waves", "servers"))
    waves = node.child("waves")
    expected_servers = node.child("servers").string_map()
    for server_id, status in expected_servers.items():
        if server_id not in servers:
            node.child("servers").child(server_id).fail("is not a source server of this scenario")
        if status not in SERVER_LAUNCH_STATUSES:
            node.child("servers").child(server_id).fail(
                f"{status!r} is not one of {', '.join(SERVER_LAUNCH_STATUSES)}")
    return Expectation(
        status=None if node.child("status").missing else node.child("status").choice(EXECUTION_STATUSES),
        waves=None if waves.missing else tuple(item.choice(WAVE_STATUSES) for item in waves.items()),
        servers=expected_servers,
    )


def _unique(nodes: Sequence[Field], values: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for node, value in zip(nodes, values):
        if value in seen:
            node.fail(f"duplicate {what} {value!r}")
        seen.add(value)


def parse_scenario(document: Any, path: Path) -> Scenario:
    """Validate a parsed YAML document and build the Scenario; `path` names the file in errors."""
    root = Field(document, "", str(path))
    root.mapping(TOP_LEVEL_KEYS, required=("name", "sourceServers", "protectionGroups", "recoveryPlans", "steps"))
    name = root.child("name").string()
    if name != path.stem:
        root.child("name").fail(f"{name!r} must equal the file name stem {path.stem!r}")
    region = _region(root.child("region"), DEFAULT_REGION)

    server_nodes = root.child("sourceServers").items(allow_empty=False)
    servers = [_parse_source_server(node, region) for node in server_nodes]
    _unique([n.child("sourceServerId") for n in server_nodes], [s.source_server_id for s in servers],
            "sourceServerId")
    servers_by_id = {server.source_server_id: server for server in servers}

    account_nodes = root.child("targetAccounts").items()
    accounts = [_parse_target_account(node) for node in account_nodes]
    _unique([n.child("accountId") for n in account_nodes], [a.account_id for a in accounts], "accountId")

    group_nodes = root.child("protectionGroups").items(allow_empty=False)
    groups = [_parse_protection_group(node, region, servers_by_id) for node in group_nodes]
    _unique([n.child("key") for n in group_nodes], [g.key for g in groups], "protection group key")

    plan_nodes = root.child("recoveryPlans").items(allow_empty=False)
    plans = [_parse_recovery_plan(node, {g.key for g in groups}) for node in plan_nodes]
    _unique([n.child("key") for n in plan_nodes], [p.key for p in plans], "recovery plan key")

    context = _StepContext({p.key for p in plans}, {g.key for g in groups})
    steps = tuple(_parse_step(node, context) for node in root.child("steps").items(allow_empty=False))
    expect = _parse_expect(root.child("expect"), servers_by_id)
    scenario = Scenario(
        name=name,
        description=root.child("description").string(""),
        path=path,
        region=region,
        drs=_parse_drs(root.child("drs")),
        source_servers=tuple(servers),
        target_accounts=tuple(accounts),
        protection_groups=tuple(groups),
        recovery_plans=tuple(plans),
        faults=tuple(_parse_fault(node) for node in root.child("faults").items()),
        steps=steps,
        expect=expect,
    )
    _check_expected_wave_count(root.child("expect").child("waves"), scenario)
    return scenario


def _check_expected_wave_count(node: Field, scenario: Scenario) -> None:
    starts = [step for step in scenario.steps if isinstance(step, StartStep)]
    if scenario.expect.waves is None or not starts:
        return
    plan = scenario.plan(starts[-1].plan)
    if len(scenario.expect.waves) != len(plan.waves):
        node.fail(f"lists {len(scenario.expect.waves)} wave statuses, plan {plan.key!r} has {len(plan.waves)} waves")


# -- finding scenarios ----------------------------------------------------------------------------------------------
def fixtures_dir() -> Path:
    """The fixtures folder: $DRS_PARITY_FIXTURES, else the repository's fixtures/."""
    override = os.environ.get(FIXTURES_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "fixtures"


def list_fixture_names(folder: Path) -> list[str]:
    """Stems of the YAML files in a fixtures sub-folder, sorted (none when the folder is absent)."""
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_fixture(name_or_path: str | Path, folder: Path, what: str, error: type[Exception]) -> Path:
    """A file path as given (a YAML suffix or a directory part), else the named file in `folder`.

    An unknown name is `error` listing the available names; shared by scenarios, systems and other fixture kinds.
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path("."):
        return candidate
    named = folder / f"{candidate}.yaml"
    if not named.is_file():
        available = ", ".join(list_fixture_names(folder)) or "none"
        raise error(f"unknown {what} {str(name_or_path)!r} (available: {available})")
    return named


def _scenarios_dir(base: Path | None) -> Path:
    return (base or fixtures_dir()) / "scenarios"


def list_scenarios(fixtures: Path | None = None) -> list[str]:
    """Names of the scenarios in the fixtures folder, sorted."""
    return list_fixture_names(_scenarios_dir(fixtures))


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    return parse_scenario(read_yaml(path, ScenarioError), path)


def resolve_scenario_path(name_or_path: str | Path, fixtures: Path | None = None) -> Path:
    """A file path as given, or a scenario name looked up in the fixtures folder."""
    return resolve_fixture(name_or_path, _scenarios_dir(fixtures), "scenario", ScenarioError)


def load_scenarios(names_or_paths: Iterable[str | Path] | None = None, fixtures_dir: Path | None = None
                   ) -> list[Scenario]:
    """Scenarios by name (from the fixtures folder) or path; None or empty means every shipped scenario."""
    wanted = list(names_or_paths or list_scenarios(fixtures_dir))
    return [load_scenario(resolve_scenario_path(item, fixtures_dir)) for item in wanted]
