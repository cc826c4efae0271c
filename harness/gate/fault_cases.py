"""The fault matrix's rows: each fault the world can play, the scenarios it applies to, and its faults per side."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from drs_parity.errors import InputError
from drs_parity.fixtures.scenario_model import ProtectionGroup, Scenario
from drs_parity.fixtures.system import System
from drs_parity.diagnose.wave_starts import is_wave_start, started_wave

ASYNC_TRIGGERS = frozenset({"event", "schedule"})  # Lambda's asynchronous invocations (as the timeout fault's `async`)
FEATURES = ("start", "polls", "waves")
JOB_LIMIT = 200  # servers one StartRecovery takes: a wave of more is started as several DRS jobs (CONTRACT.md)
HISTORY = "execution-history"  # the logical table holding executions, in every system description's words
RUN_SENTENCES = {"finder": "found", "poller": "polling"}  # the log sentence each chain role says when it runs


class UnknownFault(InputError):
    """A fault name the matrix does not have."""


@dataclass(frozen=True)
class SideContext:
    """What a side's faults are written with: its role and index names, and what its run without faults did."""

    roles: Mapping[str, str]  # chain role (finder, poller...) -> the role the side's system declares for it
    status_index: str
    facts: Mapping[str, Any]  # side_facts of the side's baseline run

    def role(self, chain_role: str) -> str:
        return self.roles.get(chain_role, chain_role)

    def runs_asynchronously(self, chain_role: str) -> bool:
        return self.role(chain_role) in self.facts.get("asyncRoles", ())


Faults = list[dict[str, Any]]
Builder = Callable[[SideContext], Faults | None]  # the side's faults in the scenario format; None: not exercised


@dataclass(frozen=True)
class FaultCase:
    """One row of the matrix: a fault (or a few, played together) and what a scenario needs for it to apply."""

    name: str
    title: str
    service: str
    needs: frozenset[str]
    build: Builder
    failure: str | None = None  # the documented failure both sides must reach instead (an execution status)
    at_scale: bool = False  # also played on a scale scenario (one with a wave of several jobs: see applies_to)

    def applies_to(self, scenario: Scenario) -> bool:
        """The scenario exercises what the fault needs. A scale scenario (hundreds of servers, seconds a side run,
        minutes with a fault that multiplies its reads) gets only the faults marked `at_scale`: those whose outcome
        turns on a wave of several DRS jobs (a start interrupted between its chunks, its jobs recorded alone, two
        polls racing to start them); the others act on the chain the same way at any size, and the small scenarios
        prove them."""
        exercised = exercises(scenario)
        return self.needs <= exercised and (self.at_scale or "chunks" not in exercised)


# -- what a scenario exercises --------------------------------------------------------------------------------------
def exercises(scenario: Scenario) -> frozenset[str]:
    """What the scenario exercises, read from its steps and plans before anything runs: `start` (it starts an
    execution, so DRS StartRecovery is called), `polls` (virtual time passes while an execution runs, so the
    schedule fires, the finder queries the status index and the poller polls), `waves` (it also crosses a wave
    boundary: a started plan has two waves or more and no step cancels it, so a poll starts the next wave),
    `chunks` (a started plan has a wave of more than 200 servers: started as several DRS jobs).

    A fault applies to a scenario that exercises all it `needs`. Then, per side, only where that side's run without
    it exercised its target (each builder returns None elsewhere): a Lambda fault of the poller or the finder only
    where a function playing it ran asynchronously (an `Event` invoke or a schedule tick: Lambda delivers those
    twice, throttles and retries them), a DRS fault only where the side called that operation, a fault at the
    poll that starts a wave only where a poll started one."""
    plans = {plan.key: plan for plan in scenario.recovery_plans}
    kinds = [step.kind for step in scenario.steps]
    if "start" not in kinds:
        return frozenset()
    time_passes = any(kind in ("advance", "until") for kind in kinds[kinds.index("start"):])
    started = [plans[step.plan] for step in scenario.steps if step.kind == "start" and step.plan in plans]
    multi_wave = time_passes and "cancel" not in kinds and any(len(plan.waves) > 1 for plan in started)
    groups = {group.key: group for group in scenario.protection_groups}
    chunked = any(_group_size(groups[wave.protection_group], scenario) > JOB_LIMIT
                  for plan in started for wave in plan.waves if wave.protection_group in groups)
    return frozenset({"start"} | ({"polls"} if time_passes else set()) | ({"waves"} if multi_wave else set())
                     | ({"chunks"} if chunked else set()))


def _group_size(group: ProtectionGroup, scenario: Scenario) -> int:
    """The servers a group holds: its ids, or the scenario's servers of its region and account its tags select."""
    if group.source_server_ids is not None:
        return len(group.source_server_ids)
    selection = (group.server_selection_tags or {}).items()
    return sum(1 for server in scenario.source_servers if server.region == group.region
               and server.account_id == group.account_id and selection <= server.tags.items())


