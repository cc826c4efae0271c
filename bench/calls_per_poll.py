"""AWS calls of one poll of a one-wave execution of N launched servers, per service:operation, for either side.

    python bench/calls_per_poll.py --system monolithic|decomposed --servers 10 200 1000

Generic over the system description (fixtures/systems/<name>.yaml): the stack is deployed on the moto backend,
N source servers are loaded into the DRS emulator, the execution is started through the API when a protection
group can list the wave's ids (N <= 200) or else seeded as the contract's item with one DRS job created in the
emulator (a poll asks DescribeJobs once however many jobs a wave has), the clock runs until every server launched,
and then each schedule rule fires once. Every AWS call of the invocations that tick caused is counted.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boto3.dynamodb.types import TypeSerializer  # noqa: E402

from drs_parity.world.drs.models import RequestContext  # noqa: E402
from drs_parity.fixtures.system import System, load_system  # noqa: E402
from drs_parity.world.world import World  # noqa: E402

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LAUNCH_SECONDS = 60
SETTLE_SECONDS = 600  # job start (30 s) + launches (60 s) + job end (30 s), with room to spare
API_WAVE_LIMIT = 200


def server_id(index: int) -> str:
    return f"s-{index:017x}"


def source_servers(count: int) -> list[dict[str, Any]]:
    return [{"sourceServerId": server_id(index), "hostname": f"host-{index:04d}.corp.example", "name": f"srv-{index:04d}",
             "tags": {"Bench": "yes"}, "region": REGION, "accountId": ACCOUNT_ID, "instanceType": "t3.small",
             "launch": {"status": "LAUNCHED", "seconds": LAUNCH_SECONDS}} for index in range(1, count + 1)]


class Bench:
    """One world with one system deployed, ready to set up an execution and count one poll's calls."""

    def __init__(self, world: World, system: System) -> None:
        self.world = world
        self.system = system
        stack = world.deploy(str(system.template), f"bench-{system.name}", parameters=system.parameters)
        self.stack = stack
        world.host.load(stack)
        for function in world.host.functions.values():
            if function.logical_id in system.functions:
                function.environment.update(system.environment)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        function = self.stack.resources[self.system.route(path)]
        response = self.world.host.api_request(function, method, path, body=body)
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {response.body}")
        return response.body

    def table(self, logical_name: str) -> str:
        return self.stack.resources[self.system.tables[logical_name]]

    # -- setting up an execution of one wave ----------------------------------------------------------------------
    def start_through_api(self, servers: list[dict[str, Any]]) -> str:
        group = self.api("POST", "/protection-groups", {
            "groupName": "Bench", "region": REGION, "accountId": ACCOUNT_ID,
            "sourceServerIds": [server["sourceServerId"] for server in servers]})
        plan = self.api("POST", "/recovery-plans", {
            "planName": "Bench", "waves": [{"waveName": "All", "protectionGroupId": group["groupId"]}]})
        started = self.api("POST", "/executions", {"planId": plan["planId"], "executionType": "DRILL"})
        return started["executionId"]

    def seed_execution(self, servers: list[dict[str, Any]]) -> str:
        """The contract's item of a POLLING execution whose one wave's job was created in the emulator."""
        ids = sorted(server["sourceServerId"] for server in servers)
        job = self.world.drs.backend.start_recovery(RequestContext(ACCOUNT_ID, REGION), {
            "sourceServers": [{"sourceServerID": sid} for sid in ids], "isDrill": True, "tags": {}})["job"]
        now = self.world.clock.now_int()
        execution_id = str(uuid.uuid4())
        wave = {"waveNumber": 0, "waveName": "All", "status": "STARTED", "jobId": job["jobID"],
                "jobIds": [job["jobID"]], "region": REGION, "accountId": ACCOUNT_ID, "startTime": now, "endTime": None,
                "serverIds": ids, "statusMessage": None}
        item = {"executionId": execution_id, "planId": str(uuid.uuid4()), "planName": "Bench",
                "executionType": "DRILL", "status": "POLLING", "initiatedBy": "bench", "startTime": now,
                "endTime": None, "totalWaves": 1, "currentWave": 0, "lastPolledTime": None,
                "pausedBeforeWave": None, "errorMessage": None, "waves": [wave], "version": 1}
        serializer = TypeSerializer()
        self.world.client("dynamodb").put_item(
            TableName=self.table("execution-history"), Item={k: serializer.serialize(v) for k, v in item.items()})
        return execution_id

    # -- one tick -----------------------------------------------------------------------------------------------
    def fire_schedules_once(self) -> list[Any]:
        """Each schedule rule's targets invoked once, as EventBridge would; returns the invocations it caused."""
        host = self.world.host
        mark = len(host.invocations)
        for rule in host.rules:
            for target in rule.targets:
                function = host.find(target.arn)
                event = json.loads(target.input) if target.input else {
                    "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                    "source": "aws.events", "account": ACCOUNT_ID, "time": self.world.clock.isoformat(),
                    "region": REGION, "resources": [rule.arn], "detail": {}}
                host.invoke(function.name, event)
        return host.invocations[mark:]


