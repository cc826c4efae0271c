"""The polling-chain doctor: walks one side's timeline the way the seed's investigation does and names the first broken link."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from drs_parity.fixtures.scenario import EXECUTION_STATUSES, SERVER_LAUNCH_STATUSES, WAVE_STATUSES

PASS, FAIL, SKIP = "pass", "fail", "skip"
SYMBOLS = {PASS: "✓", FAIL: "✗", SKIP: "–"}
EXIT_HEALTHY, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
STATUS_INDEX = "StatusIndex"
CHAIN_SERVICES = ("drs", "ec2", "sts")
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
FOUND = re.compile(r"^Found (\d+) executions in POLLING status$")
ID_FILTERS = {"DescribeJobs": ("jobIDs", "job"), "DescribeSourceServers": ("sourceServerIDs", "source server")}
Home = tuple[str | None, str | None]  # (account, region); account None where only a region is known


# -- what the doctor reports ------------------------------------------------------------------------------------------
@dataclass
class Check:
    link: str
    title: str
    status: str
    evidence: str

    def line(self, number: int, width: int) -> str:
        return f"  {SYMBOLS[self.status]} {number:>2} {self.link:<{width}}  {self.evidence}"

    def to_dict(self) -> dict[str, str]:
        return {"link": self.link, "title": self.title, "status": self.status, "evidence": self.evidence}


@dataclass
class Evidence:
    """What only a live world can tell: the deployed execution-history table and the DRS emulator's request log."""

    table: dict[str, Any] | None = None  # describe_table()["Table"]
    drs_requests: list[dict[str, Any]] = field(default_factory=list)
    drs_homes: dict[str, Home] = field(default_factory=dict)  # job or source server id -> where DRS keeps it


@dataclass
class Diagnosis:
    side: str
    scenario: str
    execution_id: str | None
    checks: list[Check]

    @property
    def first_broken(self) -> Check | None:
        return next((check for check in self.checks if check.status == FAIL), None)

    @property
    def exit_code(self) -> int:
        return EXIT_BROKEN if self.first_broken else EXIT_HEALTHY

    def render(self) -> str:
        width = max(len(check.link) for check in self.checks)
        lines = [f"drs-parity doctor: {self.side} on {self.scenario}, execution {self.execution_id or '(none)'}"]
        lines += [check.line(number, width) for number, check in enumerate(self.checks, start=1)]
        broken = self.first_broken
        lines.append("")
        lines.append(f"first broken link: {broken.link} ({broken.title}): {broken.evidence}" if broken
                     else "the polling chain is healthy: every link held")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        broken = self.first_broken
        return {"side": self.side, "scenario": self.scenario, "executionId": self.execution_id,
                "verdict": broken.link if broken else "healthy", "exitCode": self.exit_code,
                "checks": [check.to_dict() for check in self.checks]}


# -- reading a timeline -----------------------------------------------------------------------------------------------
class TimelineView:
    """The parts of a captured timeline (Timeline.to_dict()) the checks ask about, for one execution."""

    def __init__(self, timeline: Mapping[str, Any]) -> None:
        self.timeline = timeline
        self.steps: list[Mapping[str, Any]] = list(timeline.get("steps") or [])
        self.execution_id: str | None = timeline.get("currentExecution")
        self.start = self.steps[0].get("time", 0) if self.steps else 0

    def step_label(self, step: Mapping[str, Any]) -> str:
        return f"step {step.get('index')} ({step.get('name')}, t+{int(step.get('time', 0) - self.start)}s)"

    def records(self, kind: str) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
        for step in self.steps:
            for record in step.get(kind) or ():
                yield step, record

    def messages(self, predicate: Callable[[str], bool]) -> list[str]:
        return [str(record.get("message", "")) for _, record in self.records("logs")
                if predicate(str(record.get("message", "")))]

    def messages_about(self, template: str) -> list[str]:
        """Log lines equal to `template` with {id} replaced by this execution's id."""
        wanted = template.format(id=self.execution_id)
        return self.messages(lambda message: message == wanted)

    def messages_starting(self, prefix: str) -> list[str]:
        return self.messages(lambda message: message.startswith(prefix))

    def items(self) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
        """(step, execution item) for every execution item of every step."""
        for step in self.steps:
            for item in (step.get("tables") or {}).get("execution-history") or ():
                yield step, item

    def item_history(self) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
        return [(step, item) for step, item in self.items() if item.get("executionId") == self.execution_id]

    def plan_wave_count(self, plan_id: Any) -> int | None:
        for step in reversed(self.steps):
            for plan in (step.get("tables") or {}).get("recovery-plans") or ():
                if plan.get("planId") == plan_id:
                    return len(plan.get("waves") or ())
        return None


