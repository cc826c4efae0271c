"""FunctionHost: runs a world's deployed Lambda functions in-process (Invoke, async queue, schedules, API Gateway)."""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import importlib
import io
import itertools
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from drs_parity.world import botohooks
from drs_parity.world.clock import VirtualClock

ClientFactory = Callable[[str], Any]  # service -> harness-internal boto3 client
CallGuard = Callable[["DeployedFunction", str, str, dict], "tuple[str, str] | tuple[str, str, int] | None"]

# Keys this module keeps in botocore's per-request context dict.
_INTERNAL = "drs_parity_internal"
_PARAMS = "drs_parity_params"
_CALLER = "drs_parity_caller"
_SNAPSHOT = "drs_parity_params_snapshot"  # JSON-safe params as the code passed them, before botocore touches them

MAX_DRAIN = 10_000  # async invocations per drain before we call it a runaway loop
_ENV_PREFIXES_NOT_INHERITED = ("AWS_", "LOCALSTACK_", "LAMBDA_", "_HANDLER", "_X_AMZN")
_LOGGERS_NOT_OF_THE_FUNCTION = ("moto", "werkzeug", "harness")  # emulator threads, never a Lambda's own lines
_DEFAULT_ROOT_LEVEL = logging.WARNING  # the Lambda Python runtime's root logger level

# handler top-level packages ever loaded by a host: purged on every cold start
_handler_packages: set[str] = set()


class HostError(RuntimeError):
    """A harness-level problem running functions (runaway queue, unknown function, bad schedule expression)."""


# -- what the host knows ---------------------------------------------------------------------------------------------
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

    @property
    def package(self) -> str:
        return self.handler.split(".", 1)[0]


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
    trigger: str  # 'api' | 'invoke' | 'event' | 'schedule' | 'direct'
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


@contextlib.contextmanager
def _sleep_recorded_in(invocation: Invocation) -> Iterator[None]:
    """While a handler runs, time.sleep returns at once and is added up on the invocation.

    An invocation happens at one virtual instant: a real sleep (botocore's retry back-off, a handler's own
    wait) would only cost wall time and make runs depend on the machine's speed.
    """
    real_sleep = time.sleep

    def record(seconds: float) -> None:
        invocation.slept += max(0.0, float(seconds))

    time.sleep = record
    try:
        yield
    finally:
        time.sleep = real_sleep


class LambdaContext:
    """The subset of the Lambda Python runtime's context object handlers use."""

    def __init__(self, function: DeployedFunction, request_id: str, clock: VirtualClock) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = str(function.memory_size)  # a string, as in the real runtime
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"{clock.isoformat()[:10].replace('-', '/')}/[$LATEST]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self._deadline = clock.now() + function.timeout
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))


# -- JSON helpers ------------------------------------------------------------------------------------------------------
def _decimal_default(value: Any) -> Any:
    # what the Lambda Python runtime does with DynamoDB's Decimals in a handler result
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy of botocore API params (bytes decoded, streams named, datetimes ISO)."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(json_safe(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return _decimal_default(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "read"):
        return "<stream>"
    return str(value)


def _parse_json_object(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _log_entry(text: str, level: str | None) -> dict[str, Any]:
    """A JSON-object line becomes its dict (level filled in); any other line is RAW (or its logging level)."""
    parsed = _parse_json_object(text)
    if parsed is not None:
        parsed.setdefault("level", level or "INFO")
        return parsed
    return {"level": level or "RAW", "message": text}


# -- per-invocation capture --------------------------------------------------------------------------------------------
class _LineWriter(io.TextIOBase):
    """A stdout/stderr stand-in that turns whatever the handler prints into log entries, line by line."""

    def __init__(self, logs: list[dict[str, Any]]) -> None:
        self._logs = logs
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            if line.strip():
                self._logs.append(_log_entry(line, None))
        return len(text)

    def close_line(self) -> None:
        if self._partial.strip():
            self._logs.append(_log_entry(self._partial, None))
        self._partial = ""


def _set_level(logger: logging.Logger, level: int) -> None:
    """setLevel, skipped when nothing changes (setLevel clears the level cache of every logger of the process)."""
    if logger.level != level:
        logger.setLevel(level)


class _LogRecordCollector(logging.Handler):
    def __init__(self, logs: list[dict[str, Any]]) -> None:
        super().__init__(logging.NOTSET)
        self._logs = logs

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_LOGGERS_NOT_OF_THE_FUNCTION):
            return
        entry = _log_entry(record.getMessage(), record.levelname)
        if record.exc_info and record.exc_info[0] is not None:
            entry.setdefault("exception", record.exc_info[0].__name__)
        self._logs.append(entry)


