"""The decomposed polling chain on the World: cadence, concurrent polls, and AWS calls per poll."""

from drs_parity.world import botohooks
from tests.reference.decomposed.decomposed_support import (
    calls_of_one_poll,
    count_calls,
    decomposed_world,
    server_id,
    source_server,
)


def poll_payload(world, execution_id):
    item = world.execution(execution_id)
    return {"executionId": execution_id, "planId": item["planId"], "executionType": item["executionType"],
            "startTime": int(item["startTime"])}


def test_one_poll_of_a_200_server_wave_batches_its_calls():
    servers = [source_server(n, launch_seconds=30) for n in range(1, 201)]
    with decomposed_world(servers, drs_config={"jobStartSeconds": 10, "jobEndSeconds": 10}) as world:
        group = world.create_group("Big", [server_id(n) for n in range(1, 201)])
        plan = world.create_plan("Big plan", [{"waveName": "all", "protectionGroupId": group["groupId"]}])
        execution_id = world.start(plan["planId"])
        world.world.clock.advance(120)
        poll = world.host.invoke(world.function("ExecutionPollerFunction"), poll_payload(world, execution_id))
        counts = count_calls(poll.calls)
        # moto 5.2.1 pages DescribeInstances at 100 reservations even for InstanceIds (AWS does not): the
        # one request naming all 200 ids is followed by NextToken pages on moto only.
        assert counts.pop("ec2:DescribeInstances (next page)", 0) <= 1
        # 200 new server items: 8 BatchWriteItem requests of 25 (CONTRACT.md "Poll", step 6)
        assert counts == {"dynamodb:Query": 1, "drs:DescribeJobs": 1, "drs:DescribeSourceServers": 1,
                          "ec2:DescribeInstances": 1, "dynamodb:BatchWriteItem": 8, "dynamodb:UpdateItem": 1}
        [describe] = [c for c in poll.calls if c["operation"] == "DescribeInstances" and "NextToken" not in c["params"]]
        assert len(describe["params"]["InstanceIds"]) == 200
        item = world.execution(execution_id)
        assert item["status"] == "COMPLETED"
        statuses = item["waves"][0]["serverStatuses"]
        assert len(statuses) == 200 and all(s["privateIp"] and s["serverName"] for s in statuses)


def test_one_poll_of_1000_servers_asks_drs_for_source_servers_in_five_chunks():
    # Launches fail here (no EC2 instances) to keep the test fast; the EC2 batching is asserted above.
    counts = calls_of_one_poll(1000, launch_status="FAILED")
    assert counts == {"dynamodb:Query": 1, "drs:DescribeJobs": 1, "drs:DescribeSourceServers": 5,
                      "dynamodb:BatchWriteItem": 40, "dynamodb:UpdateItem": 1}


def test_finder_polls_at_the_phase_interval_not_every_tick():
    # DRS job stays PENDING 5 minutes (120 s interval), then servers launch over 4 minutes (60 s interval).
    servers = [source_server(1, launch_seconds=240)]
    with decomposed_world(servers, drs_config={"jobStartSeconds": 300, "jobEndSeconds": 30}) as world:
        group = world.create_group("G", [server_id(1)])
        plan = world.create_plan("P", [{"waveName": "w", "protectionGroupId": group["groupId"]}])
        execution_id = world.start(plan["planId"])
        started = world.world.clock.now_int()
        world.host.start_schedules()
        world.world.clock.advance(900)
        finder_ticks = [int(i.started) - started for i in world.invocations_of("ExecutionFinderFunction")]
        polls = [int(i.started) - started for i in world.invocations_of("ExecutionPollerFunction")]
        assert finder_ticks[:15] == list(range(60, 901, 60))
        # never polled -> 60; STARTED/PENDING job -> every 120 s; LAUNCHING from the poll at 300 s -> every 60 s
        assert polls == [60, 180, 300, 360, 420, 480, 540]  # completed at 540 (job start 300 + launch 240)
        assert world.execution(execution_id)["status"] == "COMPLETED"
        finder_logs = [line["message"] for i in world.invocations_of("ExecutionFinderFunction") for line in i.logs]
        assert f"Skipping execution {execution_id}: polled 60s ago, interval 120s" in finder_logs


def test_two_polls_back_to_back_leave_a_correct_item():
    with decomposed_world([source_server(1, launch_seconds=60), source_server(2, launch_seconds=60)]) as world:
        group_a = world.create_group("A", [server_id(1)])
        group_b = world.create_group("B", [server_id(2)])
        plan = world.create_plan("P", [{"waveName": "a", "protectionGroupId": group_a["groupId"]},
                                       {"waveName": "b", "protectionGroupId": group_b["groupId"]}])
        execution_id = world.start(plan["planId"])
        world.world.clock.advance(150)
        poller = world.function("ExecutionPollerFunction")
        payload = poll_payload(world, execution_id)
        world.host.invoke(poller, payload, invocation_type="Event")
        world.host.invoke(poller, payload, invocation_type="Event")
        item = world.execution(execution_id)
        starts = [c for i in world.invocations_of("ExecutionPollerFunction") for c in i.calls
                  if c["operation"] == "StartRecovery"]
        assert len(starts) == 1  # the second poll saw wave 1 started and did not start it again
        assert [w["status"] for w in item["waves"]] == ["COMPLETED", "STARTED"]
        assert item["waves"][1]["jobId"] and item["currentWave"] == 1 and item["status"] == "POLLING"


def test_interleaved_poll_does_not_overwrite_a_final_item():
    with decomposed_world([source_server(1, launch_seconds=60)]) as world:
        group = world.create_group("A", [server_id(1)])
        plan = world.create_plan("P", [{"waveName": "a", "protectionGroupId": group["groupId"]}])
        execution_id = world.start(plan["planId"])
        world.world.clock.advance(150)
        poller = world.function("ExecutionPollerFunction")
        payload = poll_payload(world, execution_id)
        nested = []

        def second_poll_before_first_write(event_name, **_):
            if event_name.endswith("UpdateItem") and not nested:
                nested.append(None)  # set before invoking: the nested poll's own UpdateItem must not recurse
                nested[0] = world.host.invoke(poller, payload)

        unregister = botohooks.register("before-call", second_poll_before_first_write, service="dynamodb")
        try:
            first = world.host.invoke(poller, payload)
        finally:
            unregister()
        assert first.error is None and nested[0].error is None
        assert f"Execution {execution_id} status POLLING -> COMPLETED" in [l["message"] for l in nested[0].logs]
        first_messages = [line["message"] for line in first.logs]
        assert f"Execution {execution_id} changed during poll; update skipped" in first_messages
        item = world.execution(execution_id)
        assert item["status"] == "COMPLETED" and item["waves"][0]["status"] == "COMPLETED"
        assert item["waves"][0]["serverStatuses"][0]["instanceId"]
