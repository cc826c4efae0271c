"""A team-shaped system in its own words (team_chain/): the doctor reads its chain through its `chain:` section."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from drs_parity.cli.main import main
from drs_parity.diagnose.diagnosis import FAIL, PASS, Diagnosis, Evidence
from drs_parity.diagnose.doctor import diagnose
from drs_parity.diagnose.evidence import collect_evidence
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import System, load_system
from drs_parity.fixtures.vocabulary import REFERENCE
from drs_parity.gate.doctor_run import doctor_side
from drs_parity.run.driver import prepared_world, run_side

TEAM = Path(__file__).resolve().parent / "team_chain"
DESCRIPTION, SCENARIO = TEAM / "system.yaml", TEAM / "team-drill.yaml"


@pytest.fixture(scope="module")
def team() -> System:
    return load_system(DESCRIPTION)


@pytest.fixture(scope="module")
def healthy_run(team: System) -> tuple[dict[str, Any], Evidence]:
    """The team's system run once on its scenario: the timeline and the live world's evidence."""
    scenario = load_scenarios([str(SCENARIO)])[0]
    with prepared_world(scenario) as world:
        timeline = run_side(team, scenario, world=world)
        evidence = collect_evidence(world, team)
    return timeline.to_dict(), evidence


def checks(diagnosis: Diagnosis) -> dict[str, tuple[str, str]]:
    return {check.link: (check.status, check.evidence) for check in diagnosis.checks}


def test_the_doctor_passes_the_healthy_team_system_and_quotes_its_own_words(team, healthy_run):
    diagnosis = diagnose(*healthy_run, team.chain)
    assert diagnosis.exit_code == 0, diagnosis.render()
    found = checks(diagnosis)
    assert found["status-polling"] == (PASS, "status IN_PROGRESS → SUCCEEDED")
    assert found["status-index"] == (PASS, "state-index of team-runs: ACTIVE, HASH state, projection ALL")
    assert found["finder-found"][1].startswith("Found 1 executions needing polling (")
    assert found["poller-invoked"][1] == "Dispatching checker for … (×4); Checking execution … (×4)"
    assert found["poller-wrote"][1].startswith("Saved 2 waves of ") and "waves now SUCCEEDED, SUCCEEDED" in \
        found["poller-wrote"][1]
    assert "the polling chain is healthy" in diagnosis.render()


def test_without_its_chain_section_the_same_run_is_misdiagnosed(healthy_run):
    diagnosis = diagnose(*healthy_run, REFERENCE)  # what a description without `chain:` would read
    found = checks(diagnosis)
    assert diagnosis.first_broken.link == "status-polling"
    assert found["status-index"] == (FAIL, "table team-runs has no StatusIndex (indexes: planIdIndex, state-index)")
    assert found["finder-found"][1] == "12 finder runs, none logged Found … executions in POLLING status"
    assert found["field-names"][0] == FAIL


def test_a_guard_querying_an_index_that_does_not_exist_is_named(team):
    broken = dataclasses.replace(team, environment={"PLAN_INDEX": "PlanIdIndex"})  # the table's is planIdIndex
    diagnosis = doctor_side(broken, str(SCENARIO))
    assert diagnosis.first_broken.link == "aws-calls", diagnosis.render()
    assert diagnosis.first_broken.evidence.startswith(
        "api dynamodb.Query on PlanIdIndex failed: ResourceNotFoundException: Invalid index: PlanIdIndex for table: "
        "team-runs")
    assert [check.link for check in diagnosis.checks if check.status == FAIL] == ["aws-calls"]


def test_a_finder_looking_for_the_wrong_status_is_named_in_its_own_words(team):
    broken = dataclasses.replace(team, environment={"ACTIVE_STATE": "POLLING"})  # the reference's word, copied over
    diagnosis = doctor_side(broken, str(SCENARIO))
    assert diagnosis.first_broken.link == "finder-found", diagnosis.render()
    assert diagnosis.first_broken.evidence == "12 finder runs, every one logged Found 0 executions needing polling"
    assert checks(diagnosis)["poller-invoked"][1].startswith("the finder never logged Dispatching checker for ")


def test_the_cli_reads_a_captured_timeline_in_the_words_of_the_system_named(healthy_run, tmp_path, capsys):
    path = tmp_path / "team.json"
    path.write_text(json.dumps(healthy_run[0]))
    assert main(["doctor", "--timeline", str(path), "--system", str(DESCRIPTION)]) == 0
    assert "Found 1 executions needing polling" in capsys.readouterr().out
    assert main(["doctor", "--timeline", str(path)]) == 1  # the default system speaks the contract's words
