"""The Lambda Python runtime, emulated: context object, handler loading, log capture, environment, marshalling."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import importlib
import io
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

from drs_parity.world.clock import VirtualClock
from drs_parity.world.functions import DeployedFunction, Invocation

_ENV_PREFIXES_NOT_INHERITED = ("AWS_", "LOCALSTACK_", "LAMBDA_", "_HANDLER", "_X_AMZN")
_LOGGERS_NOT_OF_THE_FUNCTION = ("moto", "werkzeug", "harness")  # emulator threads, never a Lambda's own lines
_DEFAULT_ROOT_LEVEL = logging.WARNING  # the Lambda Python runtime's root logger level

LambdaHandler = Callable[[Any, "LambdaContext"], Any]


@contextlib.contextmanager
def sleep_recorded_in(invocation: Invocation) -> Iterator[None]:
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


class RequestIds:
    """The numbers of a host's request ids (1, 2, ...: uuid4-shaped, reproducible), with a count of those issued."""

    def __init__(self) -> None:
        self.issued = 0

    def __iter__(self) -> "RequestIds":
        return self

    def __next__(self) -> int:
        self.issued += 1
        return self.issued

    def skip(self, count: int) -> None:
        """Take `count` ids unused, as the work reused instead of run again took them (later ids stay the same)."""
        self.issued += count


class RuntimeFailure(Exception):
    """A failure of the Lambda runtime itself (import, handler lookup), reported with the runtime's error type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def marshal(result: Any) -> Any:
    """The result as the caller receives it: through JSON, as the Lambda runtime sends it."""
    try:
        return json.loads(json.dumps(result, default=_decimal_default))
    except (TypeError, ValueError) as exc:
        raise RuntimeFailure("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def load_handler(function: DeployedFunction) -> LambdaHandler:
    """The function's handler, imported as the runtime does (RuntimeFailure when it cannot be)."""
    module_name, _, attribute = function.handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RuntimeFailure("Runtime.ImportModuleError",
                             f"Unable to import module '{module_name}': {exc}") from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise RuntimeFailure("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'")
    return handler


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
        self.logs = logs  # where its lines go (the invocation's)
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            if line.strip():
                self.logs.append(_log_entry(line, None))
        return len(text)

    def close_line(self) -> None:
        if self._partial.strip():
            self.logs.append(_log_entry(self._partial, None))
        self._partial = ""


def _set_level(logger: logging.Logger, level: int) -> None:
    """setLevel, skipped when nothing changes (setLevel clears the level cache of every logger of the process)."""
    if logger.level != level:
        logger.setLevel(level)


class _LogRecordCollector(logging.Handler):
    def __init__(self, logs: list[dict[str, Any]]) -> None:
        super().__init__(logging.NOTSET)
        self.logs = logs  # where its entries go (the invocation's)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_LOGGERS_NOT_OF_THE_FUNCTION):
            return
        entry = _log_entry(record.getMessage(), record.levelname)
        if record.exc_info and record.exc_info[0] is not None:
            entry.setdefault("exception", record.exc_info[0].__name__)
        self.logs.append(entry)


class OutputCapture:
    """Collects prints and log records as one invocation's lines at a time; each function keeps its own root log level.

    A host keeps one per nesting level of its invocations: its log handler and stdout/stderr writers are made once
    and pointed at each invocation's lines (making them was most of the capture's cost). One the function kept a
    reference to (a StreamHandler on sys.stdout made at import) stays that invocation's: a new one is made."""

    def __init__(self) -> None:
        self._make_parts()

    def _make_parts(self) -> None:
        self._collector = _LogRecordCollector([])
        self._stdout, self._stderr = _LineWriter([]), _LineWriter([])

    @contextlib.contextmanager
    def capturing(self, logs: list[dict[str, Any]], root_levels: dict[str, int], function: str) -> Iterator[None]:
        root = logging.getLogger()
        outer_level = root.level
        _set_level(root, root_levels.get(function, _DEFAULT_ROOT_LEVEL))
        self._collector.logs = self._stdout.logs = self._stderr.logs = logs
        root.addHandler(self._collector)
        outer_stdout, outer_stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self._stdout, self._stderr
        try:
            yield
        finally:
            sys.stdout, sys.stderr = outer_stdout, outer_stderr
            root.removeHandler(self._collector)
            self._stdout.close_line()
            self._stderr.close_line()
            root_levels[function] = root.level
            _set_level(root, outer_level)
            if self._kept_elsewhere():
                self._make_parts()

    def _kept_elsewhere(self) -> bool:
        # each is referenced by this object and by getrefcount's argument, unless the function kept it
        return (sys.getrefcount(self._collector) > 2 or sys.getrefcount(self._stdout) > 2
                or sys.getrefcount(self._stderr) > 2)


