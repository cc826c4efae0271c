"""Both implementations' execution-history layout, pure: the execution as read, stored waves, what a poll writes."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.reference.code_packages import decomposed, monolith

mono = monolith("server_items")
dec = decomposed("ExecutionPollerFunction", "shared.domain.storage")

# (assemble, stored waves, statuses by (wave, server), server items to write) of each implementation
LAYOUTS = {
    "monolithic": (mono.assemble, mono.stored_waves, mono.server_statuses, mono.changed_server_items),
    "decomposed": (dec.execution_as_read, dec.waves_to_store, dec.statuses_by_wave_server, dec.server_items_to_write),
}


def status(server_id: str, launch: str = "LAUNCHED") -> dict[str, Any]:
    return {"sourceServerId": server_id, "serverName": server_id, "hostname": None, "launchStatus": launch,
            "launchTime": None, "instanceId": None, "privateIp": None, "instanceType": None}


def server_item(wave: int, server_id: str, launch: str = "LAUNCHED") -> dict[str, Any]:
    return {"executionId": "e1", "planId": f"p1#server#{wave:04d}#{server_id}", "waveNumber": wave,
            **status(server_id, launch)}


def execution_item() -> dict[str, Any]:
    return {"executionId": "e1", "planId": "p1", "status": "POLLING",
            "waves": [{"waveNumber": 0, "status": "COMPLETED"}, {"waveNumber": 1, "status": "LAUNCHING"},
                      {"waveNumber": 2, "status": "PENDING"}]}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> tuple[Callable[..., Any], ...]:
    return LAYOUTS[request.param]


def test_the_execution_as_read_gathers_each_waves_servers_sorted(layout: tuple[Callable[..., Any], ...]) -> None:
    assemble = layout[0]
    items = [execution_item(), server_item(0, "s-2"), server_item(0, "s-1"), server_item(1, "s-3", "PENDING")]
    execution = assemble(items)
    assert [[s["sourceServerId"] for s in wave["serverStatuses"]] for wave in execution["waves"]] == [
        ["s-1", "s-2"], ["s-3"], []]
    assert execution["waves"][1]["serverStatuses"] == [status("s-3", "PENDING")]  # no storage attributes
    assert assemble([server_item(0, "s-1")]) is None and assemble([]) is None  # no execution item: none


def test_waves_are_stored_without_their_servers(layout: tuple[Callable[..., Any], ...]) -> None:
    stored = layout[1]([{"waveNumber": 0, "status": "COMPLETED", "serverStatuses": [status("s-1")]}])
    assert stored == [{"waveNumber": 0, "status": "COMPLETED"}]


def test_only_new_or_changed_servers_are_written_in_wave_then_server_order(
        layout: tuple[Callable[..., Any], ...]) -> None:
    assemble, _, as_read, to_write = layout
    execution = assemble([execution_item(), server_item(0, "s-1"), server_item(1, "s-3", "PENDING")])
    read = as_read(execution)
    execution["waves"][1]["serverStatuses"] = [status("s-4", "PENDING"), status("s-3")]  # s-3 launched, s-4 new
    assert to_write(execution, read) == [server_item(1, "s-3"), server_item(1, "s-4", "PENDING")]
    assert to_write(assemble([execution_item(), server_item(0, "s-1")]), read) == []