@dataclass
class PollMeasure:
    calls: collections.Counter[str]  # service:operation -> number of calls of the tick
    params: dict[str, list[dict[str, Any]]]  # service:operation -> the parameters of each call
    enriched: int  # servers whose status carries EC2 facts after the tick


def measure_poll(system_name: str, count: int) -> PollMeasure:
    """One poll of one wave of `count` launched servers: its AWS calls and how many servers it enriched."""
    system = load_system(system_name)
    with World(backend="moto", region=REGION, account_id=ACCOUNT_ID) as world:
        bench = Bench(world, system)
        servers = source_servers(count)
        world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, servers, [])
        if count <= API_WAVE_LIMIT:
            bench.start_through_api(servers)
        else:
            bench.seed_execution(servers)
        world.clock.advance(SETTLE_SECONDS)
        invocations = bench.fire_schedules_once()
        failed = [invocation.error for invocation in invocations if invocation.error]
        if failed:
            raise RuntimeError(f"the poll failed: {failed}")
        calls = [call for invocation in invocations for call in invocation.calls]
        params: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for call in calls:
            params[f"{call['service']}:{call['operation']}"].append(call["params"])
        return PollMeasure(collections.Counter(f"{call['service']}:{call['operation']}" for call in calls),
                           dict(params), enriched_servers(world, bench.table("execution-history")))


def calls_per_poll(system_name: str, count: int) -> collections.Counter[str]:
    """service:operation -> number of calls of one poll of one wave of `count` launched servers."""
    return measure_poll(system_name, count).calls


def enriched_servers(world: World, table: str) -> int:
    """How many server items (CONTRACT.md "Items") carry EC2 facts (a poll that batches but loses servers is wrong)."""
    dynamodb, params = world.client("dynamodb"), {"TableName": table}
    enriched = 0
    while True:
        page = dynamodb.scan(**params)
        enriched += sum(1 for item in page["Items"] if item.get("privateIp", {}).get("S"))
        if "LastEvaluatedKey" not in page:
            return enriched
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def print_table(system_name: str, measures: dict[int, PollMeasure]) -> None:
    results = {count: measure.calls for count, measure in measures.items()}
    operations = sorted({operation for counter in results.values() for operation in counter})
    counts = list(results)
    width = max([len("service:operation"), *map(len, operations)])
    print(f"AWS calls of one poll ({system_name}, one wave, every server launched)")
    print(f"{'service:operation':<{width}} " + " ".join(f"{f'{n} servers':>12}" for n in counts))
    for operation in operations:
        print(f"{operation:<{width}} " + " ".join(f"{results[n][operation]:>12}" for n in counts))
    print(f"{'total':<{width}} " + " ".join(f"{sum(results[n].values()):>12}" for n in counts))
    print(f"{'servers enriched':<{width}} " + " ".join(f"{measures[n].enriched:>12}" for n in counts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="monolithic", help="a system description name (fixtures/systems)")
    parser.add_argument("--servers", type=int, nargs="+", default=[10, 200, 1000])
    args = parser.parse_args(argv)
    print_table(args.system, {count: measure_poll(args.system, count) for count in args.servers})
    return 0


if __name__ == "__main__":
    sys.exit(main())
