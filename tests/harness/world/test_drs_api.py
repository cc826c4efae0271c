"""An unmodified boto3 `drs` client against the DRS emulator, over both transports (in-process and loopback HTTP)."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_parity.world.clock import VirtualClock
from drs_parity.world.drs import DrsEmulator, FakeLauncher

WEB = "s-0000000000000000a"
DB = "s-0000000000000000b"
APP = "s-0000000000000000c"
OTHER_ACCOUNT_SERVER = "s-0000000000000000d"
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
KEY_OF_B = "AKIAACCOUNTB"

SERVERS = [
    {"sourceServerId": WEB, "hostname": "web-01.corp.example", "name": "web-01", "tags": {"Tier": "web"},
     "accountId": ACCOUNT_A, "region": "us-east-1", "instanceType": "t3.large",
     "launch": {"status": "LAUNCHED", "seconds": 120}},
    {"sourceServerId": DB, "hostname": "db-01.corp.example", "accountId": ACCOUNT_A, "region": "us-east-1",
     "launch": {"status": "FAILED", "seconds": 60}},
    {"sourceServerId": APP, "hostname": "app-01.corp.example", "name": "app-01", "accountId": ACCOUNT_A,
     "region": "us-east-1", "launch": {"status": "LAUNCHED", "seconds": 30}},
    {"sourceServerId": OTHER_ACCOUNT_SERVER, "hostname": "b-01", "name": "b-01", "accountId": ACCOUNT_B,
     "region": "us-east-1", "launch": {"status": "LAUNCHED", "seconds": 30}},
]
TIMING = {"jobStartSeconds": 30, "jobEndSeconds": 20}


def resolve_account(access_key_id: str) -> str:
    return ACCOUNT_B if access_key_id == KEY_OF_B else ACCOUNT_A


class Harness:
    """One emulator plus a way to build clients that reach it through the transport under test."""

    def __init__(self, emulator: DrsEmulator, clock: VirtualClock, endpoint_url: str | None) -> None:
        self.emu, self.clock, self.endpoint_url = emulator, clock, endpoint_url

    def client(self, access_key: str = "AKIAACCOUNTA", validate_params: bool = True) -> Any:
        config = Config(retries={"total_max_attempts": 1}, parameter_validation=validate_params)
        return boto3.client("drs", region_name="us-east-1", endpoint_url=self.endpoint_url, config=config,
                            aws_access_key_id=access_key, aws_secret_access_key="dummy")


def _start_transport(kind: str, emulator: DrsEmulator) -> tuple[str | None, Callable[[], None]]:
    if kind == "inprocess":
        return None, emulator.install_inprocess()
    server = emulator.serve(port=0)
    return server.url, server.stop


@pytest.fixture(params=["inprocess", "http"])
def drs(request: pytest.FixtureRequest) -> Iterator[Harness]:
    clock = VirtualClock()
    emulator = DrsEmulator(clock, FakeLauncher(), account_resolver=resolve_account)
    emulator.load(TIMING, SERVERS, [])
    endpoint_url, stop = _start_transport(request.param, emulator)
    try:
        yield Harness(emulator, clock, endpoint_url)
    finally:
        stop()


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


def start_drill(client: Any, *server_ids: str) -> dict[str, Any]:
    return client.start_recovery(sourceServers=[{"sourceServerID": s} for s in server_ids], isDrill=True,
                                 tags={"drs-orchestration:wave": "0"})["job"]


# -- the operations ---------------------------------------------------------------------------------------------------
def test_describe_source_servers_returns_scenario_servers_with_tags_and_hints(drs: Harness) -> None:
    items = drs.client().describe_source_servers()["items"]
    assert [item["sourceServerID"] for item in items] == [WEB, DB, APP]
    web = items[0]
    assert web["arn"] == f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/{WEB}"
    assert web["tags"] == {"Name": "web-01", "Tier": "web"}
    assert web["sourceProperties"]["identificationHints"]["hostname"] == "web-01.corp.example"
    assert web["sourceProperties"]["recommendedInstanceType"] == "t3.large"
    assert "Name" not in items[1]["tags"]


def test_describe_source_servers_filter_omits_unknown_ids(drs: Harness) -> None:
    items = drs.client().describe_source_servers(filters={"sourceServerIDs": [DB, "s-00000000000000fff"]})["items"]
    assert [item["sourceServerID"] for item in items] == [DB]


def test_start_recovery_creates_a_pending_launch_job(drs: Harness) -> None:
    job = start_drill(drs.client(), WEB, DB)
    assert job["jobID"].startswith("drsjob-") and len(job["jobID"]) == 24
    assert (job["type"], job["initiatedBy"], job["status"]) == ("LAUNCH", "START_DRILL", "PENDING")
    assert job["creationDateTime"] == "2026-01-15T10:00:00Z"
    assert [(p["sourceServerID"], p["launchStatus"]) for p in job["participatingServers"]] == [
        (WEB, "PENDING"), (DB, "PENDING")]
    assert drs.emu.requests[-1]["status"] == 202


def test_start_recovery_of_unknown_server_is_resource_not_found(drs: Harness) -> None:
    with pytest.raises(ClientError) as info:
        drs.client().start_recovery(sourceServers=[{"sourceServerID": "s-00000000000000fff"}])
    assert error_code(info) == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_recovery_is_not_a_drill(drs: Harness) -> None:
    job = drs.client().start_recovery(sourceServers=[{"sourceServerID": APP}])["job"]
    assert job["initiatedBy"] == "START_RECOVERY"


def test_full_job_timeline_with_one_failed_launch(drs: Harness) -> None:
    client = drs.client()
    job_id = start_drill(client, WEB, DB)["jobID"]

    def snapshot() -> tuple[str, dict[str, str]]:
        job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        return job["status"], {p["sourceServerID"]: p["launchStatus"] for p in job["participatingServers"]}

    drs.clock.advance(29)
    assert snapshot() == ("PENDING", {WEB: "PENDING", DB: "PENDING"})
    drs.clock.advance(1)  # job start at +30
    assert snapshot() == ("STARTED", {WEB: "IN_PROGRESS", DB: "IN_PROGRESS"})
    drs.clock.advance(60)  # DB fails 60 s after the start
    assert snapshot() == ("STARTED", {WEB: "IN_PROGRESS", DB: "FAILED"})
    drs.clock.advance(60)  # WEB launches 120 s after the start
    assert snapshot() == ("STARTED", {WEB: "LAUNCHED", DB: "FAILED"})
    drs.clock.advance(19)
    assert snapshot()[0] == "STARTED"
    drs.clock.advance(1)  # jobEndSeconds after the last final server
    job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    assert job["status"] == "COMPLETED" and job["endDateTime"] == "2026-01-15T10:02:50Z"

    web_part = next(p for p in job["participatingServers"] if p["sourceServerID"] == WEB)
    db_part = next(p for p in job["participatingServers"] if p["sourceServerID"] == DB)
    assert "recoveryInstanceID" not in db_part
    instances = client.describe_recovery_instances()["items"]
    assert [(i["recoveryInstanceID"], i["sourceServerID"], i["jobID"], i["isDrill"]) for i in instances] == [
        (web_part["recoveryInstanceID"], WEB, job_id, True)]
    assert instances[0]["ec2InstanceID"] == web_part["recoveryInstanceID"]

    logs = client.describe_job_log_items(jobID=job_id)["items"]
    assert [(item["event"], item["eventData"].get("sourceServerID"), item["logDateTime"]) for item in logs] == [
        ("JOB_START", None, "2026-01-15T10:00:30Z"),
        ("LAUNCH_START", WEB, "2026-01-15T10:00:30Z"),
        ("LAUNCH_START", DB, "2026-01-15T10:00:30Z"),
        ("LAUNCH_FAILED", DB, "2026-01-15T10:01:30Z"),
        ("JOB_END", None, "2026-01-15T10:02:50Z"),
    ]


def test_events_happen_at_their_own_time_even_when_nobody_asks(drs: Harness) -> None:
    client = drs.client()
    job_id = start_drill(client, WEB)["jobID"]
    drs.clock.advance(3600)  # one jump far past the end
    job = client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    assert job["endDateTime"] == "2026-01-15T10:02:50Z"  # start 30 + launch 120 + end 20
    web = client.describe_source_servers(filters={"sourceServerIDs": [WEB]})["items"][0]
    assert web["lastLaunchResult"] == "SUCCEEDED"
    assert web["recoveryInstanceId"] == job["participatingServers"][0]["recoveryInstanceID"]


def test_describe_recovery_instances_filters(drs: Harness) -> None:
    client = drs.client()
    start_drill(client, WEB, APP)
    drs.clock.advance(300)
    everything = client.describe_recovery_instances()["items"]
    assert sorted(i["sourceServerID"] for i in everything) == [WEB, APP]
    by_server = client.describe_recovery_instances(filters={"sourceServerIDs": [APP]})["items"]
    assert [i["sourceServerID"] for i in by_server] == [APP]
    app_instance = by_server[0]["recoveryInstanceID"]
    by_id = client.describe_recovery_instances(filters={"recoveryInstanceIDs": [app_instance]})["items"]
    assert [i["recoveryInstanceID"] for i in by_id] == [app_instance]
    facts = drs.emu.launcher.launched[app_instance]
    assert by_id[0]["recoveryInstanceProperties"]["networkInterfaces"][0]["ips"] == [facts["privateIp"]]


def test_terminate_recovery_instances_runs_a_terminate_job(drs: Harness) -> None:
    client = drs.client()
    start_drill(client, APP)
    drs.clock.advance(300)
    instance_id = client.describe_recovery_instances()["items"][0]["recoveryInstanceID"]
    job = client.terminate_recovery_instances(recoveryInstanceIDs=[instance_id])["job"]
    assert (job["type"], job["initiatedBy"], job["status"]) == ("TERMINATE", "TERMINATE_RECOVERY_INSTANCES", "PENDING")
    drs.clock.advance(TIMING["jobStartSeconds"])
    assert client.describe_recovery_instances()["items"] == []
    assert drs.emu.launcher.terminated == [instance_id]
    drs.clock.advance(TIMING["jobEndSeconds"])
    done = client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    assert done["status"] == "COMPLETED"
    assert done["participatingServers"] == [{"sourceServerID": APP, "launchStatus": "TERMINATED"}]


def test_terminate_unknown_instance_is_resource_not_found(drs: Harness) -> None:
    with pytest.raises(ClientError) as info:
        drs.client().terminate_recovery_instances(recoveryInstanceIDs=["i-0123456789abcdef0"])
    assert error_code(info) == "ResourceNotFoundException"


def test_list_tags_for_resource_of_server_job_and_instance(drs: Harness) -> None:
    client = drs.client()
    job = start_drill(client, APP)
    drs.clock.advance(300)
    instance = client.describe_recovery_instances()["items"][0]
    server_arn = f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/{APP}"
    assert client.list_tags_for_resource(resourceArn=server_arn)["tags"] == {"Name": "app-01"}
    assert client.list_tags_for_resource(resourceArn=job["arn"])["tags"] == {"drs-orchestration:wave": "0"}
    assert client.list_tags_for_resource(resourceArn=instance["arn"])["tags"] == {"Name": "app-01"}
    with pytest.raises(ClientError) as info:
        client.list_tags_for_resource(resourceArn=f"arn:aws:drs:us-east-1:{ACCOUNT_A}:source-server/s-00000000000000fff")
    assert error_code(info) == "ResourceNotFoundException"


# -- pagination -------------------------------------------------------------------------------------------------------
def collect_pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[list[str]]:
    pages, token = [], None
    while True:
        response = call(maxResults=1, **({"nextToken": token} if token else {}), **kwargs)
        pages.append([item[key] for item in response["items"]])
        token = response.get("nextToken")
        if not token:
            return pages


def test_describe_source_servers_pages_one_at_a_time(drs: Harness) -> None:
    assert collect_pages(drs.client().describe_source_servers, "sourceServerID") == [[WEB], [DB], [APP]]


def test_describe_jobs_pages_one_at_a_time(drs: Harness) -> None:
    client = drs.client()
    job_ids = [start_drill(client, server)["jobID"] for server in (WEB, DB)]
    assert collect_pages(client.describe_jobs, "jobID") == [[job_ids[0]], [job_ids[1]]]


def test_botocore_paginator_walks_all_pages(drs: Harness) -> None:
    pages = drs.client().get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 2})
    assert [len(page["items"]) for page in pages] == [2, 1]


def test_invalid_next_token_is_a_validation_error(drs: Harness) -> None:
    with pytest.raises(ClientError) as info:
        drs.client().describe_jobs(nextToken="not-a-token")
    assert error_code(info) == "ValidationException"


# -- validation -------------------------------------------------------------------------------------------------------
def test_too_many_ids_in_a_filter_is_a_validation_error(drs: Harness) -> None:
    ids = [f"s-{n:017x}" for n in range(201)]
    with pytest.raises(ClientError) as info:
        drs.client().describe_source_servers(filters={"sourceServerIDs": ids})
    assert error_code(info) == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["fieldList"][0]["name"] == "filters.sourceServerIDs"
    assert info.value.response["reason"] == "fieldValidationFailed"


def test_exactly_two_hundred_ids_are_accepted(drs: Harness) -> None:
    ids = [WEB] + [f"s-{n:017x}" for n in range(1000, 1199)]
    items = drs.client().describe_source_servers(filters={"sourceServerIDs": ids})["items"]
    assert [item["sourceServerID"] for item in items] == [WEB]


def test_id_that_breaks_the_pattern_is_a_validation_error(drs: Harness) -> None:
    with pytest.raises(ClientError) as info:
        drs.client().describe_job_log_items(jobID="drsjob-!!!!!!!!!!!!!!!!!")
    assert error_code(info) == "ValidationException"


def test_missing_required_member_is_a_validation_error(drs: Harness) -> None:
    # botocore would refuse before sending; turn that off to see what the service says
    with pytest.raises(ClientError) as info:
        drs.client(validate_params=False).start_recovery(isDrill=True)
    assert error_code(info) == "ValidationException"
    assert info.value.response["fieldList"] == [{"name": "sourceServers", "message": "is required"}]


def test_wrong_type_and_zero_max_results_are_validation_errors(drs: Harness) -> None:
    client = drs.client(validate_params=False)
    for call in (lambda: client.describe_jobs(maxResults=0),
                 lambda: client.start_recovery(sourceServers=[{"sourceServerID": WEB}], isDrill="yes")):
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "ValidationException"


def test_raw_requests_that_are_not_json_or_not_an_operation(drs: Harness) -> None:
    # No input member of the seven operations is an enum; enums are checked by the shape walker (unit tests).
    status, headers, body = drs.emu.handle("POST", "/StartRecovery", "", {}, b"{not json")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException") and b"cannotParse" in body
    status, headers, body = drs.emu.handle("POST", "/StartReplication", "", {}, b"{}")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException") and b"unknownOperation" in body


# -- faults and accounts ----------------------------------------------------------------------------------------------
def test_scripted_throttling_is_seen_by_the_client_once(drs: Harness) -> None:
    drs.emu.load(faults=[{"operation": "DescribeJobs", "error": "ThrottlingException", "afterSeconds": 1000}])
    client = drs.client()
    client.describe_jobs()  # before afterSeconds: fine
    drs.clock.advance(1000)
    with pytest.raises(ClientError) as info:
        client.describe_jobs()
    assert error_code(info) == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert client.describe_jobs()["items"] == []  # count 1: the next call is served
    assert [(r["operation"], r["status"], r["error"]) for r in drs.emu.requests] == [
        ("DescribeJobs", 200, None), ("DescribeJobs", 429, "ThrottlingException"), ("DescribeJobs", 200, None)]


def test_accounts_are_isolated(drs: Harness) -> None:
    client_b = drs.client(access_key=KEY_OF_B)
    assert [s["sourceServerID"] for s in client_b.describe_source_servers()["items"]] == [OTHER_ACCOUNT_SERVER]
    with pytest.raises(ClientError) as info:
        client_b.start_recovery(sourceServers=[{"sourceServerID": WEB}])
    assert error_code(info) == "ResourceNotFoundException"
    job_a = start_drill(drs.client(), WEB)
    assert client_b.describe_jobs(filters={"jobIDs": [job_a["jobID"]]})["items"] == []
    assert {(r["account"], r["region"]) for r in drs.emu.requests} == {(ACCOUNT_A, "us-east-1"),
                                                                       (ACCOUNT_B, "us-east-1")}


def test_regions_are_isolated(drs: Harness) -> None:
    config = Config(retries={"total_max_attempts": 1})
    client = boto3.client("drs", region_name="eu-west-1", endpoint_url=drs.endpoint_url, config=config,
                          aws_access_key_id="AKIAACCOUNTA", aws_secret_access_key="dummy")
    assert client.describe_source_servers()["items"] == []
    assert drs.emu.requests[-1]["region"] == "eu-west-1"