# -- what a side's run without faults did ---------------------------------------------------------------------------
def side_facts(invocations: list[Any], functions: Mapping[str, Any], system: System, clock_start: float
               ) -> dict[str, Any]:
    """From a finished run's invocations: the declared roles that ran asynchronously, the DRS operations called,
    when the finder and the poller first ran (`firstRuns`, seconds from the clock's start), and the first poll that
    started a wave (its function, its number among that function's asynchronous invocations, and the AWS calls up
    to its StartRecovery)."""
    roles_of = {name: system.functions[deployed.logical_id].roles for name, deployed in functions.items()
                if deployed.logical_id in system.functions}
    poller = system.chain.roles.get("poller", "poller")
    asynchronous: Counter[str] = Counter()
    facts: dict[str, Any] = {"asyncRoles": set(), "drsOperations": set(), "wavePoll": None,
                             "firstRuns": _first_runs(invocations, roles_of, system, clock_start)}
    for invocation in invocations:
        roles = roles_of.get(invocation.function, ())
        facts["drsOperations"].update(call["operation"] for call in invocation.calls if call["service"] == "drs")
        if invocation.trigger not in ASYNC_TRIGGERS:
            continue
        facts["asyncRoles"].update(roles)
        asynchronous[invocation.function] += 1
        started = _next_wave_start(invocation.calls)
        if facts["wavePoll"] is None and poller in roles and started is not None:
            facts["wavePoll"] = {"function": functions[invocation.function].logical_id,
                                 "invocation": asynchronous[invocation.function], "afterCalls": started + 1,
                                 "atSeconds": int(invocation.started - clock_start)}
    return {**facts, "asyncRoles": sorted(facts["asyncRoles"]), "drsOperations": sorted(facts["drsOperations"])}


def _first_runs(invocations: list[Any], roles_of: Mapping[str, tuple[str, ...]], system: System,
                clock_start: float) -> dict[str, int]:
    """Chain role -> seconds from the clock's start to its first run: the first asynchronous invocation of a function
    playing it that logged the role's sentence (the finder's `found`, the poller's `polling`), else the first
    asynchronous invocation of such a function. A function playing several roles (the monolith's) has runs that are
    none of them, such as its start worker; those are not the role's runs."""
    first: dict[str, int] = {}
    for chain_role, sentence_key in RUN_SENTENCES.items():
        role, sentence = system.chain.roles.get(chain_role, chain_role), system.chain.log(sentence_key)
        runs = [invocation for invocation in invocations if invocation.trigger in ASYNC_TRIGGERS
                and role in roles_of.get(invocation.function, ())]
        said = [run for run in runs if any(sentence.match(str(line.get("message", ""))) for line in run.logs)]
        if runs:
            first[chain_role] = int((said or runs)[0].started - clock_start)
    return first


def _next_wave_start(calls: list[Mapping[str, Any]]) -> int | None:
    """The index of a successful StartRecovery of a wave after the first among the calls, else None."""
    for index, call in enumerate(calls):
        if is_wave_start(call) and started_wave(call.get("params") or {}).wave not in (None, "0"):
            return index
    return None


# -- builders: a fault in the scenario format, per side ---------------------------------------------------------------
def drs(operation: str, error: str, after_seconds: int = 0, count: int = 1) -> Builder:
    """A DRS error, where the side calls the operation."""
    def build(side: SideContext) -> Faults | None:
        if operation not in side.facts.get("drsOperations", ()):
            return None
        return [{"operation": operation, "error": error, "afterSeconds": after_seconds, "count": count}]
    return build


def async_lambda(chain_role: str, fault: str, **fields: Any) -> Builder:
    """A Lambda fault of the function playing `chain_role`, where that function runs asynchronously."""
    def build(side: SideContext) -> Faults | None:
        if not side.runs_asynchronously(chain_role):
            return None
        return [{"service": "lambda", "function": side.role(chain_role), "fault": fault, **fields}]
    return build


def throttled_from_first_run(chain_role: str, count: int) -> Builder:
    """The next `count` runs of the function playing `chain_role` throttled, from the role's first run on (not from
    the clock's start: the monolith's one function plays every role, and its start worker is no poller run)."""
    def build(side: SideContext) -> Faults | None:
        first = side.facts.get("firstRuns", {}).get(chain_role)
        if not side.runs_asynchronously(chain_role) or first is None:
            return None
        return [{"service": "lambda", "function": side.role(chain_role), "fault": "throttle", "afterSeconds": first,
                 "count": count}]
    return build


def timeout_after_wave_start(side: SideContext) -> Faults | None:
    """The poll that starts a wave times out right after its StartRecovery (before it writes what it did);
    Lambda retries the event a minute later."""
    poll = side.facts.get("wavePoll")
    if poll is None:
        return None
    return [{"service": "lambda", "function": poll["function"], "fault": "timeout", "trigger": "async",
             "invocation": poll["invocation"], "afterCalls": poll["afterCalls"]}]


def history(fault: str, on_status_index: bool = True, **fields: Any) -> Builder:
    """A DynamoDB fault of the execution-history table (on the side's status index, or the table itself)."""
    def build(side: SideContext) -> Faults:
        index = {"index": side.status_index} if on_status_index else {}
        return [{"service": "dynamodb", "table": HISTORY, "fault": fault, **index, **fields}]
    return build