@contextlib.contextmanager
def replaced_environ(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ is exactly `env` inside the block and exactly what it was before afterwards."""
    saved = dict(os.environ)
    _turn_environ(saved, env)
    try:
        yield
    finally:
        _turn_environ(dict(os.environ), saved)


def _turn_environ(current: Mapping[str, str], wanted: Mapping[str, str]) -> None:
    """Make os.environ (now `current`) equal `wanted`, touching only the variables that differ."""
    # every os.environ write is a putenv/unsetenv; an invocation changes a handful of a hundred variables
    for key in current.keys() - wanted.keys():
        del os.environ[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            os.environ[key] = value


def environ_without_aws(extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment minus AWS/LocalStack/Lambda settings, plus `extra` (so nothing leaks in)."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith(_ENV_PREFIXES_NOT_INHERITED)}
    return {**kept, **extra}


# -- harness-internal clients ------------------------------------------------------------------------------------------
def mark_harness_client(client: Any) -> Any:
    """Tag every call of `client` as the harness's own: never recorded, never guarded, never attributed."""

    def mark(context: dict[str, Any], **_: Any) -> None:
        context[_INTERNAL] = True

    client.meta.events.register_first("before-parameter-build", mark)
    return client


def purge_modules(packages: set[str]) -> None:
    """Forget imported modules of `packages` so the next import is a cold start (pytest's own modules stay)."""
    for name in list(sys.modules):
        top = name.split(".", 1)[0]
        leaf = name.rsplit(".", 1)[-1]
        if top in packages and not (leaf.startswith("test_") or leaf == "conftest"):
            del sys.modules[name]


# -- schedules ---------------------------------------------------------------------------------------------------------
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_WEEKDAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
# (name, lowest, highest, names) for cron's six fields: minutes hours day-of-month month day-of-week year
_CRON_FIELDS = (("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
                ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _WEEKDAYS), ("year", 1970, 2199, {}))


class Schedule:
    """A parsed EventBridge schedule expression: `next_after(t)` is the first firing strictly after t."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._period: int | None = None
        self._fields: list[set[int] | None] = []
        if (rate := _RATE.match(expression)) is not None:
            self._period = _rate_period(expression, int(rate.group(1)), rate.group(2))
        elif (cron := _CRON.match(expression)) is not None:
            self._fields = _cron_fields(expression, cron.group(1).split())
        else:
            raise ValueError(f"invalid schedule expression {expression!r}: expected rate(N unit) or cron(6 fields)")

    def next_after(self, when: float) -> float:
        if self._period is not None:
            return when + self._period
        return _next_cron_minute(self._fields, when, self.expression)


def _rate_period(expression: str, value: int, unit: str) -> int:
    singular = unit.rstrip("s")
    if value <= 0:
        raise ValueError(f"invalid schedule expression {expression!r}: the rate must be positive")
    if (value == 1) != (unit == singular):  # EventBridge: "1 minute" but "5 minutes"
        raise ValueError(f"invalid schedule expression {expression!r}: use '{singular}' for 1, '{singular}s' above")
    return value * _UNIT_SECONDS[singular]


def _cron_fields(expression: str, parts: list[str]) -> list[set[int] | None]:
    if len(parts) != 6:
        raise ValueError(f"invalid schedule expression {expression!r}: cron needs 6 fields, got {len(parts)}")
    fields = [_cron_field(expression, part, spec) for part, spec in zip(parts, _CRON_FIELDS)]
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ValueError(f"invalid schedule expression {expression!r}: exactly one of day-of-month and "
                         "day-of-week must be '?'")
    return fields


def _cron_field(expression: str, text: str, spec: tuple[str, int, int, dict[str, int]]) -> set[int] | None:
    """The allowed values of one field; None means any value ('*' or '?')."""
    name, low, high, names = spec
    if text in ("*", "?"):
        return None
    allowed: set[int] = set()
    for item in text.split(","):
        allowed |= _cron_item(expression, item, name, low, high, names)
    return allowed


def _cron_item(expression: str, item: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    def number(token: str) -> int:
        value = names.get(token.upper()) if token.upper() in names else (int(token) if token.isdigit() else None)
        if value is None or not low <= value <= high:
            raise ValueError(f"invalid schedule expression {expression!r}: {name} value {token!r} "
                             f"is not in {low}-{high}")
        return value

    base, _, step_text = item.partition("/")
    step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
    if step_text and step is None:
        raise ValueError(f"invalid schedule expression {expression!r}: bad step in {name} {item!r}")
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, last = base.split("-", 1)
        start, end = number(first), number(last)
    else:
        start = number(base)
        end = high if step else start
    return set(range(start, end + 1, step or 1))


def _cron_allows(fields: list[set[int] | None], moment: dt.datetime) -> tuple[bool, bool, bool, bool]:
    """Whether (year+month, day, hour, minute) of `moment` are allowed."""
    minutes, hours, days, months, weekdays, years = fields
    weekday = (moment.weekday() + 1) % 7 + 1  # EventBridge: 1 = SUN
    month_ok = (months is None or moment.month in months) and (years is None or moment.year in years)
    day_ok = (days is None or moment.day in days) and (weekdays is None or weekday in weekdays)
    return month_ok, day_ok, hours is None or moment.hour in hours, minutes is None or moment.minute in minutes


def _next_cron_minute(fields: list[set[int] | None], when: float, expression: str) -> float:
    moment = dt.datetime.fromtimestamp((int(when) // 60 + 1) * 60, tz=dt.timezone.utc)
    for _ in range(200_000):  # jumps by month/day/hour, so this covers far more than a century
        month_ok, day_ok, hour_ok, minute_ok = _cron_allows(fields, moment)
        if not month_ok:
            moment = (moment.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
        elif not day_ok:
            moment = moment.replace(hour=0, minute=0) + dt.timedelta(days=1)
        elif not hour_ok:
            moment = moment.replace(minute=0) + dt.timedelta(hours=1)
        elif not minute_ok:
            moment += dt.timedelta(minutes=1)
        else:
            return moment.timestamp()
        if moment.year > 2199:
            break
    raise ValueError(f"schedule expression {expression!r} never fires")


# -- Lambda Invoke wire answers ----------------------------------------------------------------------------------------
class _RawBody(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _lambda_answer(status: int, parsed: dict[str, Any], request_id: str) -> tuple[AWSResponse, dict[str, Any]]:
    headers = {"x-amzn-requestid": request_id}
    parsed["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers,
                                  "RetryAttempts": 0}
    return AWSResponse("https://lambda.amazonaws.com/", status, headers, _RawBody(b"")), parsed


def _error_answer(code: str, message: str, status: int, request_id: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _lambda_answer(status, {"Error": {"Code": code, "Message": message}, "Message": message, "Type": "User"},
                          request_id)


def _streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def _read_payload(payload: Any) -> Any:
    if payload is None:
        return {}
    raw = payload.read() if hasattr(payload, "read") else payload
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else str(raw)
    return json.loads(text) if text.strip() else {}


# -- the host ----------------------------------------------------------------------------------------------------------
class FunctionHost:
    """Runs the functions of one world in this process, the way Lambda, EventBridge and API Gateway would."""

    def __init__(self, clock: VirtualClock, client_factory: ClientFactory, base_env: Callable[[], dict[str, str]],
                 region: str, account_id: str) -> None:
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.functions: dict[str, DeployedFunction] = {}
        self.rules: list[ScheduleRule] = []
        self.invocations: list[Invocation] = []
        self.undelivered: list[dict[str, str]] = []  # schedule targets that name no loaded function
        self._client = client_factory
        self._base_env = base_env
        self._queue: collections.deque[Invocation] = collections.deque()
        self._running: list[Invocation] = []
        self._depth = 0
        self._listeners: list[Callable[[Invocation], None]] = []
        self._guard: CallGuard | None = None
        self._ids = itertools.count(1)
        self._root_levels: dict[str, int] = {}
        self._unregister: list[Callable[[], None]] = []
        self._timers: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Hook into every boto3 client of the process and start cold (no module state of earlier worlds)."""
        purge_modules(_handler_packages)
        self._unregister = [
            botohooks.register("before-parameter-build", self._remember_call),
            botohooks.register("before-call", self._answer_call),
            botohooks.register("after-call", self._record_call),
            botohooks.register("after-call-error", self._record_call_error),
        ]

    def stop(self) -> None:
        for unregister in self._unregister:
            unregister()
        self._unregister = []
        self.stop_schedules()

    # -- what is deployed ------------------------------------------------------------------------------------------
    def load(self, stack: Any) -> None:
        """Read the stack's Lambda functions and schedule rules from the backend (a cold start for their code)."""
        functions = [self._read_function(physical, logical)
                     for logical, physical in stack.resources.items()
                     if stack.resource_types.get(logical) == "AWS::Lambda::Function"]
        for function in functions:
            self.add_function(function)
        purge_modules({function.package for function in functions})
        for logical, physical in stack.resources.items():
            if stack.resource_types.get(logical) == "AWS::Events::Rule":
                rule = self._read_rule(physical, logical)
                if rule is not None:
                    self.add_rule(rule)

    def add_function(self, function: DeployedFunction) -> None:
        self.functions[function.name] = function
        _handler_packages.add(function.package)

    def add_rule(self, rule: ScheduleRule) -> None:
        self.rules.append(rule)

    def _read_function(self, name: str, logical_id: str) -> DeployedFunction:
        config = self._client("lambda").get_function_configuration(FunctionName=name)
        return DeployedFunction(
            name=config["FunctionName"], arn=config["FunctionArn"], handler=config["Handler"],
            environment=dict(config.get("Environment", {}).get("Variables", {})), role_arn=config.get("Role", ""),
            logical_id=logical_id, memory_size=int(config.get("MemorySize", 128)),
            timeout=int(config.get("Timeout", 3)), runtime=config.get("Runtime", ""),
        )

    def _read_rule(self, physical_id: str, logical_id: str) -> ScheduleRule | None:
        events = self._client("events")
        name = physical_id.rsplit("/", 1)[-1]  # the physical id is the name (moto) or the ARN
        rule = events.describe_rule(Name=name)
        if not rule.get("ScheduleExpression"):
            return None  # an event-pattern rule: nothing fires it on a clock
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        return ScheduleRule(
            name=rule["Name"], arn=rule["Arn"], expression=rule["ScheduleExpression"], state=rule["State"],
            targets=[RuleTarget(target["Id"], target["Arn"], target.get("Input")) for target in targets],
            logical_id=logical_id,
        )

    def find(self, name_or_arn: str) -> DeployedFunction | None:
        """Match a function as Lambda does: name, full ARN, partial ARN, with or without a qualifier."""
        text = name_or_arn.removesuffix(":$LATEST")
        if text in self.functions:
            return self.functions[text]
        name = text.split(":function:", 1)[-1].split(":", 1)[0]
        function = self.functions.get(name)
        if function is None or (":" in text and not function.arn.endswith(text)):
            return None
        return function

    def _function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    # -- invoking ----------------------------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[Invocation], None]) -> None:
        self._listeners.append(callback)

    def set_call_guard(self, guard: CallGuard | None) -> None:
        """guard(function, service, operation, params) -> None to allow, or (code, message[, http status]) to deny."""
        self._guard = guard

    def invoke(self, name: str, payload: Any = None, invocation_type: str = "RequestResponse") -> Invocation:
        """The harness invoking a function directly (a top-level action: the async queue is drained after)."""
        function = self._require(name)
        with self._top_level_action():
            invocation = self._new_invocation(function, "direct", payload if payload is not None else {})
            if invocation_type == "Event":
                self._queue.append(invocation)
            else:
                self._run(invocation)
        return invocation

    def drain(self) -> None:
        """Run queued Event invocations first-in first-out, including those they queue, until none is left."""
        for _ in range(MAX_DRAIN):
            if not self._queue:
                return
            self._run(self._queue.popleft())
        raise HostError(f"the async queue still had {len(self._queue)} invocations after {MAX_DRAIN} runs "
                        f"(next: {self._queue[0].function}): a function keeps invoking itself?")

    def _require(self, name: str) -> DeployedFunction:
        function = self.find(name)
        if function is None:
            raise HostError(f"no function {name!r} is loaded; known: {sorted(self.functions)}")
        return function

    @contextlib.contextmanager
    def _top_level_action(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0:
            self.drain()

    def _new_invocation(self, function: DeployedFunction, trigger: str, event: Any) -> Invocation:
        return Invocation(function=function.name, trigger=trigger, event=event, request_id=self._next_id())

    def _next_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids), version=4))

    def _run(self, invocation: Invocation) -> Invocation:
        function = self.functions[invocation.function]
        invocation.started = self.clock.now()
        self.invocations.append(invocation)
        self._running.append(invocation)
        try:
            with self._function_environ(function), self._captured_output(function, invocation.logs), \
                    _sleep_recorded_in(invocation):
                result = self._handler_of(function)(invocation.event,
                                                    LambdaContext(function, invocation.request_id, self.clock))
                invocation.result = _marshal(result)
        except _RuntimeFailure as failure:
            invocation.error = {"type": failure.error_type, "message": str(failure)}
        except Exception as exc:  # the handler's failure is Lambda's errorType/errorMessage, not the harness's
            invocation.error = {"type": type(exc).__name__, "message": str(exc)}
            invocation.stack_trace = traceback.format_tb(exc.__traceback__)[1:]
        finally:
            self._running.pop()
            invocation.ended = self.clock.now()
        for listener in self._listeners:
            listener(invocation)
        return invocation

    def _handler_of(self, function: DeployedFunction) -> Callable[[Any, LambdaContext], Any]:
        module_name, _, attribute = function.handler.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise _RuntimeFailure("Runtime.ImportModuleError",
                                  f"Unable to import module '{module_name}': {exc}") from exc
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise _RuntimeFailure("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module "
                                                             f"'{module_name}'")
        return handler

    def _function_environ(self, function: DeployedFunction) -> contextlib.AbstractContextManager[None]:
        runtime = {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "_HANDLER": function.handler,
            "LAMBDA_TASK_ROOT": os.getcwd(),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        return replaced_environ(environ_without_aws({**self._base_env(), **function.environment, **runtime}))

    @contextlib.contextmanager
    def _captured_output(self, function: DeployedFunction, logs: list[dict[str, Any]]) -> Iterator[None]:
        """Collect prints and log records as this invocation's lines; each function keeps its own root log level."""
        root = logging.getLogger()
        outer_level = root.level
        _set_level(root, self._root_levels.get(function.name, _DEFAULT_ROOT_LEVEL))
        collector = _LogRecordCollector(logs)
        stdout, stderr = _LineWriter(logs), _LineWriter(logs)
        root.addHandler(collector)
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                yield
        finally:
            root.removeHandler(collector)
            stdout.close_line()
            stderr.close_line()
            self._root_levels[function.name] = root.level
            _set_level(root, outer_level)

    # -- botocore hooks ----------------------------------------------------------------------------------------------
    def _remember_call(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params
        if not context.get(_INTERNAL) and self._running:
            context[_CALLER] = self._running[-1]
            context[_SNAPSHOT] = json_safe(params)

    def _answer_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        service = model.service_model.service_id.hyphenize()
        params = context.get(_PARAMS, {})
        caller: Invocation | None = context.get(_CALLER)
        if caller is not None and self._guard is not None:
            denied = self._guard(self.functions[caller.function], service, model.name, context[_SNAPSHOT])
            if denied is not None:
                code, message, *status = denied
                return _error_answer(code, message, status[0] if status else 403, self._next_id())
        if service == "lambda" and model.name == "Invoke":
            return self._serve_invoke(params)
        return None

    def _serve_invoke(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        request_id = self._next_id()
        name = params.get("FunctionName", "")
        function = self.find(name)
        if function is None:
            arn = name if name.startswith("arn:") else self._function_arn(name)
            return _error_answer("ResourceNotFoundException", f"Function not found: {arn}", 404, request_id)
        invocation_type = params.get("InvocationType", "RequestResponse")
        payload = _read_payload(params.get("Payload"))
        if invocation_type == "DryRun":
            return _lambda_answer(204, {"StatusCode": 204, "Payload": _streaming(b"")}, request_id)
        if invocation_type == "Event":
            self._queue.append(self._new_invocation(function, "event", payload))
            if self._depth == 0 and not self._running:  # called from outside any action: this call is the action
                self.drain()
            return _lambda_answer(202, {"StatusCode": 202, "Payload": _streaming(b"")}, request_id)
        invocation = self._run(self._new_invocation(function, "invoke", payload))
        return _lambda_answer(200, self._invoke_result(invocation), request_id)

    @staticmethod
    def _invoke_result(invocation: Invocation) -> dict[str, Any]:
        answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        if invocation.error is None:
            body = invocation.result
        else:
            answer["FunctionError"] = "Unhandled"
            body = {"errorMessage": invocation.error["message"], "errorType": invocation.error["type"],
                    "requestId": invocation.request_id, "stackTrace": invocation.stack_trace}
        answer["Payload"] = _streaming(json.dumps(body).encode("utf-8"))
        return answer

    def _record_call(self, event_name: str, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
                     **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
        self._append_call(event_name, context, error)

    def _record_call_error(self, event_name: str, exception: Exception, context: dict[str, Any], **_: Any) -> None:
        self._append_call(event_name, context, type(exception).__name__)  # no answer at all (e.g. connection)

    @staticmethod
    def _append_call(event_name: str, context: dict[str, Any], error: str | None) -> None:
        caller: Invocation | None = context.get(_CALLER)
        if caller is None:
            return
        _, service, operation = event_name.split(".", 2)  # "after-call.<service id>.<Operation>"
        caller.calls.append({
            "service": service, "operation": operation,
            "params": context.get(_SNAPSHOT, {}), "region": context.get("client_region"),
            "error": error, "function": caller.function,
        })

    # -- schedules -----------------------------------------------------------------------------------------------------
    def start_schedules(self) -> None:
        """Put every ENABLED rule on the clock; the first firing is one period (or the next cron minute) away."""
        for rule in self.rules:
            if rule.state == "ENABLED":
                try:
                    schedule = Schedule(rule.expression)
                except ValueError as exc:
                    raise HostError(f"rule {rule.name}: {exc}") from exc
                self._arm(rule, schedule, schedule.next_after(self.clock.now()))

    def stop_schedules(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def _arm(self, rule: ScheduleRule, schedule: Schedule, when: float) -> None:
        def fire() -> None:
            self._arm(rule, schedule, schedule.next_after(when))
            self._fire(rule)

        self._timers.append(self.clock.call_at(when, fire, name=f"rule:{rule.name}"))

    def _fire(self, rule: ScheduleRule) -> None:
        with self._top_level_action():
            for target in rule.targets:
                function = self.find(target.arn)
                if function is None:
                    self.undelivered.append({"rule": rule.name, "target": target.arn, "time": self.clock.isoformat()})
                    continue
                event = json.loads(target.input) if target.input else self._scheduled_event(rule)
                self._queue.append(self._new_invocation(function, "schedule", event))

    def _scheduled_event(self, rule: ScheduleRule) -> dict[str, Any]:
        return {"version": "0", "id": self._next_id(), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self.account_id, "time": self.clock.isoformat(int(self.clock.now())),
                "region": self.region, "resources": [rule.arn], "detail": {}}

    # -- API Gateway ---------------------------------------------------------------------------------------------------
    def api_request(self, function_name: str, method: str, path: str, body: Any = None,
                    query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                    claims: Mapping[str, Any] | None = None, resource: str | None = None,
                    path_parameters: Mapping[str, str] | None = None) -> ApiResponse:
        """One HTTP request through an API Gateway REST proxy integration (Cognito authorizer) to the function."""
        function = self._require(function_name)
        event = self.proxy_event(method, path, body, query, headers, claims, resource, path_parameters)
        with self._top_level_action():
            invocation = self._run(self._new_invocation(function, "api", event))
        return _api_response(invocation)

    def proxy_event(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, claims: Mapping[str, Any] | None = None,
                    resource: str | None = None, path_parameters: Mapping[str, str] | None = None
                    ) -> dict[str, Any]:
        all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        multi_query = {key: [str(v) for v in (value if isinstance(value, list) else [value])]
                       for key, value in (query or {}).items()}
        now = self.clock.now()
        return {
            "resource": resource or path, "path": path, "httpMethod": method.upper(),
            "headers": all_headers, "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
            "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(path_parameters) if path_parameters else None,
            "stageVariables": None,
            "requestContext": self._request_context(method.upper(), path, resource or path, claims, now),
            "body": _proxy_body(body), "isBase64Encoded": False,
        }

    def _request_context(self, method: str, path: str, resource: str, claims: Mapping[str, Any] | None,
                         now: float) -> dict[str, Any]:
        return {
            "resourcePath": resource, "httpMethod": method, "path": f"/test{path}", "stage": "test",
            "accountId": self.account_id, "apiId": "drsparity", "protocol": "HTTP/1.1",
            "requestId": self._next_id(), "requestTimeEpoch": int(now * 1000),
            "requestTime": dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "drs-parity", "cognitoIdentityId": None},
            "authorizer": {"claims": dict(claims) if claims is not None else dict(DEFAULT_CLAIMS)},
        }


DEFAULT_CLAIMS = {"sub": "00000000-0000-4000-8000-000000000001", "email": "test.user@example.com",
                  "cognito:username": "test.user", "cognito:groups": "DRSOrchestrationAdmin"}


class _RuntimeFailure(Exception):
    """A failure of the Lambda runtime itself (import, handler lookup), reported with the runtime's error type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _marshal(result: Any) -> Any:
    """The result as the caller receives it: through JSON, as the Lambda runtime sends it."""
    try:
        return json.loads(json.dumps(result, default=_decimal_default))
    except (TypeError, ValueError) as exc:
        raise _RuntimeFailure("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def _proxy_body(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body  # a str goes verbatim, so tests can send malformed JSON
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8")
    return json.dumps(body)


_GATEWAY_FAILURE = ApiResponse(502, {"Content-Type": "application/json"}, {"message": "Internal server error"},
                               '{"message": "Internal server error"}')


def _api_response(invocation: Invocation) -> ApiResponse:
    """What API Gateway answers for the function's proxy result (502 when it raised or answered nonsense)."""
    result = invocation.result
    if invocation.error is not None or not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return ApiResponse(_GATEWAY_FAILURE.status, dict(_GATEWAY_FAILURE.headers), dict(_GATEWAY_FAILURE.body),
                           _GATEWAY_FAILURE.raw)
    headers = {key: ",".join(map(str, values)) for key, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update({key: str(value) for key, value in (result.get("headers") or {}).items()})
    raw = result.get("body")
    raw = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return ApiResponse(result["statusCode"], headers, body, raw)
