"""The data links: what the contract says the execution item, its waves and its servers must look like."""

from __future__ import annotations

import difflib
from typing import Any, Iterator, Mapping

from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Evidence
from drs_parity.diagnose.timeline import TimelineView
from drs_parity.fixtures.scenario_model import EXECUTION_STATUSES, SERVER_LAUNCH_STATUSES, WAVE_STATUSES

FINAL_EXECUTION = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT")
FINAL_WAVE = ("COMPLETED", "FAILED", "CANCELLED")
ENRICHED_WAVES = ("LAUNCHING", "COMPLETED", "FAILED")
INSTANCE_FACTS = ("instanceId", "privateIp", "instanceType")
EXECUTION_FIELDS = ("executionId", "planId", "planName", "executionType", "status", "initiatedBy", "startTime",
                    "endTime", "totalWaves", "currentWave", "lastPolledTime", "pausedBeforeWave", "errorMessage",
                    "waves")
WAVE_FIELDS = ("waveNumber", "waveName", "status", "jobId", "region", "accountId", "startTime", "endTime",
               "serverIds", "statusMessage", "serverStatuses")
SERVER_FIELDS = ("sourceServerId", "serverName", "hostname", "launchStatus", "launchTime", "instanceId", "privateIp",
                 "instanceType")


def _servers(item: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """(wave number, wave, server status) of every server of the item."""
    for number, wave in enumerate(item.get("waves") or ()):
        if isinstance(wave, Mapping):
            for server in wave.get("serverStatuses") or ():
                yield number, wave, server


def _field_problem(record: Mapping[str, Any], contract: tuple[str, ...], where: str) -> str | None:
    """A field the contract does not name (with the likely contract name), else a missing one, else None."""
    unknown = [name for name in record if name not in contract]
    if unknown:
        hint = _contract_name_for(unknown[0], record, contract)
        return f"{where} has {unknown[0]!r}, which the contract does not name{hint}"
    missing = [name for name in contract if name not in record]
    return f"{where} lacks {missing[0]!r}" if missing else None


def _contract_name_for(name: str, record: Mapping[str, Any], contract: tuple[str, ...]) -> str:
    """The contract field `name` most likely stands for: same name but for case, else a similar empty one."""
    same = [field_name for field_name in contract if field_name.lower() == name.lower()]
    empty = [field_name for field_name in contract if record.get(field_name) in (None, [], {}, "")]
    close = same or difflib.get_close_matches(name, empty, n=1, cutoff=0.4)
    if same:
        return f" (the contract says {same[0]})"
    return f" (the contract's {close[0]} is empty there)" if close else ""


def check_field_names(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Items, waves and servers use exactly the contract's field names."""
    for step, item in view.items():
        where = view.step_label(step)
        problem = _field_problem(item, EXECUTION_FIELDS, f"the item at {where}")
        for number, wave in enumerate(item.get("waves") or ()):
            problem = problem or _field_problem(wave, WAVE_FIELDS, f"wave {number} at {where}")
        for number, _, server in _servers(item):
            problem = problem or _field_problem(server, SERVER_FIELDS, f"a server of wave {number} at {where}")
        if problem:
            return FAIL, problem
    return PASS, "item, wave and server fields are the contract's"


def check_status_values(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Execution, wave and launch statuses are the contract's values."""
    for step, item in view.items():
        values = [("execution status", item.get("status"), EXECUTION_STATUSES)]
        values += [(f"wave {number} status", wave.get("status"), WAVE_STATUSES)
                   for number, wave in enumerate(item.get("waves") or ()) if isinstance(wave, Mapping)]
        values += [(f"launchStatus of {server.get('sourceServerId')}", server.get("launchStatus"),
                    SERVER_LAUNCH_STATUSES) for _, _, server in _servers(item)]
        for what, value, allowed in values:
            if value is not None and value not in allowed:
                hint = f" (the contract says {str(value).upper()})" if str(value).upper() in allowed else ""
                return FAIL, f"{what} {value!r} at {view.step_label(step)} is not a contract value{hint}"
    return PASS, "execution, wave and launch statuses are the contract's upper-case values"


def check_servers_enriched(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Servers carry their names and, once launched, their recovery instance's EC2 facts."""
    enriched = 0
    for step, item in view.items():
        where = view.step_label(step)
        for number, wave in enumerate(item.get("waves") or ()):
            if wave.get("status") in ENRICHED_WAVES and wave.get("jobId") and wave.get("serverIds") \
                    and not wave.get("serverStatuses"):
                return FAIL, f"wave {number} is {wave.get('status')} at {where} but has no serverStatuses"
        for number, _, server in _servers(item):
            missing = [] if server.get("serverName") else ["serverName"]
            if server.get("launchStatus") == "LAUNCHED":
                missing += [fact for fact in INSTANCE_FACTS if server.get(fact) in (None, "")]
            if missing:
                return FAIL, (f"server {server.get('sourceServerId')} of wave {number} ({server.get('launchStatus')}) "
                              f"at {where} has no {', '.join(missing)}")
            enriched += 1
    if not enriched:
        return SKIP, "no server status was ever written"
    return PASS, "every server has its name; every LAUNCHED server its instance, private IP and type"


def check_final_waves(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """An execution is final only with every wave of its plan final."""
    for step, item in view.items():
        if str(item.get("status")).upper() not in FINAL_EXECUTION:
            continue
        waves = item.get("waves") or []
        planned = view.plan_wave_count(item.get("planId")) or item.get("totalWaves") or len(waves)
        if len(waves) < planned:
            return FAIL, f"execution {item.get('status')} at {view.step_label(step)} with {len(waves)} of {planned} waves"
        open_waves = [(number, wave) for number, wave in enumerate(waves) if wave.get("status") not in FINAL_WAVE]
        if open_waves:
            number, wave = open_waves[0]
            return FAIL, (f"execution {item.get('status')} at {view.step_label(step)} while wave {number} "
                          f"({wave.get('waveName')}) is {wave.get('status')}")
    return PASS, "an execution is final only when every wave of its plan is"

