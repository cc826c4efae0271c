"""A side's status track: per step, each execution's status and wave statuses, and the Lambda runtime failures."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

EXECUTION_TABLE = "execution-history"  # the table whose items are executions (status, waves[].status)
ID_FIELDS = ("executionId", "id", "pk")  # what tells one execution item from another, first present wins
Track = list[dict[str, Any]]  # one entry a step: index, name, time, executions [{id, status, waves}], failures


def table_items(table: Any) -> list[Mapping[str, Any]]:
    """A table's items, whether captured (a list) or normalised (a dict keyed by item key)."""
    values = table.values() if isinstance(table, Mapping) else (table or [])
    return [item for item in values if isinstance(item, Mapping)]


def execution_id(item: Mapping[str, Any], position: int) -> str:
    """An execution item's identity (its first id field), else its position in the table."""
    for name in ID_FIELDS:
        if item.get(name) is not None:
            return str(item[name])
    return f"#{position}"


def wave_statuses(item: Mapping[str, Any]) -> list[str]:
    """Each wave's status, in wave order."""
    waves = item.get("waves")
    return [str(wave.get("status")) for wave in waves if isinstance(wave, Mapping)] if isinstance(waves, list) else []


def step_executions(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The step's executions: id, status and wave statuses (items with neither, e.g. the contract's server items
    beside their execution item, are no execution)."""
    items = table_items((step.get("tables") or {}).get(EXECUTION_TABLE))
    return [{"id": execution_id(item, position), "status": str(item.get("status")), "waves": wave_statuses(item)}
            for position, item in enumerate(items) if "status" in item or "waves" in item]


def last_trace_line(error: Mapping[str, Any], trace: Iterable[str] | None) -> str | None:
    """The traceback's last line (the frame that raised), from the error's stackTrace or the invocation's."""
    lines = [line for entry in (trace or error.get("stackTrace") or []) for line in str(entry).splitlines()
             if line.strip()]
    return lines[-1].strip() if lines else None


def failure(invocation: Mapping[str, Any]) -> dict[str, Any] | None:
    """An invocation's Lambda runtime failure (import error, unhandled exception, timeout), else None."""
    error = invocation.get("error")
    if not isinstance(error, Mapping):
        return None
    return {"function": invocation.get("function"), "trigger": invocation.get("trigger"),
            "type": str(error.get("type") or error.get("errorType") or "Error"),
            "message": str(error.get("message") or error.get("errorMessage") or ""),
            "trace": last_trace_line(error, invocation.get("stackTrace"))}


def step_failures(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The step's failed invocations, the console's reads included (a console read that fails is seen too)."""
    found = (failure(invocation) for invocation in step.get("invocations") or [] if isinstance(invocation, Mapping))
    return [entry for entry in found if entry is not None]


def side_track(timeline: Mapping[str, Any]) -> Track:
    """A side's captured (or normalised) timeline as its status track, one entry a step."""
    track = [{"index": step.get("index", position), "name": step.get("name"), "time": step.get("time"),
              "executions": step_executions(step), "failures": step_failures(step)}
             for position, step in enumerate(timeline.get("steps") or []) if isinstance(step, Mapping)]
    return with_stable_ids(track)


def with_stable_ids(track: Track) -> Track:
    """Generated execution ids become `execution N` in order of appearance, so equal runs give equal tracks."""
    numbers: dict[str, int] = {}
    for entry in track:
        for execution in entry["executions"]:
            execution["id"] = f"execution {numbers.setdefault(execution['id'], len(numbers) + 1)}"
    return track
