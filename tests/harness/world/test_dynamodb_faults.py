"""DynamoDB's scripted faults as code under test meets them: a lagging GSI, a backfilling index, throughput
exceeded, small pages; the harness's own reads never see them."""

from typing import Any, Iterator

import pytest

from drs_parity.world.dynamodb_faults import DynamoDbFaults
from drs_parity.world.world import World
from tests.harness.world.small_worlds import TABLE, add_function, started_world


@pytest.fixture
def world() -> Iterator[World]:
    for started in started_world(status_index=True):
        add_function(started.host, "reader", "tests.lambdas.index_reader.handler")
        add_function(started.host, "writer", "tests.lambdas.writer.handler")
        yield started


@pytest.fixture
def faults(world: World) -> DynamoDbFaults:
    return DynamoDbFaults(world.clock, world.client("dynamodb"), world.host)


def read(world: World, **event: Any) -> Any:
    return world.host.invoke("reader", {"table": TABLE, **event}).result


def write(world: World, items: int) -> None:
    world.host.invoke("writer", {"table": TABLE, "items": items})


def harness_query(world: World) -> list[str]:
    answer = world.client("dynamodb").query(
        TableName=TABLE, IndexName="StatusIndex", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "NEW"}})
    return sorted(item["id"]["S"] for item in answer["Items"])


def test_a_lagging_index_answers_with_the_table_as_it_was_lag_seconds_ago(world: World, faults: DynamoDbFaults) -> None:
    faults.add_lag(TABLE, "StatusIndex", 90)
    write(world, 1)

    seen_at_once = read(world)["ids"]
    world.clock.advance(60)
    write(world, 2)  # item-0 again and item-1, 60 s later
    seen_at_60 = read(world)["ids"]
    world.clock.advance(30)
    seen_at_90 = read(world)["ids"]
    world.clock.advance(60)

    assert (seen_at_once, seen_at_60, seen_at_90) == ([], [], ["item-0"])
    assert read(world)["ids"] == ["item-0", "item-1"]
    assert read(world, get="item-1") == {"item": "NEW"}  # the base table is current all along


def test_a_deleted_item_leaves_the_lagging_index_late_too(world: World, faults: DynamoDbFaults) -> None:
    write(world, 1)
    faults.add_lag(TABLE, "StatusIndex", 30)  # items already there are in the index from the start
    world.client("dynamodb").delete_item(TableName=TABLE, Key={"id": {"S": "item-0"}})  # the harness's write counts

    assert read(world)["ids"] == ["item-0"]
    world.clock.advance(30)
    assert read(world)["ids"] == []


def test_a_backfilling_index_refuses_reads_as_aws_does_until_it_is_built(world: World, faults: DynamoDbFaults) -> None:
    faults.add_backfilling(TABLE, "StatusIndex", world.clock.start + 600)
    write(world, 1)

    assert read(world) == {"error": "ValidationException",
                           "message": "Cannot read from backfilling global secondary index: StatusIndex"}
    assert read(world, describe=True) == {"indexes": {"StatusIndex": ["CREATING", True]}}
    assert harness_query(world) == ["item-0"]  # the harness reads the table as it is
    world.clock.advance(600)
    assert read(world)["ids"] == ["item-0"]
    assert read(world, describe=True) == {"indexes": {"StatusIndex": ["ACTIVE", False]}}


def test_throughput_exceeded_is_retried_by_botocore_then_surfaces(world: World, faults: DynamoDbFaults) -> None:
    faults.add_throughput_exceeded(TABLE, "Query", world.clock.start, count=2)
    write(world, 1)

    assert read(world)["ids"] == ["item-0"]  # two refused attempts, botocore's third one answered
    faults.add_throughput_exceeded(TABLE, "Query", world.clock.start, count=100)
    refused = read(world)
    assert refused["error"] == "ProvisionedThroughputExceededException"
    assert refused["message"].startswith("Throughput exceeds the current capacity of your table or index.")
    assert harness_query(world) == ["item-0"]


def test_small_pages_lose_items_for_a_finder_that_ignores_last_evaluated_key(world: World,
                                                                             faults: DynamoDbFaults) -> None:
    faults.add_small_pages(TABLE, "StatusIndex", 2)
    write(world, 5)

    assert len(read(world)["ids"]) == 2
    assert read(world, follow=True) == {"ids": [f"item-{n}" for n in range(5)], "pages": 3}
    assert len(harness_query(world)) == 5


@pytest.mark.parametrize("script", [
    lambda faults: faults.add_lag(TABLE, "NoSuchIndex", 30),
    lambda faults: faults.add_backfilling(TABLE, "NoSuchIndex", 30),
    lambda faults: faults.add_small_pages(TABLE, "NoSuchIndex", 1),
])
def test_an_index_the_table_lacks_is_refused_naming_the_ones_it_has(faults: DynamoDbFaults, script: Any) -> None:
    with pytest.raises(ValueError, match="table things has no global secondary index 'NoSuchIndex' "
                                         r"\(it has: StatusIndex\)"):
        script(faults)
