"""The doctor's checks on synthetic timelines: each link healthy, then each broken the way the seed describes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from drs_parity.diagnose import doctor
from drs_parity.cli.main import main
from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Check, Diagnosis, Evidence
from drs_parity.diagnose.doctor import diagnose
from drs_parity.diagnose.evidence import drs_homes
from drs_parity.fixtures.chain import LINKS, STATE_MACHINE_LINKS
from drs_parity.gate import doctor_run

EXECUTION = "e-1"
PLAN = "p-1"
TABLE = "drs-orchestration-execution-history-test"


def server(server_id: str, launch: str = "LAUNCHED", **overrides: Any) -> dict[str, Any]:
    launched = launch == "LAUNCHED"
    return {"sourceServerId": server_id, "serverName": f"name-{server_id}", "hostname": "ip-10-0-0-1.ec2.internal",
            "launchStatus": launch, "launchTime": 1768471400 if launched else None,
            "instanceId": "i-0123" if launched else None, "privateIp": "10.0.0.1" if launched else None,
            "instanceType": "m5.large" if launched else None, **overrides}


def wave(number: int, status: str, servers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"waveNumber": number, "waveName": f"Wave {number}", "status": status,
            "jobId": f"drsjob-{number}" if status != "PENDING" else None,
            "jobIds": [f"drsjob-{number}"] if status != "PENDING" else [], "region": "us-east-1",
            "accountId": "123456789012", "startTime": None, "endTime": None, "serverIds": [f"s-{number}"],
            "statusMessage": None, "serverStatuses": servers or []}


def item(status: str, waves: list[dict[str, Any]], last_polled: int | None = None) -> dict[str, Any]:
    return {"executionId": EXECUTION, "planId": PLAN, "planName": "Plan", "executionType": "DRILL", "status": status,
            "initiatedBy": "me", "startTime": 1768471200, "endTime": None, "totalWaves": 2, "currentWave": 0,
            "lastPolledTime": last_polled, "pausedBeforeWave": None, "errorMessage": None, "waves": waves}


def log(message: str, function: str = "poller") -> dict[str, Any]:
    return {"function": function, "level": "INFO", "message": message, "executionId": EXECUTION, "console": False}


def call(service: str, operation: str, error: str | None = None, function: str = "poller", **params: Any
         ) -> dict[str, Any]:
    return {"service": service, "operation": operation, "params": params, "error": error, "function": function,
            "console": False}


def step(index: int, name: str, time: int, execution: dict[str, Any] | None, **records: Any) -> dict[str, Any]:
    plans = [{"planId": PLAN, "waves": [{"waveNumber": 0}, {"waveNumber": 1}]}]
    return {"index": index, "name": name, "kind": name.split()[0], "time": time, "api": [],
            "tables": {"execution-history": [execution] if execution else [], "recovery-plans": plans},
            **copy.deepcopy({kind: records.get(kind, []) for kind in ("calls", "logs", "invocations")})}


def healthy() -> dict[str, Any]:
    """Start, a polled minute, the end: every link of the chain visible."""
    finder_run = {"function": "finder", "trigger": "schedule", "error": None}
    poll = {"function": "poller", "trigger": "event", "error": None}
    polled = [
        log("Found 1 executions in POLLING status", "finder"), log(f"Invoking poller for execution {EXECUTION}", "finder"),
        log(f"Polling execution: {EXECUTION}"), log(f"Updated 2 waves for execution {EXECUTION}"),
    ]
    calls = [call("dynamodb", "Query", function="finder", IndexName="StatusIndex", KeyConditionExpression="#n0 = :v0",
                  ExpressionAttributeNames={"#n0": "status"}),
             call("lambda", "Invoke", function="finder", FunctionName="poller"),
             call("drs", "DescribeJobs"), call("drs", "DescribeSourceServers"), call("ec2", "DescribeInstances")]
    return {"side": "decomposed", "scenario": "synthetic", "currentExecution": EXECUTION, "steps": [
        step(0, "setup", 1768471200, None),
        step(1, "start", 1768471200, item("POLLING", [wave(0, "STARTED"), wave(1, "PENDING")])),
        step(2, "advance 3m", 1768471380,
             item("POLLING", [wave(0, "LAUNCHING", [server("s-0", "IN_PROGRESS")]), wave(1, "PENDING")], 1768471380),
             logs=polled, calls=calls, invocations=[finder_run, poll]),
        step(3, "until COMPLETED", 1768471800,
             item("COMPLETED", [wave(0, "COMPLETED", [server("s-0")]), wave(1, "COMPLETED", [server("s-1")])],
                  1768471800),
             logs=polled, calls=calls, invocations=[finder_run, poll]),
    ]}


def status_index(hash_key: str = "status", state: str = "ACTIVE") -> Evidence:
    index = {"IndexName": "StatusIndex", "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}],
             "IndexStatus": state, "Projection": {"ProjectionType": "ALL"}}
    return Evidence(table={"TableName": TABLE, "GlobalSecondaryIndexes": [index]})


def check(timeline: dict[str, Any], link: str, evidence: Evidence | None = None) -> Check:
    return next(c for c in diagnose(timeline, evidence).checks if c.link == link)


def drop_logs(timeline: dict[str, Any], *prefixes: str) -> dict[str, Any]:
    for each in timeline["steps"]:
        each["logs"] = [line for line in each["logs"] if not line["message"].startswith(prefixes)]
    return timeline


def test_a_healthy_timeline_passes_every_check_and_exits_0():
    diagnosis = diagnose(healthy(), status_index())
    polling_chain = [link for link in LINKS if link not in STATE_MACHINE_LINKS]  # no state machine on this side
    assert [c.link for c in diagnosis.checks] == polling_chain
    assert [c.status for c in diagnosis.checks] == [PASS] * len(polling_chain), diagnosis.render()
    assert diagnosis.exit_code == 0
    assert "the polling chain is healthy" in diagnosis.render()


def test_status_polling_fails_when_the_item_stays_initiated():
    timeline = healthy()
    for each in timeline["steps"][1:]:
        each["tables"]["execution-history"][0]["status"] = "INITIATED"
    result = check(timeline, "status-polling")
    assert result.status == FAIL and "stayed INITIATED" in result.evidence
    assert diagnose(timeline).first_broken.link == "status-polling"


def test_status_polling_fails_when_no_execution_was_started():
    timeline = healthy()
    timeline["currentExecution"] = None
    assert check(timeline, "status-polling").status == FAIL


@pytest.mark.parametrize("evidence, expected", [
    (Evidence(table={"TableName": TABLE, "GlobalSecondaryIndexes": []}), "has no StatusIndex"),
    (status_index(hash_key="Status"), "keyed on 'Status', but the finder queries 'status'"),
    (status_index(state="CREATING"), "is CREATING, not ACTIVE"),
])
def test_status_index_reads_the_deployed_table(evidence, expected):
    result = check(healthy(), "status-index", evidence)
    assert result.status == FAIL and expected in result.evidence


def test_status_index_without_a_table_description_judges_by_the_finders_queries():
    timeline = healthy()
    assert check(timeline, "status-index").status == PASS
    timeline["steps"][2]["calls"][0]["error"] = "ValidationException"
    result = check(timeline, "status-index")
    assert result.status == FAIL and "ValidationException" in result.evidence


def test_finder_found_fails_when_it_finds_nothing_or_never_runs():
    timeline = healthy()
    for each in timeline["steps"]:
        for line in each["logs"]:
            line["message"] = line["message"].replace("Found 1", "Found 0")
    assert "Found 0 executions" in check(timeline, "finder-found").evidence
    for each in timeline["steps"]:
        each["invocations"] = [i for i in each["invocations"] if i["trigger"] != "schedule"]
    assert check(timeline, "finder-found").evidence == "the finder never ran: no schedule invocation"


def test_poller_invoked_names_the_finders_invoke_error():
    timeline = drop_logs(healthy(), "Polling execution", "Updated")
    error = f"Error invoking poller for execution {EXECUTION}: ResourceNotFoundException: Function not found: x"
    timeline["steps"][2]["logs"].append(log(error, "finder"))
    result = check(timeline, "poller-invoked")
    assert result.status == FAIL and result.evidence == error
    assert check(timeline, "poller-wrote").status == SKIP


def test_poller_invoked_falls_back_to_the_failed_invoke_call():
    timeline = drop_logs(healthy(), "Polling execution", "Updated")
    timeline["steps"][2]["calls"][1]["error"] = "AccessDeniedException"
    assert "lambda.Invoke of poller failed: AccessDeniedException" in check(timeline, "poller-invoked").evidence


@pytest.mark.parametrize("line", [
    "Error updating execution waves: AccessDeniedException: User: x is not authorized",
    f"Execution {EXECUTION} changed during poll; update skipped",
])
def test_poller_wrote_fails_on_a_write_error_or_a_failed_condition(line):
    timeline = drop_logs(healthy(), "Updated")
    timeline["steps"][2]["logs"].append(log(line))
    result = check(timeline, "poller-wrote")
    assert result.status == FAIL and result.evidence == line


def test_poller_wrote_is_not_reached_when_drs_stops_every_poll():
    timeline = drop_logs(healthy(), "Updated")
    timeline["steps"][2]["logs"].append(log("Error querying DRS: AccessDeniedException: denied"))
    timeline["steps"][2]["calls"][2]["error"] = "AccessDeniedException"
    timeline["steps"][3]["calls"] = []
    assert check(timeline, "poller-wrote").status == SKIP
    result = check(timeline, "aws-calls")
    assert result.status == FAIL
    assert result.evidence == "poller drs.DescribeJobs failed 1 of 1 calls: Error querying DRS: AccessDeniedException: denied"


def test_aws_calls_accepts_a_transient_error_that_later_succeeded():
    timeline = healthy()
    timeline["steps"][2]["calls"][2]["error"] = "ThrottlingException"
    result = check(timeline, "aws-calls", Evidence(drs_requests=[{}, {}]))
    assert result.status == PASS and "transient ThrottlingException then ok" in result.evidence
    assert "DRS emulator served 2 requests" in result.evidence


def two_regions(asked: str) -> dict[str, Any]:
    """The healthy timeline with wave 1 in us-west-2 and its job looked up in `asked` (DRS answers no job there)."""
    timeline = healthy()
    for each in timeline["steps"][1:]:
        each["tables"]["execution-history"][0]["waves"][1]["region"] = "us-west-2"
    lookup = call("drs", "DescribeJobs", filters={"jobIDs": ["drsjob-1"]})
    timeline["steps"][3]["calls"].append({**lookup, "region": asked})
    return timeline


def drs_request(region: str, account: str = "123456789012", error: str | None = None, **filters: Any
                ) -> dict[str, Any]:
    return {"account": account, "region": region, "operation": "DescribeJobs", "params": {"filters": filters},
            "status": 400 if error else 200, "error": error}


def test_aws_calls_without_evidence_catches_a_lookup_in_another_region_than_the_wave():
    diagnosis = diagnose(two_regions(asked="us-east-1"))
    assert diagnosis.first_broken.link == "aws-calls"
    assert diagnosis.first_broken.evidence == \
        "DescribeJobs asked us-east-1 for job drsjob-1 of wave 1, which the item puts in us-west-2"
    assert check(two_regions(asked="us-west-2"), "aws-calls").status == PASS


def with_an_api_check_before_the_execution(timeline: dict[str, Any], region: str) -> dict[str, Any]:
    """An API request's DescribeJobs of the wave's job in `region` in a step before the execution existed (as an
    API contract scenario checks a group in another region before it starts anything)."""
    earlier = step(0, "api POST /protection-groups", 0, None,
                   calls=[{**call("drs", "DescribeJobs", function="data", filters={"jobIDs": ["drsjob-1"]}),
                           "region": region}])
    timeline["steps"].insert(0, earlier)
    return timeline


def test_aws_calls_leave_out_lookups_made_before_the_execution_existed():
    assert check(with_an_api_check_before_the_execution(two_regions(asked="us-west-2"), "us-east-1"),
                 "aws-calls").status == PASS
    homes = {"drsjob-1": ("123456789012", "us-west-2")}
    earlier = [drs_request("us-east-1", jobIDs=["drsjob-1"])]  # the emulator's record of that API request
    timeline = with_an_api_check_before_the_execution(healthy(), "us-east-1")
    assert check(timeline, "aws-calls", Evidence(drs_requests=earlier, drs_homes=homes)).status == PASS
    # the same lookup made again once the execution exists is the chain's, and misdirected
    assert check(two_regions(asked="us-east-1"), "aws-calls", Evidence(drs_requests=earlier * 2, drs_homes=homes)
                 ).status == FAIL


def test_aws_calls_with_evidence_names_where_drs_keeps_the_job():
    homes = {"drsjob-1": ("123456789012", "us-west-2"), "s-1": ("123456789012", "us-west-2")}
    asked = [drs_request("us-east-1", jobIDs=["drsjob-1"])] * 2
    result = check(healthy(), "aws-calls", Evidence(drs_requests=asked, drs_homes=homes))
    assert result.status == FAIL
    assert result.evidence == "DescribeJobs asked us-east-1 for job drsjob-1 of wave 1, which DRS has in us-west-2 (×2)"


def test_aws_calls_with_evidence_names_the_account_when_it_is_the_account_that_differs():
    homes = {"drsjob-1": ("999999999999", "us-east-1")}
    result = check(healthy(), "aws-calls", Evidence(drs_requests=[drs_request("us-east-1", jobIDs=["drsjob-1"])],
                                                     drs_homes=homes))
    assert result.evidence == ("DescribeJobs asked account 123456789012 us-east-1 for job drsjob-1 of wave 1, "
                               "which DRS has in account 999999999999 us-east-1")


@pytest.mark.parametrize("request_", [
    drs_request("us-west-2", jobIDs=["drsjob-1"]),  # the right place
    drs_request("us-east-1", jobIDs=["drsjob-other"]),  # not a job of this execution
    drs_request("us-east-1", error="AccessDeniedException", jobIDs=["drsjob-1"]),  # a failure: the error check's
])
def test_aws_calls_with_evidence_ignores_right_lookups_foreign_ids_and_failed_requests(request_):
    homes = {"drsjob-1": ("123456789012", "us-west-2"), "drsjob-other": ("123456789012", "us-west-2")}
    assert check(healthy(), "aws-calls", Evidence(drs_requests=[request_], drs_homes=homes)).status == PASS


def test_drs_homes_reads_where_the_emulator_keeps_servers_and_jobs():
    import threading
    from types import SimpleNamespace

    from drs_parity.world.drs.models import RequestContext

    west, east = RequestContext("123456789012", "us-west-2"), RequestContext("123456789012", "us-east-1")
    backend = SimpleNamespace(lock=threading.RLock(), servers={(west, "s-1"): object()},
                              jobs={(east, "drsjob-1"): object()})
    assert drs_homes(backend) == {"s-1": ("123456789012", "us-west-2"),
                                         "drsjob-1": ("123456789012", "us-east-1")}


def test_field_names_catch_a_renamed_field_and_suggest_the_contracts():
    timeline = healthy()
    final = timeline["steps"][3]["tables"]["execution-history"][0]
    final["LastPolledTime"] = final.pop("lastPolledTime")
    assert "'LastPolledTime', which the contract does not name (the contract says lastPolledTime)" in \
        check(timeline, "field-names").evidence
    timeline = healthy()
    moved = timeline["steps"][3]["tables"]["execution-history"][0]["waves"][0]
    moved["serverExecutions"], moved["serverStatuses"] = moved["serverStatuses"], []
    assert "(the contract's serverStatuses is empty there)" in check(timeline, "field-names").evidence


def test_status_values_must_be_upper_case():
    timeline = healthy()
    timeline["steps"][3]["tables"]["execution-history"][0]["status"] = "completed"
    result = check(timeline, "status-values")
    assert result.status == FAIL and "execution status 'completed'" in result.evidence
    assert "(the contract says COMPLETED)" in result.evidence


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.update(serverName=None), "has no serverName"),
    (lambda s: s.update(privateIp=None, instanceType=None), "has no privateIp, instanceType"),
])
def test_servers_enriched_needs_names_and_ec2_facts(change, expected):
    timeline = healthy()
    change(timeline["steps"][3]["tables"]["execution-history"][0]["waves"][1]["serverStatuses"][0])
    result = check(timeline, "servers-enriched")
    assert result.status == FAIL and expected in result.evidence


def test_servers_enriched_needs_server_statuses_on_a_launching_wave():
    timeline = healthy()
    timeline["steps"][2]["tables"]["execution-history"][0]["waves"][0]["serverStatuses"] = []
    assert "wave 0 is LAUNCHING" in check(timeline, "servers-enriched").evidence


def test_servers_enriched_does_not_require_ec2_facts_before_launch():
    assert check(healthy(), "servers-enriched").status == PASS  # step 2 has an IN_PROGRESS server without an instance


def test_final_waves_catches_an_execution_final_after_its_first_wave():
    timeline = healthy()
    timeline["steps"][3]["tables"]["execution-history"][0]["waves"][1] = wave(1, "PENDING")
    result = check(timeline, "final-waves")
    assert result.status == FAIL
    assert "execution COMPLETED at step 3 (until COMPLETED, t+600s) while wave 1 (Wave 1) is PENDING" == result.evidence


def test_the_first_broken_link_wins_over_later_ones():
    timeline = healthy()
    timeline["steps"][3]["tables"]["execution-history"][0]["status"] = "completed"
    timeline["steps"][3]["tables"]["execution-history"][0]["waves"][1] = wave(1, "PENDING")
    diagnosis = diagnose(timeline, status_index())
    assert diagnosis.first_broken.link == "status-values"
    assert diagnosis.exit_code == 1
    assert "first broken link: status-values" in diagnosis.render()
    assert diagnosis.to_dict()["verdict"] == "status-values"


def test_the_cli_diagnoses_a_captured_timeline(tmp_path, capsys):
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(healthy()))
    assert main(["doctor", "--timeline", str(path)]) == 0
    assert "✓  1 status-polling" in capsys.readouterr().out
    broken = healthy()
    broken["steps"][3]["tables"]["execution-history"][0]["status"] = "completed"
    path.write_text(json.dumps(broken))
    assert main(["doctor", "--timeline", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "status-values"


def test_the_cli_runs_a_regression_on_its_own_scenario_unless_told(monkeypatch):
    asked = []

    def fake_doctor_side(system: str, scenario: str, backend: str, regression: Any) -> Diagnosis:
        asked.append(scenario)
        return diagnose(healthy())

    monkeypatch.setattr(doctor_run, "doctor_side", fake_doctor_side)
    assert main(["doctor", "--regression", "drs-wrong-region"]) == 0
    assert main(["doctor", "--regression", "drs-wrong-region", "--scenario", "two-wave-drill"]) == 0
    assert main(["doctor"]) == 0
    assert asked == ["three-wave-two-regions", "two-wave-drill", "two-wave-drill"]


@pytest.mark.parametrize("argv, message", [
    (["doctor", "--regression", "no-such-entry"], "unknown regression 'no-such-entry'"),
    (["doctor", "--system", "monolithic", "--regression", "poller-name-wrong"],
     "regression poller-name-wrong applies to decomposed, not monolithic"),
    (["doctor", "--timeline", "/nonexistent/timeline.json"], "cannot read /nonexistent/timeline.json"),
    (["doctor", "--backend", "nowhere"], "unknown backend 'nowhere'"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("drs-parity: error: ") and message in err and err.count("\n") == 1


def test_the_doctor_checks_every_link_of_the_chain_in_its_order():
    assert [link for link, _, _ in doctor.CHECKS] == list(LINKS) and set(doctor.JUDGES) == set(LINKS)


def test_status_polling_fails_when_the_execution_went_straight_to_a_final_status():
    timeline = healthy()
    for each, status in zip(timeline["steps"][1:], ("INITIATED", "FAILED", "FAILED")):
        each["tables"]["execution-history"][0].update(
            status=status, errorMessage="Wave 0 failed to start: ValidationException: no servers" if status == "FAILED"
            else None)
    result = check(timeline, "status-polling")
    assert result.status == FAIL
    assert result.evidence == ("status INITIATED → FAILED: POLLING was never reached "
                               "(Wave 0 failed to start: ValidationException: no servers)")
    assert diagnose(timeline).first_broken.link == "status-polling"


PLAN_INDEX_ERROR = ("An error occurred (ValidationException) when calling the Query operation: The table does not "
                    "have the specified index: PlanIdIndex")


def test_aws_calls_names_a_failed_call_of_any_service_with_the_message_its_code_printed():
    timeline = healthy()
    guard = call("dynamodb", "Query", "ValidationException", "executions", TableName="history", IndexName="PlanIdIndex")
    timeline["steps"][1]["calls"] += [guard] * 3
    timeline["steps"][1]["logs"].append(log(f"Could not check running executions: {PLAN_INDEX_ERROR}", "executions"))
    result = check(timeline, "aws-calls")
    assert result.status == FAIL
    assert result.evidence == ("executions dynamodb.Query on PlanIdIndex failed: ValidationException: The table does "
                               "not have the specified index: PlanIdIndex, 3×")
    assert diagnose(timeline, status_index()).first_broken.link == "aws-calls"


@pytest.mark.parametrize("errors", [
    ["ProvisionedThroughputExceededException", None],  # transient: the same call on the same table then succeeded
    ["ConditionalCheckFailedException"],  # a conditional write whose condition did its job: an answer
])
def test_aws_calls_passes_transient_failures_and_failed_conditions_of_other_services(errors):
    timeline = healthy()
    timeline["steps"][2]["calls"] += [call("dynamodb", "UpdateItem", error, TableName="history") for error in errors]
    assert check(timeline, "aws-calls").status == PASS
