"""Structured log lines: one JSON object per line, the contract's lines at INFO/ERROR, the rest at DEBUG."""

import json

from shared import config


def _emit(level: str, message: str, execution_id: str | None) -> None:
    line: dict[str, str] = {"level": level, "message": message}
    if execution_id is not None:
        line["executionId"] = execution_id
    print(json.dumps(line), flush=True)


def info(message: str, execution_id: str | None = None) -> None:
    _emit("INFO", message, execution_id)


def error(message: str, execution_id: str | None = None) -> None:
    _emit("ERROR", message, execution_id)


def debug(message: str, execution_id: str | None = None) -> None:
    # Not part of the contract: printed only when an operator asks for it.
    if config.log_level() == "DEBUG":
        _emit("DEBUG", message, execution_id)
