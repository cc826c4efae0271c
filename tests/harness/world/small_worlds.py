"""What the fault tests of the world share: a started moto world (IAM off), a `things` table, functions by handler."""

from __future__ import annotations

from typing import Iterator

from drs_parity.world.functions import DeployedFunction
from drs_parity.world.host import FunctionHost
from drs_parity.world.world import World

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = "things"


def started_world(table: bool = False, status_index: bool = False) -> Iterator[World]:
    """A world for one test, with the `things` table (key `id`; `status` indexed by StatusIndex) when asked."""
    with World("moto", enforce_iam=False) as world:
        if table or status_index:
            create_things_table(world, status_index)
        yield world


def create_things_table(world: World, status_index: bool) -> None:
    attributes = [{"AttributeName": "id", "AttributeType": "S"}]
    indexes: dict[str, list[dict[str, object]]] = {}
    if status_index:
        attributes.append({"AttributeName": "status", "AttributeType": "S"})
        indexes["GlobalSecondaryIndexes"] = [{"IndexName": "StatusIndex", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}]}]
    world.client("dynamodb").create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                                          AttributeDefinitions=attributes,
                                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **indexes)


def add_function(host: FunctionHost, name: str, handler: str) -> DeployedFunction:
    """A function of the test code (`tests.lambdas.<module>.handler`), 30 s timeout."""
    function = DeployedFunction(name=name, arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", handler=handler,
                                timeout=30)
    host.add_function(function)
    return function
