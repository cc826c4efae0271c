"""Integration: an until step's status read is one item, the execution item, whatever the size of its execution."""

from __future__ import annotations

import pytest

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.run.capture import moto_first_item, plain_item
from drs_parity.run.driver import SideRun, prepared_world

pytestmark = pytest.mark.slow


def test_the_status_read_is_the_execution_item_as_a_one_item_query_answers() -> None:
    scenario = load_scenarios(["two-wave-drill"])[0]
    with prepared_world(scenario) as world:
        run = SideRun(world, load_system("decomposed"), scenario)
        run.setup()
        for index, step in enumerate(scenario.steps[:3], start=1):  # start, 3 minutes, until final
            run.run_step(index, step)
        execution_id, table = run.timeline.current_execution, run.table_name("execution-history")
        answer = world.client("dynamodb").query(
            TableName=table, KeyConditionExpression="executionId = :id", ConsistentRead=True, Limit=1,
            ExpressionAttributeValues={":id": {"S": execution_id}})
        read = moto_first_item(world.account_id, world.region, table, ("executionId", execution_id))
        partition = [item for item in run.timeline.steps[-1].tables["execution-history"]
                     if item["executionId"] == execution_id]
        assert len(partition) > 1  # the execution item and its server items
        assert read == plain_item(answer["Items"][0]) and "waves" in read  # the execution item, not a server's
        assert run.execution_status(execution_id) == read["status"] == "COMPLETED"
        assert run.execution_status("no-such-execution") is None
        assert moto_first_item(world.account_id, world.region, table, ("executionId", "no-such-execution")) is None
