"""CONTRACT.md "Items" on both reference systems: server statuses in items of their own, written only when they
change, read back by one Query, and no wave larger than one DRS job can recover."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from boto3.dynamodb.types import TypeDeserializer

from drs_parity.fixtures.system import load_system
from drs_parity.world import botohooks
from drs_parity.world.world import World
from tests.reference.bench_module import bench


SYSTEMS = ("monolithic", "decomposed")
SERVER_STATUS_FIELDS = {"sourceServerId", "serverName", "hostname", "launchStatus", "launchTime", "instanceId",
                        "privateIp", "instanceType"}


@pytest.fixture(params=SYSTEMS)
def side(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One reference system deployed on moto, ready for a one-wave execution."""
    with World(backend="moto", region=bench.REGION, account_id=bench.ACCOUNT_ID) as world:
        yield bench.Bench(world, load_system(request.param))


def launching(count: int, seconds: int) -> list[dict[str, Any]]:
    servers = bench.source_servers(count)
    for server in servers:
        server["launch"] = {"status": "LAUNCHED", "seconds": seconds}
    return servers


def table_items(side: Any) -> list[dict[str, Any]]:
    dynamodb, params = side.world.client("dynamodb"), {"TableName": side.table("execution-history")}
    deserializer, items = TypeDeserializer(), []
    while True:
        page = dynamodb.scan(**params)
        items += [{key: deserializer.deserialize(value) for key, value in item.items()} for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def operations(invocations: list[Any]) -> list[str]:
    return [f"{call['service']}:{call['operation']}" for invocation in invocations for call in invocation.calls]


def poll(side: Any) -> list[Any]:
    """One schedule tick (the finder polls what is due), its invocations and those they caused."""
    invocations = side.fire_schedules_once()
    side.world.host.drain()
    assert [invocation.error for invocation in invocations if invocation.error] == []
    return invocations


def test_each_server_status_is_an_item_and_the_api_assembles_them(side: Any) -> None:
    side.world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, bench.source_servers(60), [])
    execution_id = side.start_through_api(bench.source_servers(60))
    side.world.clock.advance(bench.SETTLE_SECONDS)
    poll(side)
    items = table_items(side)
    [execution] = [item for item in items if "status" in item]
    servers = [item for item in items if "status" not in item]
    assert execution["status"] == "COMPLETED" and "serverStatuses" not in execution["waves"][0]
    assert len(servers) == 60
    for server in servers:
        assert set(server) == SERVER_STATUS_FIELDS | {"executionId", "planId", "waveNumber"}
        assert server["planId"] == f"{execution['planId']}#server#0000#{server['sourceServerId']}"
    details = side.api("GET", f"/executions/{execution_id}")
    shown = details["waves"][0]["serverStatuses"]
    assert [status["sourceServerId"] for status in shown] == sorted(server["sourceServerId"] for server in servers)
    assert all(status["privateIp"] and set(status) == SERVER_STATUS_FIELDS for status in shown)
    listed = side.api("GET", "/executions")
    assert [summary["executionId"] for summary in listed["executions"]] == [execution_id]


def test_a_poll_that_changed_no_server_writes_no_server_item(side: Any) -> None:
    servers = launching(30, seconds=900)  # the job starts at 30 s; no server launches for 15 minutes
    side.world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, servers, [])
    side.start_through_api(servers)
    side.world.clock.advance(60)
    first = operations(poll(side))
    side.world.clock.advance(120)
    second = operations(poll(side))
    assert first.count("dynamodb:BatchWriteItem") == 2  # 30 new server items: 25 + 5
    assert "drs:DescribeJobs" in second and "dynamodb:UpdateItem" in second
    assert "dynamodb:BatchWriteItem" not in second


def test_indexes_and_listing_hold_execution_items_only(side: Any) -> None:
    side.world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, bench.source_servers(5), [])
    execution_id = side.start_through_api(bench.source_servers(5))
    side.world.clock.advance(bench.SETTLE_SECONDS)
    poll(side)
    dynamodb, table = side.world.client("dynamodb"), side.table("execution-history")
    [execution] = [item for item in table_items(side) if "status" in item]
    by_status = dynamodb.query(TableName=table, IndexName="StatusIndex", KeyConditionExpression="#s = :s",
                               ExpressionAttributeNames={"#s": "status"},
                               ExpressionAttributeValues={":s": {"S": "COMPLETED"}})["Items"]
    by_plan = dynamodb.query(TableName=table, IndexName="planIdIndex", KeyConditionExpression="planId = :p",
                             ExpressionAttributeValues={":p": {"S": execution["planId"]}})["Items"]
    assert [item["executionId"]["S"] for item in by_status + by_plan] == [execution_id, execution_id]


def test_a_tag_group_of_more_servers_than_a_wave_takes_is_refused(side: Any) -> None:
    side.world.drs.load({}, bench.source_servers(501), [])
    group = side.api("POST", "/protection-groups", {"groupName": "Wide", "region": bench.REGION,
                                                    "serverSelectionTags": {"Bench": "yes"}})
    plan = side.api("POST", "/recovery-plans", {"planName": "Wide", "waves": [
        {"waveName": "all", "protectionGroupId": group["groupId"]}]})
    function = side.stack.resources[side.system.route("/executions", "POST")]
    response = side.world.host.api_request(function, "POST", "/executions",
                                           body={"planId": plan["planId"], "executionType": "DRILL"})
    assert (response.status, response.body) == (400, {
        "error": "INVALID_PROTECTION_GROUP",
        "message": f"Protection group {group['groupId']} selects 501 source servers; a wave takes at most 500"})
    assert table_items(side) == []


def unprocessed_batches(count: int) -> tuple[list[int], Any]:
    """A botocore hook answering the first `count` BatchWriteItem requests with every item unprocessed (as DynamoDB
    does under throttling); the list records each request's size."""
    sizes: list[int] = []

    def answer(event_name: str, params: dict[str, Any], **_: Any) -> Any:
        if not event_name.endswith("BatchWriteItem"):
            return None
        requests = json.loads(params["body"])["RequestItems"]
        sizes.append(sum(len(pending) for pending in requests.values()))
        if len(sizes) > count:
            return None
        return SimpleNamespace(status_code=200, headers={}), {"UnprocessedItems": requests}

    return sizes, answer


@pytest.mark.parametrize("refusals, logged", [
    (3, None),
    (4, "Error updating execution waves: UnprocessedItems: 3 server items not written"),
])
def test_unprocessed_server_items_are_sent_again_three_times(side: Any, refusals: int, logged: str | None) -> None:
    side.world.drs.load({"jobStartSeconds": 30, "jobEndSeconds": 30}, bench.source_servers(3), [])
    side.start_through_api(bench.source_servers(3))
    side.world.clock.advance(bench.SETTLE_SECONDS)
    sizes, answer = unprocessed_batches(refusals)
    unregister = botohooks.register("before-call", answer, service="dynamodb")
    try:
        invocations = poll(side)
    finally:
        unregister()
    errors = [line["message"] for invocation in invocations for line in invocation.logs if line["level"] == "ERROR"]
    assert sizes == [3] * min(refusals + 1, 4)
    assert errors == ([logged] if logged else [])
    assert ("dynamodb:UpdateItem" in operations(invocations)) is (logged is None)  # no item update after the error
