"""Structured JSON log lines on stdout, exactly the contract's shape: level, message and maybe executionId."""

from __future__ import annotations

import json
import os

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


def _enabled(level: str) -> bool:
    # read at call time: the function host sets LOG_LEVEL per invocation
    threshold = os.environ.get("LOG_LEVEL", "INFO").upper()
    return _LEVELS[level] >= _LEVELS.get(threshold, _LEVELS["INFO"])


def _emit(level: str, message: str, execution_id: str | None) -> None:
    if not _enabled(level):
        return
    record: dict[str, str] = {"level": level, "message": message}
    if execution_id is not None:
        record["executionId"] = execution_id
    print(json.dumps(record), flush=True)


def debug(message: str, execution_id: str | None = None) -> None:
    _emit("DEBUG", message, execution_id)


def info(message: str, execution_id: str | None = None) -> None:
    _emit("INFO", message, execution_id)


def error(message: str, execution_id: str | None = None) -> None:
    _emit("ERROR", message, execution_id)