class OutputCaptures:
    """A host's output captures, one per nesting level of its invocations (an Invoke from a function nests one)."""

    def __init__(self) -> None:
        self._levels: list[OutputCapture] = []

    def at(self, depth: int) -> OutputCapture:
        """The capture of an invocation `depth` deep (1: a top-level one)."""
        while len(self._levels) < depth:
            self._levels.append(OutputCapture())
        return self._levels[depth - 1]


# -- environment -------------------------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _Change:
    """The variables one environment differs from another by: those to remove, and those to set (to their values),
    encoded once as os.environ encodes them (its item writes, less the encoding, were half of an invocation's)."""

    removed: tuple[bytes, ...]
    set: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def between(cls, current: Mapping[str, str], wanted: Mapping[str, str]) -> "_Change":
        key_of, value_of = os.environ.encodekey, os.environ.encodevalue  # type: ignore[attr-defined]
        return cls(tuple(key_of(key) for key in current.keys() - wanted.keys()),
                   tuple((key_of(key), value_of(value)) for key, value in wanted.items() if current.get(key) != value))

    def apply(self) -> None:
        """What `del os.environ[key]` and `os.environ[key] = value` do, for each variable."""
        data = os.environ._data  # type: ignore[attr-defined]
        for key in self.removed:
            os.unsetenv(key)
            del data[key]
        for key, value in self.set:
            os.putenv(key, value)
            data[key] = value


@dataclass(frozen=True)
class _Switch:
    """How to turn one process environment (`outer`, os.environ's bytes) into a function's, and back."""

    outer: dict[bytes, bytes]
    inside: dict[bytes, bytes]  # os.environ's bytes while the function runs
    wanted: dict[str, str]
    saved: dict[str, str]  # `outer` as strings
    entering: _Change  # saved -> wanted, worked out once: the handful of variables an invocation changes
    leaving: _Change  # wanted -> saved


_switches: dict[tuple[tuple[str, str], ...], _Switch] = {}
_MAX_SWITCHES = 256  # function environments remembered (a few per world)


@contextlib.contextmanager
def function_environ(extra: Mapping[str, str]) -> Iterator[None]:
    """os.environ is environ_without_aws(extra) inside the block and exactly what it was before afterwards.

    Each invocation needs it: filtering and diffing the whole process environment twice was 6% of a finder tick. The
    process environment between invocations is nearly always the one seen last time (compared as bytes, at C speed):
    then the variables to set and to restore are those found then."""
    data: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)  # CPython's own mapping behind os.environ
    if data is None:
        with replaced_environ(environ_without_aws(extra)):
            yield
        return
    key = tuple(extra.items())
    switch = _switches.get(key)
    if switch is None or switch.outer != data:
        switch = _new_switch(key, extra, data)
    switch.entering.apply()
    try:
        yield
    finally:
        if os.environ._data == switch.inside:  # type: ignore[attr-defined]
            switch.leaving.apply()
        else:  # the function changed its environment: everything it changed is undone
            _turn_environ(dict(os.environ), switch.saved)


def _new_switch(key: tuple[tuple[str, str], ...], extra: Mapping[str, str], data: dict[bytes, bytes]) -> _Switch:
    if len(_switches) >= _MAX_SWITCHES:
        _switches.clear()
    saved, wanted = dict(os.environ), environ_without_aws(extra)
    _turn_environ(saved, wanted)
    inside = dict(os.environ._data)  # type: ignore[attr-defined]
    _turn_environ(wanted, saved)
    switch = _switches[key] = _Switch(dict(data), inside, wanted, saved, _Change.between(saved, wanted),
                                      _Change.between(wanted, saved))
    return switch


def runtime_environment(function: DeployedFunction, task_root: str, region: str) -> dict[str, str]:
    """The variables the Lambda runtime sets for the function (its own environment comes on top of the base)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "_HANDLER": function.handler,
        "LAMBDA_TASK_ROOT": task_root,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def environ_without_aws(extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment minus AWS/LocalStack/Lambda settings, plus `extra` (so nothing leaks in)."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith(_ENV_PREFIXES_NOT_INHERITED)}
    return {**kept, **extra}
