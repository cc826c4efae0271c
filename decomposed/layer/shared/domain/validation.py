"""Field checks with the contract's generic messages; each raises ValidationError naming `label` on failure.

A field given as JSON null counts as not given.
"""

from typing import Any

from shared.errors import ValidationError


def is_integer(value: Any) -> bool:
    # JSON booleans are Python ints; the contract says a boolean is not an integer.
    return isinstance(value, int) and not isinstance(value, bool)


def required(value: Any, label: str) -> Any:
    if value is None:
        raise ValidationError(f"{label} is required")
    return value


def required_string(value: Any, label: str, max_length: int | None = None) -> str:
    """A required string that is not empty after strip (returned as given)."""
    required(value, label)
    _check_string(value, label)
    if not value.strip():
        raise ValidationError(f"{label} must not be empty")
    _check_length(value.strip(), label, max_length)  # required strings that have a limit are names, stored stripped
    return str(value)


def optional_string(value: Any, label: str, default: str | None, max_length: int | None = None) -> str | None:
    if value is None:
        return default
    _check_string(value, label)
    _check_length(value, label, max_length)
    return str(value)


def optional_boolean(value: Any, label: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"{label} must be a boolean")
    return value


def required_integer(value: Any, label: str) -> int:
    required(value, label)
    if not is_integer(value):
        raise ValidationError(f"{label} must be an integer")
    return int(value)


def _check_string(value: Any, label: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be a string")


def _check_length(value: str, label: str, max_length: int | None) -> None:
    """`value` as it will be stored; lengths are in characters."""
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"{label} must be at most {max_length} characters")