def history_from_wave_poll(fault: str, **fields: Any) -> Builder:
    """A DynamoDB fault of the execution-history table from the moment a poll starts a wave on: its write after
    StartRecovery is the one hit (and user requests, which may rightly fail, stay out of it)."""
    def build(side: SideContext) -> Faults | None:
        poll = side.facts.get("wavePoll")
        if poll is None:
            return None
        return [{"service": "dynamodb", "table": HISTORY, "fault": fault, "afterSeconds": poll["atSeconds"], **fields}]
    return build


def finder_ticks(fault: str, **fields: Any) -> Builder:
    """EventBridge misbehaving for the schedule rules that run the finder, where the finder runs on a schedule."""
    def build(side: SideContext) -> Faults | None:
        if not side.runs_asynchronously("finder"):
            return None
        return [{"service": "events", "rule": side.role("finder"), "fault": fault, **fields}]
    return build


_START, _POLLS, _WAVES = frozenset({"start"}), frozenset({"start", "polls"}), frozenset(FEATURES)
CASES: tuple[FaultCase, ...] = (
    FaultCase("drs-describe-jobs-throttled", "DescribeJobs throttled past botocore's retries for a minute", "drs",
              _POLLS, drs("DescribeJobs", "ThrottlingException", 60, 6)),
    FaultCase("drs-start-recovery-throttled", "StartRecovery throttled twice (botocore's retries absorb it)", "drs",
              _START, drs("StartRecovery", "ThrottlingException", 0, 2)),
    FaultCase("drs-start-recovery-conflict", "StartRecovery of the first wave refused: ConflictException", "drs",
              _START, drs("StartRecovery", "ConflictException", 0, 1), failure="FAILED"),
    FaultCase("poller-duplicate", "every poller event delivered twice at once", "lambda", _POLLS,
              async_lambda("poller", "duplicate-delivery", count=1000), at_scale=True),
    FaultCase("poller-duplicate-30s", "every poller event delivered again 30 s later", "lambda", _WAVES,
              async_lambda("poller", "duplicate-delivery", delay=30, count=1000)),
    FaultCase("poller-duplicate-60s", "every poller event delivered again with the next tick", "lambda", _WAVES,
              async_lambda("poller", "duplicate-delivery", delay=60, count=1000)),
    FaultCase("poller-throttled", "the poller's next 4 runs from its first poll throttled", "lambda", _POLLS,
              throttled_from_first_run("poller", 4)),
    FaultCase("poller-timeout", "the poller's 2nd asynchronous run times out after its first AWS call", "lambda",
              _POLLS, async_lambda("poller", "timeout", trigger="async", invocation=2, afterCalls=1)),
    FaultCase("poller-timeout-after-start", "the poll that starts a wave times out right after StartRecovery",
              "lambda", _WAVES, timeout_after_wave_start, at_scale=True),
    FaultCase("finder-throttled", "the finder's next 3 runs from its first run throttled", "lambda", _POLLS,
              throttled_from_first_run("finder", 3)),
    FaultCase("status-index-lag", "the status index answers with the table of 90 s ago", "dynamodb", _POLLS,
              history("gsi-lag", lag=90)),
    FaultCase("status-index-backfilling", "the status index is backfilling for the first 3 minutes", "dynamodb",
              _POLLS, history("backfilling", duration=180)),
    FaultCase("history-update-throttled", "from the poll that starts a wave, 12 UpdateItem requests on "
              "execution-history refused (ProvisionedThroughputExceededException)", "dynamodb", _WAVES,
              history_from_wave_poll("throughput-exceeded", operation="UpdateItem", count=12), at_scale=True),
    FaultCase("history-small-pages", "every Query and Scan of execution-history returns one item a page",
              "dynamodb", _POLLS, history("small-pages", on_status_index=False, pageSize=1)),
    FaultCase("finder-tick-late", "3 finder ticks delivered 45 s late", "events", _POLLS,
              finder_ticks("late", delay=45, count=3, afterSeconds=60)),
    FaultCase("finder-tick-skipped", "2 finder ticks never delivered", "events", _POLLS,
              finder_ticks("skip", count=2, afterSeconds=120)),
    FaultCase("finder-tick-doubled", "5 finder ticks delivered twice", "events", _POLLS,
              finder_ticks("double", count=5)),
)


def fault_case(name: str) -> FaultCase:
    """A matrix fault by name; UnknownFault lists the known ones."""
    for case in CASES:
        if case.name == name:
            return case
    raise UnknownFault(f"unknown fault {name!r} (known: {', '.join(case.name for case in CASES)})")


def applicable(cases: tuple[FaultCase, ...], scenarios: list[Scenario]) -> Iterator[tuple[FaultCase, Scenario]]:
    """Every (fault, scenario) cell whose scenario exercises what the fault needs, faults first."""
    for case in cases:
        yield from ((case, scenario) for scenario in scenarios if case.applies_to(scenario))


def side_context(system: System, facts: Mapping[str, Any]) -> SideContext:
    return SideContext(roles=dict(system.chain.roles), status_index=system.chain.status_index, facts=facts)