def _times(count: int) -> str:
    return f" (×{count})" if count > 1 else ""


def _first_with_count(lines: list[str]) -> str:
    return f"{lines[0]}{_times(len(lines))}"


def _dedupe(values: list[Any]) -> list[Any]:
    return [value for index, value in enumerate(values) if index == 0 or values[index - 1] != value]


# -- the chain, in the order of the seed's investigation steps --------------------------------------------------------
def check_status_polling(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    if view.execution_id is None:
        return FAIL, "no execution was started (the start step was refused or missing)"
    history = view.item_history()
    if not history:
        return FAIL, f"execution {view.execution_id} has no item in execution-history"
    statuses = _dedupe([item.get("status") for _, item in history])
    path = " → ".join(str(status) for status in statuses)
    if statuses == ["INITIATED"]:
        last = history[-1][0]
        return FAIL, f"status stayed INITIATED through {view.step_label(last)}; never POLLING"
    return PASS, f"status {path}"


def _queried_attribute(view: TimelineView) -> str:
    """The attribute the finder's StatusIndex queries name (default `status`, as the contract says)."""
    for _, call in _index_queries(view):
        names = (call.get("params") or {}).get("ExpressionAttributeNames") or {}
        if names:
            return str(next(iter(names.values())))
        condition = str((call.get("params") or {}).get("KeyConditionExpression", ""))
        if condition:
            return condition.split("=")[0].strip()
    return "status"


def _index_queries(view: TimelineView) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
    return [(step, call) for step, call in view.records("calls")
            if call.get("operation") == "Query" and (call.get("params") or {}).get("IndexName") == STATUS_INDEX]


def check_status_index(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    attribute = _queried_attribute(view)
    if evidence is not None and evidence.table is not None:
        return _status_index_of_table(evidence.table, attribute)
    queries = _index_queries(view)
    failed = [call for _, call in queries if call.get("error")]
    if failed:
        return FAIL, f"finder Query on {STATUS_INDEX} failed: {failed[0].get('error')}{_times(len(failed))}"
    if queries:
        return PASS, f"{len(queries)} queries on {STATUS_INDEX} succeeded (no table description in a timeline)"
    return SKIP, f"no table description and no Query on {STATUS_INDEX} to judge by"


def _status_index_of_table(table: Mapping[str, Any], attribute: str) -> tuple[str, str]:
    indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes") or ()}
    name = table.get("TableName")
    if STATUS_INDEX not in indexes:
        return FAIL, f"table {name} has no {STATUS_INDEX} (indexes: {', '.join(sorted(indexes)) or 'none'})"
    index = indexes[STATUS_INDEX]
    hash_key = next((key["AttributeName"] for key in index.get("KeySchema", ()) if key["KeyType"] == "HASH"), None)
    state = index.get("IndexStatus", "ACTIVE")
    projection = (index.get("Projection") or {}).get("ProjectionType")
    if hash_key != attribute:
        return FAIL, f"{STATUS_INDEX} of {name} is keyed on {hash_key!r}, but the finder queries {attribute!r}"
    if state != "ACTIVE":
        return FAIL, f"{STATUS_INDEX} of {name} is {state}, not ACTIVE"
    if projection != "ALL":
        return FAIL, f"{STATUS_INDEX} of {name} projects {projection}, not ALL"
    return PASS, f"{STATUS_INDEX} of {name}: ACTIVE, HASH {hash_key}, projection ALL"


def check_finder_found(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    runs = [record for _, record in view.records("invocations") if record.get("trigger") == "schedule"]
    found = [int(match[1]) for match in map(FOUND.match, view.messages(FOUND.match)) if match]
    if not runs:
        return FAIL, "the finder never ran: no schedule invocation"
    if any(count >= 1 for count in found):
        hits = sum(1 for count in found if count >= 1)
        return PASS, f"Found {max(found)} executions in POLLING status ({hits} of {len(runs)} finder runs found one)"
    errors = [str(record["error"]) for record in runs if record.get("error")]
    if errors:
        return FAIL, f"the finder failed: {_first_with_count(errors)}"
    failed_queries = [call for _, call in _index_queries(view) if call.get("error")]
    if failed_queries:
        return FAIL, f"the finder's Query on {STATUS_INDEX} failed: {failed_queries[0]['error']}"
    return FAIL, f"{len(runs)} finder runs, every one logged Found 0 executions in POLLING status"


def check_poller_invoked(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    invoking = view.messages_about("Invoking poller for execution {id}")
    polling = view.messages_about("Polling execution: {id}")
    if polling:
        return PASS, f"Invoking poller for execution …{_times(len(invoking))}; Polling execution: …{_times(len(polling))}"
    errors = view.messages_starting(f"Error invoking poller for execution {view.execution_id}")
    if errors:
        return FAIL, _first_with_count(errors)
    failed = [call for _, call in view.records("calls")
              if call.get("service") == "lambda" and call.get("operation") == "Invoke" and call.get("error")]
    if failed:
        target = (failed[0].get("params") or {}).get("FunctionName")
        return FAIL, f"lambda.Invoke of {target} failed: {failed[0]['error']}{_times(len(failed))}"
    if invoking:
        return FAIL, f"the finder logged Invoking poller{_times(len(invoking))}, but the poller never logged Polling execution"
    return FAIL, f"the finder never logged Invoking poller for execution {view.execution_id}"


def check_poller_wrote(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    polls = view.messages_about("Polling execution: {id}")
    if not polls:
        return SKIP, "not reached: the poller never polled this execution"
    updated = view.messages(lambda message: message.startswith("Updated ") and
                            message.endswith(f" waves for execution {view.execution_id}"))
    errors = view.messages_starting("Error updating execution waves")
    if errors:
        return FAIL, _first_with_count(errors)
    skipped = view.messages_about("Execution {id} changed during poll; update skipped")
    if not updated and skipped:
        return FAIL, _first_with_count(skipped)
    drs_errors = view.messages_starting("Error querying DRS")
    if not updated and drs_errors:
        return SKIP, f"not reached: every poll stopped at DRS ({drs_errors[0]})"
    if not updated:
        return FAIL, f"the poller polled {len(polls)} times and never logged Updated N waves"
    return _item_changed(view, updated)


def _item_changed(view: TimelineView, updated: list[str]) -> tuple[str, str]:
    history = [item for _, item in view.item_history()]
    waves = _dedupe([json.dumps(item.get("waves"), sort_keys=True, default=str) for item in history])
    polled = any(item.get("lastPolledTime") is not None for item in history)
    if len(waves) < 2 and not polled:
        return FAIL, f"{updated[-1]}, but the item's waves and lastPolledTime never changed"
    final = ", ".join(str(wave.get("status")) for wave in history[-1].get("waves") or ())
    return PASS, f"{updated[-1]}{_times(len(updated))}; waves now {final}"


def check_aws_calls(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    outcomes: dict[tuple[str, str, str], list[str | None]] = {}
    for _, call in view.records("calls"):
        if call.get("service") in CHAIN_SERVICES:
            key = (str(call.get("function")), str(call["service"]), str(call.get("operation")))
            outcomes.setdefault(key, []).append(call.get("error"))
    broken = {key: errors for key, errors in outcomes.items() if errors[-1] is not None}
    if broken:
        (function, service, operation), errors = next(iter(broken.items()))
        failures = [error for error in errors if error]
        detail = _error_detail(view, failures[-1], f"{service}:{operation}")
        return FAIL, f"{function} {service}.{operation} failed {len(failures)} of {len(errors)} calls: {detail}"
    misdirected = _misdirected_lookups(view, evidence)
    if misdirected:
        return FAIL, _first_with_count(misdirected)
    served = len(evidence.drs_requests) if evidence else None
    transient = Counter(error for errors in outcomes.values() for error in errors if error)
    counts = Counter(service for (_, service, _), errors in outcomes.items() for _ in errors)
    summary = ", ".join(f"{service} {counts[service]} ok" for service in CHAIN_SERVICES if counts[service])
    notes = [f"transient {error}{_times(n)} then ok" for error, n in sorted(transient.items())]
    if served is not None:
        notes.append(f"DRS emulator served {served} requests")
    return PASS, "; ".join([summary or "no DRS, EC2 or STS call", *notes])


def _wave_resources(view: TimelineView) -> dict[str, tuple[str, int, Home]]:
    """id -> (kind, wave number, the wave's account and region) for each wave's job and servers in this execution."""
    resources: dict[str, tuple[str, int, Home]] = {}
    for _, item in view.item_history():
        for number, wave in enumerate(item.get("waves") or ()):
            home = (wave.get("accountId"), wave.get("region"))
            resources.update({str(server): ("source server", number, home) for server in wave.get("serverIds") or ()})
            if wave.get("jobId"):
                resources[str(wave["jobId"])] = ("job", number, home)
    return resources


def _id_lookups(view: TimelineView, evidence: Evidence | None) -> Iterator[tuple[str, Home, list[str]]]:
    """(operation, where it asked, ids) of each successful DRS call that filters by ids (DRS omits unknown ones).

    Live evidence gives the emulator's log (account and region); a plain timeline its calls (region only).
    """
    if evidence is not None and evidence.drs_homes:
        asked = [(request.get("operation"), (request.get("account"), request.get("region")), request.get("params"))
                 for request in evidence.drs_requests if not request.get("error")]
    else:
        asked = [(call.get("operation"), (None, call.get("region")), call.get("params"))
                 for _, call in view.records("calls") if call.get("service") == "drs" and not call.get("error")]
    for operation, where, params in asked:
        if operation in ID_FILTERS:
            ids = ((params or {}).get("filters") or {}).get(ID_FILTERS[str(operation)][0]) or []
            yield str(operation), where, [str(resource_id) for resource_id in ids]


def _misdirected_lookups(view: TimelineView, evidence: Evidence | None) -> list[str]:
    """One line per lookup that asked one account or region for a wave's job or server that lives in another.

    Where it lives: the DRS emulator's state with live evidence, else the wave's account and region in the item.
    """
    resources = _wave_resources(view)
    homes = evidence.drs_homes if evidence is not None else {}
    keeper = "which DRS has in" if homes else "which the item puts in"
    lines = []
    for operation, asked, ids in _id_lookups(view, evidence):
        for resource_id in (resource_id for resource_id in ids if resource_id in resources):
            kind, number, wave_home = resources[resource_id]
            home = homes.get(resource_id, wave_home)
            if any(_differs(here, there) for here, there in zip(asked, home)):
                lines.append(f"{operation} asked {_place(asked, home)} for {kind} {resource_id} of wave {number}, "
                             f"{keeper} {_place(home, asked)}")
    return lines


def _differs(here: str | None, there: str | None) -> bool:
    """Both known and not the same."""
    return None not in (here, there) and here != there


def _place(where: Home, other: Home) -> str:
    """The region, preceded by the account when the two places' accounts differ."""
    return f"account {where[0]} {where[1]}" if _differs(where[0], other[0]) else str(where[1])


def _error_detail(view: TimelineView, code: str, action: str) -> str:
    """The log line or item message that quotes the error (it carries AWS's message), else the bare code."""
    texts = view.messages(lambda message: True)
    texts += [str(item.get("errorMessage")) for _, item in view.items() if item.get("errorMessage")]
    quoting = [text for text in texts if f"{code}:" in text or f" {action} " in text]
    return quoting[-1] if quoting else code


# -- data checks: what the contract says the item must look like -----------------------------------------------------
def _servers(item: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    for number, wave in enumerate(item.get("waves") or ()):
        if isinstance(wave, Mapping):
            for server in wave.get("serverStatuses") or ():
                yield number, wave, server


def _field_problem(record: Mapping[str, Any], contract: tuple[str, ...], where: str) -> str | None:
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


CheckFunction = Callable[[TimelineView, "Evidence | None"], tuple[str, str]]
CHECKS: tuple[tuple[str, str, CheckFunction], ...] = (
    ("status-polling", "the execution left INITIATED for POLLING", check_status_polling),
    ("status-index", "StatusIndex exists, ACTIVE, keyed on the attribute the finder queries", check_status_index),
    ("finder-found", "the finder ran and found the execution", check_finder_found),
    ("poller-invoked", "the finder invoked the poller and it polled", check_poller_invoked),
    ("poller-wrote", "the poller wrote the waves back", check_poller_wrote),
    ("aws-calls", "the DRS, EC2 and STS calls succeeded, in the right account and region",
     check_aws_calls),
    ("field-names", "items use the contract's field names", check_field_names),
    ("status-values", "statuses are the contract's upper-case values", check_status_values),
    ("servers-enriched", "servers carry names and their recovery instance's EC2 facts", check_servers_enriched),
    ("final-waves", "an execution is final only when every wave of its plan is", check_final_waves),
)
LINKS = tuple(link for link, _, _ in CHECKS)


def diagnose(timeline: Mapping[str, Any], evidence: Evidence | None = None) -> Diagnosis:
    """Every check on one side's timeline (Timeline.to_dict()), in chain order."""
    view = TimelineView(timeline)
    checks = [Check(link, title, *check(view, evidence)) for link, title, check in CHECKS]
    return Diagnosis(str(timeline.get("side")), str(timeline.get("scenario")), view.execution_id, checks)


# -- evidence from a live world ---------------------------------------------------------------------------------------
def physical_id(world: Any, logical_id: str) -> str | None:
    """The physical id of a logical resource in the world's (only) stacks."""
    cloudformation = world.client("cloudformation")
    for stack in cloudformation.describe_stacks()["Stacks"]:
        for resource in cloudformation.describe_stack_resources(StackName=stack["StackName"])["StackResources"]:
            if resource["LogicalResourceId"] == logical_id:
                return resource.get("PhysicalResourceId")
    return None


def collect_evidence(world: Any, system: Any) -> Evidence:
    """describe-table of the execution-history table; the DRS emulator's request log and where it keeps what."""
    table_name = physical_id(world, system.tables["execution-history"])
    table = world.client("dynamodb").describe_table(TableName=table_name)["Table"] if table_name else None
    return Evidence(table=table, drs_requests=list(world.drs.requests), drs_homes=drs_homes(world.drs.backend))


def drs_homes(backend: Any) -> dict[str, Home]:
    """Job and source server id -> (account, region) of the emulator's state that holds it."""
    with backend.lock:
        owned = [*backend.servers, *backend.jobs]
    return {resource_id: (context.account_id, context.region) for context, resource_id in owned}


def doctor_side(system: Any, scenario: Any, backend: str = "moto", regression: Any = None) -> Diagnosis:
    """Run `scenario` on one side (IAM enforced; a catalogue regression switched on if named) and diagnose it."""
    from drs_parity.run.driver import run_side
    from drs_parity.fixtures.regressions import prepared_world, regressed_system
    from drs_parity.fixtures.scenario import Scenario, load_scenarios
    from drs_parity.fixtures.system import load_system

    scenario = scenario if isinstance(scenario, Scenario) else load_scenarios([scenario])[0]
    with regressed_system(regression) if regression is not None else contextlib.nullcontext() as variant:
        system = variant.system if variant is not None else load_system(system) if isinstance(system, str) else system
        with prepared_world(scenario, backend, variant=variant) as world:
            timeline = run_side(system, scenario, backend, world=world)
            evidence = collect_evidence(world, system)
    return diagnose(timeline.to_dict(), evidence)


# -- drs-parity doctor ------------------------------------------------------------------------------------------------
def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    from drs_parity.cli.main import add_backend_argument

    parser.add_argument("--system", default="decomposed", help="system name or description file (default decomposed)")
    parser.add_argument("--scenario", help="scenario name or file (default the regression's, else two-wave-drill)")
    add_backend_argument(parser)
    parser.add_argument("--regression", metavar="NAME", help="switch on a catalogue entry (fixtures/regressions)")
    parser.add_argument("--timeline", type=Path, metavar="FILE",
                        help="diagnose a captured timeline (drs-parity side --json) instead of running a side")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")


def doctor_command(args: argparse.Namespace) -> int:
    """`drs-parity doctor`: 0 healthy, 1 a link is broken, 2 usage or harness error (raised as CliError)."""
    from drs_parity.cli.main import CliError, require_backend
    from drs_parity.fixtures.regressions import DEFAULT_SCENARIO, RegressionError, load_regression
    from drs_parity.fixtures.system import load_system

    try:
        if args.timeline is not None:
            diagnosis = _diagnose_file(args.timeline, CliError)
        else:
            regression = load_regression(args.regression) if args.regression else None
            if regression is not None and load_system(args.system).name != regression.base:
                raise CliError(f"regression {regression.name} applies to {regression.base}, not {args.system}")
            scenario = args.scenario or (regression.scenario if regression is not None else DEFAULT_SCENARIO)
            diagnosis = doctor_side(args.system, scenario, require_backend(args.backend), regression)
    except RegressionError as error:
        raise CliError(str(error)) from None
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else diagnosis.render())
    return diagnosis.exit_code


def _diagnose_file(path: Path, error: type[Exception]) -> Diagnosis:
    """The diagnosis of a timeline file; a file that is not a well-formed timeline is one line of `error`."""
    timeline = _read_timeline(path, error)
    try:
        return diagnose(timeline)
    except (AttributeError, KeyError, TypeError, ValueError) as problem:  # a record of the wrong shape
        raise error(f"{path} is not a well-formed timeline (drs-parity side --json): "
                    f"{type(problem).__name__}: {problem}") from None


def _read_timeline(path: Path, error: type[Exception]) -> dict[str, Any]:
    try:
        timeline = json.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise error(f"cannot read {path}: {problem.strerror}") from None
    except ValueError as problem:
        raise error(f"{path} is not JSON: {problem}") from None
    if not isinstance(timeline, dict) or not isinstance(timeline.get("steps"), list):
        raise error(f"{path} is not a side's timeline (drs-parity side --json); a parity report holds no timelines")
    return timeline


# Registered on import; harness/cli.py imports this module at its end, like every later subcommand.
from drs_parity.cli.main import subcommand  # noqa: E402

subcommand("doctor", "walk one side's polling chain and name the first broken link (exit 0 healthy, 1 broken)",
           _doctor_arguments)(doctor_command)
