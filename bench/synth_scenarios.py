"""Synthesised scenarios for the benchmark curve: plans of N servers, and drills of H hours, built from the model.

Each scenario is built as the scenario model's dataclasses (drs_parity.fixtures.scenario_model), written to a YAML
file in the fixture format, and read back through the ordinary loader, so every benchmark cell runs a scenario the
harness validated exactly as it validates a user's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from drs_parity.fixtures.fields import fixture_dict, format_duration
from drs_parity.fixtures.scenario import load_scenario
from drs_parity.fixtures.scenario_model import (
    AdvanceStep, ApiStep, DrsTiming, Expectation, Launch, ProtectionGroup, RecoveryPlan, Scenario, SourceServer,
    StartStep, Step, UntilStep, Wave,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
MAX_WAVES = 5
WAVE_LIMIT = 200  # the most source servers one DRS StartRecovery (one wave's job) takes
TIERS = ("db", "storage", "app", "mid", "web")
DRILL_SERVERS = 6  # the duration series: the thirty-minute drill's plan, stretched over its hours
DRILL_WAVES = 4
ACTIVE_MINUTES = 100  # the drill polls this long at most: under the contract's EXECUTION_TIMEOUT_SECONDS (7200)
DETAILS = ApiStep("GET", "/executions/{execution}")
JOB_LOGS = ApiStep("GET", "/executions/{execution}/job-logs")


# -- the two series --------------------------------------------------------------------------------------------------
def plan_scenario(servers: int) -> Scenario:
    """`servers` servers in up to 5 waves (never more than 200 a wave), launched 60-165 s after their job starts,
    driven start, 3 minutes, then until the execution is final; every wave's group lists its ids but the last,
    which selects its servers by tag."""
    waves = max(min(MAX_WAVES, servers), math.ceil(servers / WAVE_LIMIT))
    sizes = [servers // waves + (1 if wave < servers % waves else 0) for wave in range(waves)]
    members = _servers(sizes, launch=lambda n: 60 + (n % 8) * 15)
    steps: list[Step] = [StartStep("estate"), AdvanceStep(180), UntilStep(("COMPLETED", "FAILED"), 60 * 60),
                         DETAILS, JOB_LOGS]
    return _scenario(f"plan-{servers}-servers", f"{servers} servers in {waves} waves, driven until final",
                     members, sizes, tuple(steps))


def drill_scenario(minutes: int, every: int = 1) -> Scenario:
    """The thirty-minute drill's plan (6 servers, 4 waves) over `minutes` of virtual time, captured every `every`
    minutes (the last step may be shorter); launches are stretched so the execution polls for as long as the
    contract's 2-hour execution timeout allows, then the finder keeps finding nothing, as on an idle estate."""
    sizes = [1, 1, 2, 2]
    active = min(minutes, ACTIVE_MINUTES) * 60
    per_wave = max(active // DRILL_WAVES - 120, 60)  # room for the job's start and end inside each wave
    members = _servers(sizes, launch=lambda n: per_wave - (n % 2) * 30)
    every = min(every, minutes)
    advances = [AdvanceStep(60 * min(every, minutes - done)) for done in range(0, minutes, every)]
    steps: list[Step] = [StartStep("estate"), *advances, DETAILS, JOB_LOGS]
    name = f"drill-{format_duration(minutes * 60)}-every-{format_duration(every * 60)}"
    return _scenario(name, f"a {minutes}-minute drill captured every {every} minutes", members, sizes, tuple(steps))


# -- building ---------------------------------------------------------------------------------------------------------
def _servers(sizes: list[int], launch: Any) -> list[list[SourceServer]]:
    """Servers per wave: ids s-<11+wave><15 digits>, tagged with their wave; every tenth has no Name tag."""
    waves = []
    for wave, size in enumerate(sizes):
        tier = TIERS[wave % len(TIERS)]
        waves.append([
            SourceServer(source_server_id=f"s-{11 + wave:02d}{n:015d}", hostname=f"w{wave}-{tier}-{n:03d}.corp.example",
                         name=None if n % 10 == 0 else f"{tier}-{n:03d}", tags={"Wave": str(wave), "Tier": tier},
                         region=REGION, account_id=ACCOUNT, instance_type="t3.medium",
                         launch=Launch("LAUNCHED", launch(n)))
            for n in range(1, size + 1)])
    return waves


def _scenario(name: str, description: str, members: list[list[SourceServer]], sizes: list[int],
              steps: tuple[Step, ...]) -> Scenario:
    last = len(sizes) - 1
    groups = tuple(
        ProtectionGroup(key=f"wave{wave}", group_name=f"Wave {wave}", description="", region=REGION,
                        account_id=ACCOUNT,
                        source_server_ids=None if wave == last else tuple(s.source_server_id for s in servers),
                        server_selection_tags={"Wave": str(wave)} if wave == last else None)
        for wave, servers in enumerate(members))
    plan = RecoveryPlan("estate", "Whole estate drill", "", tuple(
        Wave(f"Wave {wave}", f"wave{wave}") for wave in range(len(sizes))))
    every = [server for servers in members for server in servers]
    return Scenario(
        name=name, description=description, path=Path(f"{name}.yaml"), region=REGION, drs=DrsTiming(),
        source_servers=tuple(every), target_accounts=(), protection_groups=groups, recovery_plans=(plan,),
        faults=(), steps=steps,
        expect=Expectation("COMPLETED", ("COMPLETED",) * len(sizes),
                           {every[0].source_server_id: "LAUNCHED", every[-1].source_server_id: "LAUNCHED"}))


# -- the fixture format -----------------------------------------------------------------------------------------------
def document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a fixture YAML document (the inverse of the loader, for the sections these scenarios use)."""
    return {
        "name": scenario.name, "description": scenario.description, "region": scenario.region,
        "drs": fixture_dict(scenario.drs),
        "sourceServers": [_server(server) for server in scenario.source_servers],
        "protectionGroups": [{"key": group.key, **group.request_body()} for group in scenario.protection_groups],
        "recoveryPlans": [{"key": plan.key, **fixture_dict(plan)} for plan in scenario.recovery_plans],
        "steps": [_step(step) for step in scenario.steps],
        "expect": {"status": scenario.expect.status, "waves": list(scenario.expect.waves or ()),
                   "servers": dict(scenario.expect.servers)},
    }


def _server(server: SourceServer) -> dict[str, Any]:
    entry = fixture_dict(server)
    if not entry.get("name"):
        entry.pop("name", None)
    return entry


def _step(step: Step) -> dict[str, Any]:
    if isinstance(step, StartStep):
        return {"start": {"plan": step.plan, "executionType": step.execution_type}}
    if isinstance(step, AdvanceStep):
        return {"advance": format_duration(step.seconds)}
    if isinstance(step, UntilStep):
        return {"until": {"status": list(step.statuses), "within": format_duration(step.within)}}
    if isinstance(step, ApiStep):
        return {"api": {"method": step.method, "path": step.path}}
    raise TypeError(f"no fixture form for {step!r}")


def write_scenario(scenario: Scenario, folder: Path) -> Path:
    """The scenario's YAML file in `folder`, read back through the loader (which validates it)."""
    path = folder / f"{scenario.name}.yaml"
    path.write_text(yaml.safe_dump(document(scenario), sort_keys=False, width=120))
    load_scenario(path)
    return path
