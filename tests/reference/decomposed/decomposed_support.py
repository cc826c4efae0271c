"""Test support for the decomposed system: a World with decomposed/template.yaml deployed and IAM enforced."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from boto3.dynamodb.types import TypeDeserializer

from drs_parity.world.iam import enforce_iam
from drs_parity.world.world import World

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "decomposed" / "template.yaml"
ACCOUNT = "123456789012"
TABLES = ("protection-groups", "recovery-plans", "execution-history", "target-accounts")


def server_id(number: int) -> str:
    return f"s-{number:017x}"


def source_server(number: int, launch_seconds: int = 60, status: str = "LAUNCHED", **extra: Any) -> dict[str, Any]:
    return {"sourceServerId": server_id(number), "hostname": f"host-{number}.corp.example", "name": f"srv-{number}",
            "tags": {"Tier": "app"}, "launch": {"status": status, "seconds": launch_seconds}, **extra}


@dataclass
class Deployed:
    world: World
    stack: Any

    @property
    def host(self) -> Any:
        return self.world.host

    def function(self, logical_id: str) -> str:
        return self.stack.resources[logical_id]

    def api(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
            claims: dict[str, Any] | None = None) -> Any:
        owner = "DataManagementFunction" if path.startswith(("/protection-groups", "/recovery-plans")) \
            else "ExecutionHandlerFunction"
        return self.host.api_request(self.function(owner), method, path, body=body, query=query, claims=claims)

    def scan(self, table: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"TableName": f"drs-orchestration-{table}-test"}
        deserializer = TypeDeserializer()
        items: list[dict[str, Any]] = []
        while True:
            page = self.world.client("dynamodb").scan(**params)
            items += [{key: deserializer.deserialize(value) for key, value in item.items()} for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def snapshot(self) -> dict[str, Any]:
        return {table: sorted(self.scan(table), key=repr) for table in TABLES}

    def execution(self, execution_id: str) -> dict[str, Any]:
        """The execution as read (CONTRACT.md "Items"): its item, each wave's serverStatuses from its server items."""
        items = [item for item in self.scan("execution-history") if item["executionId"] == execution_id]
        execution = next(item for item in items if "waves" in item)
        servers = sorted((item for item in items if "sourceServerId" in item), key=lambda s: s["sourceServerId"])
        for wave in execution["waves"]:
            wave["serverStatuses"] = [{key: value for key, value in server.items()
                                       if key not in ("executionId", "planId", "waveNumber")}
                                      for server in servers if server["waveNumber"] == wave["waveNumber"]]
        return execution

    def invocations_of(self, logical_id: str) -> list[Any]:
        name = self.function(logical_id)
        return [invocation for invocation in self.host.invocations if invocation.function == name]

    def create_group(self, name: str, server_ids: list[str] | None = None, **fields: Any) -> dict[str, Any]:
        body = {"groupName": name, "region": "us-east-1", **fields}
        if server_ids is not None:
            body["sourceServerIds"] = server_ids
        response = self.api("POST", "/protection-groups", body)
        assert response.status == 201, response.body
        return response.body

    def create_plan(self, name: str, waves: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.api("POST", "/recovery-plans", {"planName": name, "waves": waves})
        assert response.status == 201, response.body
        return response.body

    def start(self, plan_id: str, execution_type: str = "DRILL") -> str:
        response = self.api("POST", "/executions", {"planId": plan_id, "executionType": execution_type})
        assert response.status == 202, response.body
        self.host.drain()
        return response.body["executionId"]


@contextlib.contextmanager
def decomposed_world(servers: list[dict[str, Any]], backend: str = "moto", moto_server_port: int | None = None,
                     drs_config: dict[str, Any] | None = None, faults: list[dict[str, Any]] | None = None,
                     iam: bool = True) -> Iterator[Deployed]:
    world = World(backend=backend, moto_server_port=moto_server_port)
    with world:
        stack = world.deploy(str(TEMPLATE), "decomposed-tests", parameters={"Environment": "test"})
        world.host.load(stack)
        if iam:
            enforce_iam(world, world.host)
        world.drs.load(drs_config or {"jobStartSeconds": 30, "jobEndSeconds": 30}, servers, faults or [])
        yield Deployed(world, stack)


WAVE_SIZE = 200  # StartRecovery takes at most 200 source servers


def calls_of_one_poll(server_count: int, backend: str = "moto", launch_status: str = "LAUNCHED") -> dict[str, int]:
    """AWS calls (service:operation -> count) of one poll of an execution whose active waves hold
    `server_count` launched servers, in waves of at most 200 (one DRS job each), all in one account and region."""
    servers = [source_server(n, launch_seconds=30, status=launch_status) for n in range(1, server_count + 1)]
    with decomposed_world(servers, backend=backend, drs_config={"jobStartSeconds": 10, "jobEndSeconds": 10}) as world:
        group = world.create_group("All", serverSelectionTags={"Tier": "app"})
        plan = world.create_plan("Wide", [{"waveName": "all", "protectionGroupId": group["groupId"]}])
        execution_id = _active_execution(world, plan, [s["sourceServerId"] for s in servers])
        world.world.clock.advance(120)
        poller = world.function("ExecutionPollerFunction")
        invocation = world.host.invoke(poller, {"executionId": execution_id, "planId": plan["planId"],
                                                "executionType": "DRILL", "startTime": 0})
        assert invocation.error is None, invocation.error
        return count_calls(invocation.calls)


def count_calls(calls: list[dict[str, Any]]) -> dict[str, int]:
    """service:operation -> count; follow-up pages (requests carrying a NextToken) are counted apart."""
    counts: dict[str, int] = {}
    for call in calls:
        key = f"{call['service']}:{call['operation']}"
        if (call.get("params") or {}).get("NextToken") or (call.get("params") or {}).get("nextToken"):
            key += " (next page)"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _active_execution(world: Deployed, plan: dict[str, Any], ids: list[str]) -> str:
    """An execution item whose waves are all started in DRS (jobs started by the test, not by the system)."""
    from boto3.dynamodb.types import TypeSerializer

    drs = world.world.client("drs")
    now = world.world.clock.now_int()
    waves = []
    for number, start in enumerate(range(0, len(ids), WAVE_SIZE)):
        chunk = sorted(ids)[start:start + WAVE_SIZE]
        job = drs.start_recovery(sourceServers=[{"sourceServerID": i} for i in chunk], isDrill=True)["job"]
        waves.append({"waveNumber": number, "waveName": f"w{number}", "status": "STARTED", "jobId": job["jobID"],
                      "region": "us-east-1", "accountId": ACCOUNT, "startTime": now, "endTime": None,
                      "serverIds": chunk, "statusMessage": None})
    item = {"executionId": "e-bench", "planId": plan["planId"], "planName": plan["planName"],
            "executionType": "DRILL", "status": "POLLING", "initiatedBy": "bench", "startTime": now,
            "endTime": None, "totalWaves": len(waves), "currentWave": len(waves) - 1, "lastPolledTime": None,
            "pausedBeforeWave": None, "errorMessage": None, "waves": waves, "version": 1}
    serializer = TypeSerializer()
    world.world.client("dynamodb").put_item(TableName="drs-orchestration-execution-history-test",
                                            Item={k: serializer.serialize(v) for k, v in item.items()})
    return item["executionId"]


if __name__ == "__main__":  # python3 -m tests.reference.decomposed.decomposed_support 10 200 1000
    import sys

    for count in [int(arg) for arg in sys.argv[1:]] or [10, 200, 1000]:
        print(count, calls_of_one_poll(count))
