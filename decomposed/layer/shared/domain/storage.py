"""The execution-history layout (pure): an execution item plus one item per wave server, and back again."""

from typing import Any

Execution = dict[str, Any]
ServerStatus = dict[str, Any]
WaveServer = tuple[int, str]  # (waveNumber, sourceServerId)

SERVER_STATUS_FIELDS = (
    "sourceServerId", "serverName", "hostname", "launchStatus", "launchTime", "instanceId", "privateIp", "instanceType",
)
# In the range key of a server item, `<planId>#server#<wave:04d>#<sourceServerId>`: it sorts after its execution
# item and by wave then server, and it is no plan's id, so planIdIndex Queries of a plan never return it.
SERVER_KEY_INFIX = "#server#"


def server_sort_key(plan_id: str, wave_number: int, source_server_id: str) -> str:
    return f"{plan_id}{SERVER_KEY_INFIX}{int(wave_number):04d}#{source_server_id}"


def holds_server(item: dict[str, Any]) -> bool:
    return SERVER_KEY_INFIX in str(item.get("planId") or "")


def execution_as_read(items: list[dict[str, Any]]) -> Execution | None:
    """The execution item (first in key order) with each wave's `serverStatuses` gathered from the server items."""
    if not items or holds_server(items[0]):
        return None
    execution, server_items = items[0], items[1:]
    for wave in execution.get("waves") or []:
        of_wave = [item for item in server_items if item.get("waveNumber") == wave["waveNumber"]]
        statuses = [{name: item.get(name) for name in SERVER_STATUS_FIELDS} for item in of_wave]
        wave["serverStatuses"] = sorted(statuses, key=lambda status: status["sourceServerId"])
    return execution


def waves_to_store(waves: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Waves as the execution item holds them: without serverStatuses, which live in server items."""
    return [{key: value for key, value in wave.items() if key != "serverStatuses"} for wave in waves]


def statuses_by_wave_server(execution: Execution) -> dict[WaveServer, ServerStatus]:
    by_key: dict[WaveServer, ServerStatus] = {}
    for wave in execution.get("waves") or []:
        for status in wave.get("serverStatuses") or []:
            by_key[(int(wave["waveNumber"]), status["sourceServerId"])] = status
    return by_key


def server_items_to_write(execution: Execution, as_read: dict[WaveServer, ServerStatus]) -> list[dict[str, Any]]:
    """The server items whose status is new or differs from `as_read`, ordered by wave then server."""
    now = statuses_by_wave_server(execution)
    changed = [key for key in sorted(now) if as_read.get(key) != now[key]]
    return [
        {"executionId": execution["executionId"], "planId": server_sort_key(execution["planId"], wave, server),
         "waveNumber": wave, **now[(wave, server)]}
        for wave, server in changed
    ]
