"""Integration: captures that reuse table scans and console reads give the very timeline of captures made afresh,
and StepCapture.to_dict builds what dataclasses.asdict built."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import ApiStep, Scenario
from drs_parity.fixtures.scenario_parse import with_faults
from drs_parity.run.capture import StepCapture
from drs_parity.run.console import unseen_by
from drs_parity.run.driver import SideRun
from drs_parity.run.table_scans import TableScans
from tests.harness.run.seeded_runs import side_run

pytestmark = pytest.mark.slow

# steps that only read, or are refused before any write, while the execution runs and once it is over
READS = (ApiStep("GET", "/executions/{execution}"), ApiStep("GET", "/executions"), ApiStep("GET", "/health"),
         ApiStep("POST", "/executions", body={}), ApiStep("POST", "/protection-groups", body={"groupName": 5}))
GSI_LAG = {"service": "dynamodb", "table": "execution-history", "index": "StatusIndex", "fault": "gsi-lag",
           "lag": "90s"}


def with_reads(scenario: Scenario) -> Scenario:
    """The scenario with the read-only steps right after its start (same instant) and again at its end."""
    first, rest = scenario.steps[0], scenario.steps[1:]
    return dataclasses.replace(scenario, steps=(first, *READS, *rest, *READS))


def scenario(name: str, faults: bool = False) -> Scenario:
    read_steps = with_reads(load_scenarios([name])[0])
    return with_faults(read_steps, [GSI_LAG], "test") if faults else read_steps


CASES = {  # id: (system, scenario): writes between captures, minutes that write nothing while an execution is paused
    # (its details show the clock), DRS faults, a lagging index, state machines
    "monolithic": ("monolithic", lambda: scenario("two-wave-drill")),
    "paused": ("monolithic", lambda: scenario("pause-resume")),
    "decomposed": ("decomposed", lambda: scenario("two-wave-drill")),
    "drs-faults": ("decomposed", lambda: scenario("throttled-poll")),
    "gsi-lag": ("decomposed", lambda: scenario("two-wave-drill", faults=True)),
    "state-machines": ("decomposed-stepfunctions", lambda: scenario("cancel-wave-1")),
    # groups and plans written while the console shows an execution; cancels and resumes refused or made
    "api-contract": ("decomposed", lambda: load_scenarios(["api-contract"])[0]),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def runs(request) -> tuple[SideRun, SideRun]:
    """One case run twice, seeded alike: reads reused, and every read made afresh."""
    system, build = CASES[request.param]
    made_scenario = build()
    side_run(system, dataclasses.replace(made_scenario, steps=made_scenario.steps[:1]), reuse=False)  # warm imports
    with pytest.MonkeyPatch.context() as monkeypatch:
        reused = side_run(system, made_scenario, reuse=True, monkeypatch=monkeypatch)
    with pytest.MonkeyPatch.context() as monkeypatch:
        made = side_run(system, made_scenario, reuse=False, monkeypatch=monkeypatch)
    return reused, made


def test_reused_scans_and_reads_give_the_same_timeline(runs) -> None:
    reused, made = runs
    assert made.tables.reused == 0 and made.console.reused == 0
    assert reused.tables.reused >= len(READS)  # at least the read-only steps at the end
    assert reused.timeline.to_json() == made.timeline.to_json()
    assert reused.trace == made.trace and reused.next_id == made.next_id


def test_console_reads_are_reused_at_the_same_instant_while_the_execution_runs() -> None:
    run = side_run("decomposed", scenario("two-wave-drill"), reuse=True)
    after_start = run.timeline.steps[2:2 + len(READS)]
    assert all(step.time == run.timeline.steps[1].time for step in after_start)
    assert any(item.get("status") == "POLLING" for item in after_start[-1].tables["execution-history"])
    assert run.console.reused >= 2 * len(READS)  # the reads after the start and at the end


def asdict_reference(step: StepCapture) -> dict[str, Any]:
    """What StepCapture.to_dict built with dataclasses.asdict."""
    return step.keyed(dataclasses.asdict(step))


def test_to_dict_builds_what_asdict_built_on_real_timelines(runs) -> None:
    for run in runs:
        for step in run.timeline.steps:
            built = step.to_dict()
            assert built == asdict_reference(step)
            assert list(built) == list(asdict_reference(step))  # the same key order: the same JSON


def test_to_dict_shares_leaves_but_no_container() -> None:
    body = {"waves": [{"status": "STARTED"}]}
    step = StepCapture(index=1, name="start", kind="start", time=0, api=[{"body": body}],
                       tables={"t": [{"k": "v"}]})
    built = step.to_dict()
    built["api"][0]["body"]["waves"][0]["status"] = "CHANGED"
    built["tables"]["t"].append({})
    assert body == {"waves": [{"status": "STARTED"}]} and step.tables == {"t": [{"k": "v"}]}
    assert built["tables"]["t"][0]["k"] is step.tables["t"][0]["k"]


def test_scans_are_taken_again_after_any_request_that_is_not_a_read() -> None:
    hooks = []
    host = SimpleNamespace(register_hook=lambda *args, **_: hooks.append(args))
    world = SimpleNamespace(backend_name="moto", host=host)
    scans = iter(range(10))
    tables = TableScans(world, lambda: {"t": [{"scan": next(scans)}]})
    count = hooks[0][1]
    first = tables.scan()
    for operation in ("Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems", "DescribeTable"):
        count(event_name=f"before-parameter-build.dynamodb.{operation}")
    assert tables.scan() is first
    for operation in ("PutItem", "ExecuteStatement"):
        count(event_name=f"before-parameter-build.dynamodb.{operation}")
        assert tables.scan() != first
    assert tables.reused == 1


def test_localstack_scans_every_capture() -> None:
    world = SimpleNamespace(backend_name="localstack", host=SimpleNamespace(register_hook=None))
    scans = iter(range(10))
    tables = TableScans(world, lambda: {"t": [{"scan": next(scans)}]})
    assert tables.scan() != tables.scan() and tables.reused == 0


def test_a_write_is_unseen_by_reads_only_when_it_names_none_of_their_tables() -> None:
    def invocation(operation: str, **params: Any) -> SimpleNamespace:
        return SimpleNamespace(calls=[{"service": "dynamodb", "operation": operation, "params": params}])

    read = frozenset({"executions"})
    elsewhere = [invocation("PutItem", TableName="groups"),
                 invocation("BatchWriteItem", RequestItems={"groups": [], "plans": []}),
                 invocation("TransactWriteItems", TransactItems=[{"Put": {"TableName": "plans"}}])]
    seen = [invocation("UpdateItem", TableName="arn:aws:dynamodb:us-east-1:123456789012:table/executions"),
            invocation("TransactWriteItems", TransactItems=[{"Update": {"TableName": "groups"}},
                                                            {"Delete": {"TableName": "executions"}}]),
            invocation("ExecuteStatement", Statement="UPDATE executions SET status='X'")]  # names no table
    assert unseen_by(elsewhere, read) and not unseen_by(elsewhere, None)
    assert not any(unseen_by([call], read) for call in seen)
    assert unseen_by(seen, frozenset())  # reads that read no table see no table's write
    drs = SimpleNamespace(calls=[{"service": "drs", "operation": "StartRecovery", "params": {}}])
    assert not unseen_by([drs], frozenset())
