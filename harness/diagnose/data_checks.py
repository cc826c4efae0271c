"""The data links: what the side's words (the contract's by default) say its execution items must look like."""

from __future__ import annotations

import difflib
from typing import Any, Iterator, Mapping

from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Evidence
from drs_parity.diagnose.timeline import TimelineView

INSTANCE_FACTS = ("instanceId", "privateIp", "instanceType")


def _servers(view: TimelineView, item: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """(wave number, wave, server status) of every server of the item."""
    for number, wave in enumerate(view.waves_of(item)):
        if isinstance(wave, Mapping):
            for server in view.value(wave, "wave", "serverStatuses") or ():
                yield number, wave, server


def _field_problem(view: TimelineView, record: Mapping[str, Any], level: str, where: str) -> str | None:
    """A field the side's words do not name (with the likely name they give), else a missing one, else None."""
    expected = view.words.fields.expected(level)
    authority = view.words.authority("fields")
    unknown = [name for name in record if name not in expected]
    if unknown:
        hint = _contract_name_for(unknown[0], record, expected, authority)
        return f"{where} has {unknown[0]!r}, which {authority} does not name{hint}"
    missing = [name for name in expected if name not in record]
    return f"{where} lacks {missing[0]!r}" if missing else None


def _contract_name_for(name: str, record: Mapping[str, Any], expected: tuple[str, ...], authority: str) -> str:
    """The expected field `name` most likely stands for: same name but for case, else a similar empty one."""
    same = [field_name for field_name in expected if field_name.lower() == name.lower()]
    empty = [field_name for field_name in expected if record.get(field_name) in (None, [], {}, "")]
    close = same or difflib.get_close_matches(name, empty, n=1, cutoff=0.4)
    if same:
        return f" ({authority} says {same[0]})"
    return f" ({authority}'s {close[0]} is empty there)" if close else ""


def check_field_names(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Items, waves and servers use exactly the field names of the side's words (the contract's by default)."""
    for step, item in view.items():
        where = view.step_label(step)
        problem = _field_problem(view, item, "execution", f"the item at {where}")
        for number, wave in enumerate(view.waves_of(item)):
            problem = problem or _field_problem(view, wave, "wave", f"wave {number} at {where}")
        for number, _, server in _servers(view, item):
            problem = problem or _field_problem(view, server, "server", f"a server of wave {number} at {where}")
        if problem:
            return FAIL, problem
    return PASS, f"item, wave and server fields are {view.words.authority('fields')}'s"


def check_status_values(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Execution, wave and launch statuses are values of the side's words (the contract's by default)."""
    words = view.words
    for step, item in view.items():
        values = [("execution status", view.value(item, "execution", "status"), words.all_execution_statuses)]
        values += [(f"wave {number} status", view.value(wave, "wave", "status"), words.all_wave_statuses)
                   for number, wave in enumerate(view.waves_of(item)) if isinstance(wave, Mapping)]
        values += [(f"{view.field('server', 'launchStatus')} of {view.value(server, 'server', 'sourceServerId')}",
                    view.value(server, "server", "launchStatus"), words.all_launch_statuses)
                   for _, _, server in _servers(view, item)]
        for what, value, allowed in values:
            if value is not None and value not in allowed:
                return FAIL, _not_a_value(view, what, value, allowed, step)
    return PASS, f"execution, wave and launch statuses are {words.authority('statuses')}'s values"


def _not_a_value(view: TimelineView, what: str, value: Any, allowed: tuple[str, ...], step: Mapping[str, Any]) -> str:
    """A status value the side's words do not allow, with the one it most likely stands for."""
    authority = view.words.authority("statuses")
    same = [status for status in allowed if status.lower() == str(value).lower()]
    hint = f" ({authority} says {same[0]})" if same else ""
    owner = "a contract value" if authority == "the contract" else f"a value of {authority}"
    return f"{what} {value!r} at {view.step_label(step)} is not {owner}{hint}"


def check_servers_enriched(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Servers carry their names and, once launched, their recovery instance's EC2 facts."""
    enriched = 0
    words = view.words
    for step, item in view.items():
        where = view.step_label(step)
        for number, wave in enumerate(view.waves_of(item)):
            status = view.value(wave, "wave", "status")
            if status in words.enriched_wave_statuses and view.value(wave, "wave", "jobId") \
                    and view.value(wave, "wave", "serverIds") and not view.value(wave, "wave", "serverStatuses"):
                return FAIL, f"wave {number} is {status} at {where} but has no {view.field('wave', 'serverStatuses')}"
        for number, _, server in _servers(view, item):
            missing = _missing_facts(view, server)
            if missing:
                return FAIL, (f"server {view.value(server, 'server', 'sourceServerId')} of wave {number} "
                              f"({view.value(server, 'server', 'launchStatus')}) at {where} has no {', '.join(missing)}")
            enriched += 1
    if not enriched:
        return SKIP, "no server status was ever written"
    return PASS, (f"every server has its name; every {words.launched_status} server its instance, private IP and "
                  f"type")


def _missing_facts(view: TimelineView, server: Mapping[str, Any]) -> list[str]:
    """The server's empty facts (its names for them): its name always, its instance's once launched."""
    launched = view.value(server, "server", "launchStatus") == view.words.launched_status
    facts = ["serverName", *(INSTANCE_FACTS if launched else ())]
    return [view.field("server", fact) for fact in facts if view.value(server, "server", fact) in (None, "")]


def check_final_waves(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """An execution is final only with every wave of its plan final."""
    words = view.words
    finals = {status.upper() for status in words.final_statuses}
    for step, item in view.items():
        status = view.value(item, "execution", "status")
        if str(status).upper() not in finals:
            continue
        waves = view.waves_of(item)
        planned = (view.plan_wave_count(view.value(item, "execution", "planId"))
                   or view.value(item, "execution", "totalWaves") or len(waves))
        if len(waves) < planned:
            return FAIL, f"execution {status} at {view.step_label(step)} with {len(waves)} of {planned} waves"
        open_waves = [(number, wave) for number, wave in enumerate(waves)
                      if view.value(wave, "wave", "status") not in words.final_wave_statuses]
        if open_waves:
            number, wave = open_waves[0]
            return FAIL, (f"execution {status} at {view.step_label(step)} while wave {number} "
                          f"({view.value(wave, 'wave', 'waveName')}) is {view.value(wave, 'wave', 'status')}")
    return PASS, "an execution is final only when every wave of its plan is"

