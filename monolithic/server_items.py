"""How an execution is stored (pure): the execution item, one server item per wave server, and the two assembled."""

from __future__ import annotations

from typing import Any, Iterable

Item = dict[str, Any]
ServerKey = tuple[int, str]  # (waveNumber, sourceServerId)

SERVER_MARK = "#server#"  # the range key of a server item: <planId>#server#<wave:04d>#<sourceServerId>
SERVER_FIELDS = ("sourceServerId", "serverName", "hostname", "launchStatus", "launchTime", "instanceId", "privateIp",
                 "instanceType")


def server_range_key(plan_id: str, wave_number: int, server_id: str) -> str:
    return f"{plan_id}{SERVER_MARK}{wave_number:04d}#{server_id}"


def is_server_item(item: Item) -> bool:
    return SERVER_MARK in str(item.get("planId", ""))


def assemble(items: Iterable[Item]) -> Item | None:
    """The execution as read: the execution item (it sorts first) with each wave's serverStatuses from its server
    items; None when there is no execution item."""
    items = list(items)
    if not items or is_server_item(items[0]):
        return None
    execution = items[0]
    servers: dict[int, list[Item]] = {}
    for item in items[1:]:
        servers.setdefault(item["waveNumber"], []).append({name: item.get(name) for name in SERVER_FIELDS})
    for wave in execution["waves"]:
        wave["serverStatuses"] = sorted(servers.get(wave["waveNumber"], []), key=lambda s: s["sourceServerId"])
    return execution


def stored_waves(waves: list[Item]) -> list[Item]:
    """The waves as the execution item keeps them: their servers live in server items."""
    return [{name: value for name, value in wave.items() if name != "serverStatuses"} for wave in waves]


def server_statuses(execution: Item) -> dict[ServerKey, Item]:
    """Every server status of the execution, by (wave, server)."""
    return {(wave["waveNumber"], server["sourceServerId"]): server
            for wave in execution["waves"] for server in wave.get("serverStatuses") or ()}


def changed_server_items(execution: Item, read: dict[ServerKey, Item]) -> list[Item]:
    """Server items whose status differs from the one read (or was not there), in wave then server order."""
    changed = sorted((key, status) for key, status in server_statuses(execution).items() if read.get(key) != status)
    return [{"executionId": execution["executionId"],
             "planId": server_range_key(execution["planId"], wave_number, server_id),
             "waveNumber": wave_number, **status} for (wave_number, server_id), status in changed]
