"""Synthetic one-side timelines in the capture schema (docs/internals.md), for the parity unit tests."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

START = 1768471200
SERVER_A = "s-00000000000000a01"
SERVER_B = "s-00000000000000b02"


def new_ids() -> dict[str, str]:
    """Fresh generated ids, as each side's run makes its own."""
    return {
        "execution": str(uuid.uuid4()), "plan": str(uuid.uuid4()), "group": str(uuid.uuid4()),
        "job": f"drsjob-{uuid.uuid4().hex[:17]}", "instance": f"i-{uuid.uuid4().hex[:17]}",
        "ip": f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}",
    }


def execution_item(ids: dict[str, str], status: str, server_name: str | None, polled: int | None) -> dict[str, Any]:
    dns = "ip-" + ids["ip"].replace(".", "-") + ".ec2.internal"
    server = {"sourceServerId": SERVER_A, "serverName": server_name, "hostname": dns, "launchStatus": "LAUNCHED",
              "launchTime": Decimal(START + 150), "instanceId": ids["instance"], "privateIp": ids["ip"],
              "instanceType": "t3.medium"}
    return {
        "executionId": ids["execution"], "planId": ids["plan"], "planName": "plan-a", "executionType": "DRILL",
        "status": status, "initiatedBy": "ops@example.com", "startTime": Decimal(START + 10), "endTime": None,
        "totalWaves": Decimal(2), "currentWave": Decimal("0"), "lastPolledTime": polled, "pausedBeforeWave": None,
        "errorMessage": None,
        "waves": [
            {"waveNumber": Decimal(1), "waveName": "db", "status": "PENDING", "jobId": None, "serverIds": [SERVER_B],
             "serverStatuses": []},
            {"waveNumber": Decimal(0), "waveName": "web", "status": "STARTED", "jobId": ids["job"],
             "serverIds": [SERVER_A], "serverStatuses": [server]},
        ],
    }


def timeline(side: str, ids: dict[str, str] | None = None, server_name: str | None = "web-01",
             final_status: str = "COMPLETED") -> dict[str, Any]:
    """Three steps: setup (group + plan), start (an execution), poll (DRS/EC2 calls, logs, enriched item)."""
    ids = ids or new_ids()
    group = {"groupId": ids["group"], "groupName": "web", "sourceServerIds": [SERVER_A],
             "createdDate": START, "version": Decimal("1.0")}
    plan = {"planId": ids["plan"], "planName": "plan-a", "createdDate": START,
            "waves": [{"waveNumber": 0, "waveName": "web", "protectionGroupId": ids["group"]}]}
    setup = {
        "index": 0, "name": "setup", "kind": "setup", "time": START,
        "api": [{"method": "POST", "path": "/protection-groups", "status": 201, "body": group, "console": False},
                {"method": "POST", "path": "/recovery-plans", "status": 201, "body": plan, "console": False}],
        "tables": {"protection-groups": [group], "recovery-plans": [plan], "execution-history": [],
                   "target-accounts": []},
        "calls": [{"function": "data", "service": "dynamodb", "region": "us-east-1", "operation": "PutItem", "params": {}, "error": None}],
        "logs": [], "invocations": [],
    }
    started = execution_item(ids, "POLLING", None, None)
    start = {
        "index": 1, "name": "start DRILL of plan-a", "kind": "start", "time": START + 10,
        "api": [{"method": "POST", "path": "/executions", "status": 202,
                 "body": {"executionId": ids["execution"], "status": "INITIATED"}, "console": False},
                {"method": "GET", "path": f"/executions/{ids['execution']}", "status": 200,
                 "body": copy.deepcopy(started), "console": True}],
        "tables": {"protection-groups": [group], "recovery-plans": [plan], "execution-history": [started],
                   "target-accounts": []},
        "calls": [{"function": "api", "service": "drs", "region": "us-east-1", "operation": "StartRecovery",
                   "params": {"sourceServers": [{"sourceServerID": SERVER_A}], "isDrill": True,
                              "tags": {"drs-orchestration:executionId": ids["execution"]}}, "error": None},
                  {"function": "api", "service": "lambda", "region": "us-east-1", "operation": "Invoke", "params": {}, "error": None}],
        "logs": [{"function": "api", "level": "INFO", "executionId": ids["execution"],
                  "message": f"Started wave 0 for execution {ids['execution']}: job {ids['job']}"}],
        "invocations": [],
    }
    polled = execution_item(ids, final_status, server_name, START + 130)
    poll = {
        "index": 2, "name": "advance 2m", "kind": "advance", "time": START + 130,
        "api": [{"method": "GET", "path": f"/executions/{ids['execution']}", "status": 200,
                 "body": copy.deepcopy(polled), "console": True}],
        "tables": {"protection-groups": [group], "recovery-plans": [plan], "execution-history": [polled],
                   "target-accounts": []},
        "calls": [{"function": "poller", "service": "drs", "region": "us-east-1", "operation": "DescribeJobs",
                   "params": {"filters": {"jobIDs": [ids["job"]]}}, "error": None},
                  {"function": "poller", "service": "ec2", "region": "us-east-1", "operation": "DescribeInstances",
                   "params": {"InstanceIds": [ids["instance"]]}, "error": None},
                  {"function": "finder", "service": "dynamodb", "region": "us-east-1", "operation": "Query", "params": {}, "error": None}],
        "logs": [{"function": "finder", "level": "INFO", "message": "Found 1 executions in POLLING status"},
                 {"function": "poller", "level": "INFO", "executionId": ids["execution"],
                  "message": f"Polling execution: {ids['execution']}"},
                 {"function": "poller", "level": "INFO", "executionId": ids["execution"],
                  "message": f"Updated 2 waves for execution {ids['execution']}"}],
        "invocations": [],
    }
    return {"side": side, "scenario": "two-wave-drill", "backend": "moto", "steps": [setup, start, poll]}
