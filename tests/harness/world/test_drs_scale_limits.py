"""The DRS emulator at the sizes DRS itself limits: StartRecovery's 200 servers, and list answers that page when the
caller names no maxResults (as the orchestrator never does)."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_parity.world.clock import VirtualClock
from drs_parity.world.drs import DrsEmulator, FakeLauncher
from drs_parity.world.drs.models import DEFAULT_PAGE_SIZE

SERVER_COUNT = 450


def server_ids(count: int) -> list[str]:
    return [f"s-{index:017x}" for index in range(1, count + 1)]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def drs(clock: VirtualClock) -> Iterator[Any]:
    emulator = DrsEmulator(clock, launcher=FakeLauncher())
    emulator.load({"jobStartSeconds": 30, "jobEndSeconds": 30},
                  [{"sourceServerId": sid, "hostname": f"h{sid}"} for sid in server_ids(SERVER_COUNT)], [])
    uninstall = emulator.install_inprocess()
    try:
        yield boto3.client("drs", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}),
                           aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="dummy")
    finally:
        uninstall()


def page_sizes(call: Any, **params: Any) -> list[int]:
    sizes, token = [], None
    while True:
        answer = call(**params, **({"nextToken": token} if token else {}))
        sizes.append(len(answer["items"]))
        token = answer.get("nextToken")
        if not token:
            return sizes


def test_start_recovery_of_more_than_200_servers_is_a_validation_exception(drs: Any) -> None:
    with pytest.raises(ClientError) as info:
        drs.start_recovery(sourceServers=[{"sourceServerID": sid} for sid in server_ids(201)], isDrill=True)
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationException", "Invalid request: sourceServers must have at most 200 items")
    assert drs.describe_jobs()["items"] == []  # nothing started


def test_lists_page_by_default_when_no_max_results_is_named(drs: Any, clock: VirtualClock) -> None:
    assert DEFAULT_PAGE_SIZE == 200
    assert page_sizes(drs.describe_source_servers) == [200, 200, 50]
    # a filter of 200 ids (the most it takes) fits one page: the poll's calls stay one per chunk
    assert page_sizes(drs.describe_source_servers, filters={"sourceServerIDs": server_ids(200)}) == [200]
    job = drs.start_recovery(sourceServers=[{"sourceServerID": sid} for sid in server_ids(200)], isDrill=True)["job"]
    for _ in range(DEFAULT_PAGE_SIZE + 1):
        drs.start_recovery(sourceServers=[{"sourceServerID": server_ids(1)[0]}], isDrill=True)
    assert page_sizes(drs.describe_jobs) == [200, 2]
    clock.advance(600)  # the big job over: JOB_START, a LAUNCH_START per server, JOB_END
    assert page_sizes(drs.describe_job_log_items, jobID=job["jobID"]) == [200, 2]
    assert page_sizes(drs.describe_job_log_items, jobID=job["jobID"], maxResults=150) == [150, 52]
