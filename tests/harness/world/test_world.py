"""World: stack deploys on moto and moto-server, deploy errors, isolation between worlds, clients, DRS transports."""

import gc
import os
from pathlib import Path
from typing import Callable, Iterator

import boto3
import pytest

from drs_parity.world.backends import BACKENDS, BackendUnavailable, MotoServer, backend_available
from drs_parity.world.deploy import DeployError
from drs_parity.world.functions import DeployedFunction
from drs_parity.world.world import YOUNG_GC_THRESHOLD, World

SMALL = Path(__file__).resolve().parents[2] / "templates" / "small.yaml"
WorldFactory = Callable[..., World]


@pytest.fixture(params=["moto", "moto-server"])
def make_world(request: pytest.FixtureRequest) -> WorldFactory:
    """Builds (not starts) worlds of the parametrized backend; moto-server ones use the session's server."""
    if request.param == "moto":
        return lambda **kwargs: World("moto", **kwargs)
    server: MotoServer = request.getfixturevalue("moto_server")
    return lambda **kwargs: World("moto-server", moto_server_port=server.port, **kwargs)


@pytest.fixture
def world(make_world: WorldFactory) -> Iterator[World]:
    with make_world() as started:
        yield started


def test_small_stack_deploys_table_with_gsi_function_and_schedule(world: World) -> None:
    stack = world.deploy(SMALL, "small-a")

    table = world.client("dynamodb").describe_table(TableName=stack.outputs["TableName"])["Table"]
    assert [(index["IndexName"], index["IndexStatus"]) for index in table["GlobalSecondaryIndexes"]] == [
        ("StatusIndex", "ACTIVE")]
    world.host.load(stack)
    function = world.host.functions["small-echo-small-a"]
    assert function.handler == "tests.lambdas.echo.handler" and function.logical_id == "EchoFunction"
    assert function.environment == {"TABLE_NAME": "small-items-test-small-a", "GREETING": "hello"}
    assert function.role_arn.endswith(stack.resources["EchoRole"]) and function.memory_size == 256
    [rule] = world.host.rules
    assert (rule.expression, rule.state, rule.logical_id) == ("rate(1 minute)", "ENABLED", "EveryMinuteRule")
    assert [(target.arn, target.input) for target in rule.targets] == [
        (function.arn, '{"source": "schedule", "kind": "tick"}')]


def test_deployed_schedule_fires_the_deployed_function_with_its_env(world: World) -> None:
    world.host.load(world.deploy(SMALL, "small-b"))
    world.host.start_schedules()

    world.clock.advance(120)

    assert [(i.trigger, i.event) for i in world.host.invocations] == [
        ("schedule", {"source": "schedule", "kind": "tick"})] * 2
    assert world.host.invocations[0].result["table"] == "small-items-test-small-b"


def test_functions_reach_the_backend_through_base_env(world: World) -> None:
    stack = world.deploy(SMALL, "small-c")
    world.host.add_function(DeployedFunction("aws-user", f"arn:aws:lambda:{world.region}:{world.account_id}"
                                             ":function:aws-user", "tests.lambdas.aws_user.handler"))

    result = world.host.invoke("aws-user").result

    assert stack.outputs["TableName"] in result["tables"] and result["account"] == world.account_id


def test_parameters_reach_the_template(world: World) -> None:
    stack = world.deploy(SMALL, "small-d", parameters={"Environment": "prod"})

    assert stack.outputs["TableName"] == "small-items-prod-small-d" and stack.template_path == str(SMALL)


BAD_GSI = """
Resources:
  BadTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: ByStatus
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
"""
MISSING_ROLE = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  OrphanFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: tests.lambdas.echo.handler
      Role: arn:aws:iam::123456789012:role/not-there
      Code: {ZipFile: "def handler(event, context): return event"}
"""
BAD_SCHEDULE = """
Resources:
  Tick:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: "rate(5 minute)"}
"""
UNSUPPORTED = """
Resources:
  Mystery:
    Type: AWS::NoSuch::Thing
"""


@pytest.mark.parametrize("body, resource, reason", [
    (BAD_GSI, "BadTable", "index ByStatus uses key attribute 'status'"),
    (MISSING_ROLE, "OrphanFunction", "cannot be assumed by Lambda"),
    (BAD_SCHEDULE, "Tick", "ScheduleExpression is not valid"),
    (UNSUPPORTED, "Mystery", "AWS::NoSuch::Thing is not supported"),
])
def test_template_errors_raise_deploy_error_naming_the_resource(world: World, tmp_path: Path, body: str,
                                                                 resource: str, reason: str) -> None:
    template = tmp_path / "bad.yaml"
    template.write_text(body)

    with pytest.raises(DeployError) as raised:
        world.deploy(template, "bad")

    assert raised.value.resource == resource and reason in raised.value.reason
    assert resource in str(raised.value)


def test_two_worlds_one_after_another_share_no_state(make_world: WorldFactory) -> None:
    with make_world() as first:
        first.host.load(first.deploy(SMALL, "small-e"))
        assert first.host.invoke("small-echo-small-e").result["warmCalls"] == 1
        assert first.host.invoke("small-echo-small-e").result["warmCalls"] == 2

    with make_world() as second:
        assert second.client("dynamodb").list_tables()["TableNames"] == []
        assert second.client("cloudformation").list_stacks()["StackSummaries"] == []
        second.host.load(second.deploy(SMALL, "small-e"))
        assert second.host.invoke("small-echo-small-e").result["warmCalls"] == 1  # a cold start


def test_world_environment_is_set_while_active_and_restored_after(make_world: WorldFactory) -> None:
    before = dict(os.environ)
    with make_world(drs_transport="http") as world:
        assert os.environ["AWS_ACCESS_KEY_ID"] == world.base_env()["AWS_ACCESS_KEY_ID"]
        assert os.environ["AWS_ENDPOINT_URL_DRS"].startswith("http://127.0.0.1:")
        assert world.base_env()["AWS_REGION"] == "us-east-1"
    assert dict(os.environ) == before


def test_the_young_generation_is_collected_seldom_while_a_world_lives_and_as_before_once_it_stops(
        make_world: WorldFactory) -> None:
    before = gc.get_threshold()
    with make_world() as world:
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
        world.client("dynamodb").list_tables()
        assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_a_world_that_fails_to_start_leaves_the_collector_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    world = World("moto")

    def refuse() -> None:
        raise BackendUnavailable("no backend today")

    monkeypatch.setattr(world.backend, "start", refuse)
    with pytest.raises(BackendUnavailable):
        world.start()
    assert gc.get_threshold() == before


@pytest.mark.parametrize("transport", ["inprocess", "http"])
def test_plain_boto3_drs_client_reaches_the_emulator(make_world: WorldFactory, transport: str) -> None:
    with make_world(drs_transport=transport) as world:
        assert boto3.client("drs").describe_jobs()["items"] == []
        assert world.client("drs").describe_source_servers()["items"] == []


def test_clients_for_other_accounts_and_the_account_resolver(world: World) -> None:
    other = world.client("sts", account_id="111122223333")

    assert other.get_caller_identity()["Account"] == "111122223333"
    other_key = other._request_signer._credentials.access_key
    assert world.account_resolver(other_key) == "111122223333"
    assert world.account_resolver(world.base_env()["AWS_ACCESS_KEY_ID"]) == world.account_id


def test_world_in_a_non_default_account(make_world: WorldFactory) -> None:
    with make_world(account_id="222233334444") as world:
        assert boto3.client("sts").get_caller_identity()["Account"] == "222233334444"
        assert world.client("sts").get_caller_identity()["Account"] == "222233334444"


def test_localstack_client_session_works_against_moto_server(moto_server: MotoServer) -> None:
    from localstack_client.session import Session

    with World("moto-server", moto_server_port=moto_server.port) as world:
        world.client("dynamodb").create_table(
            TableName="via-harness", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        client = Session().client("dynamodb")
        assert client.meta.endpoint_url == moto_server.url
        assert client.list_tables()["TableNames"] == ["via-harness"]


def test_localstack_backend_when_reachable() -> None:
    available, reason = backend_available("localstack")
    if not available:
        pytest.skip(reason)
    with World("localstack") as world:
        assert world.client("sts").get_caller_identity()["Account"] == world.account_id


def test_localstack_unavailability_names_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:9")  # the discard port: nothing answers
    available, reason = backend_available("localstack")

    assert not available and reason.startswith("LocalStack not reachable at 127.0.0.1:9: ")


def test_unknown_backend_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid backends are moto, moto-server, localstack"):
        World("dynamo-local")
    assert set(BACKENDS) == {"moto", "moto-server", "localstack"}


def test_moto_server_on_a_busy_port_says_so(moto_server: MotoServer) -> None:
    with pytest.raises(BackendUnavailable, match=f"cannot listen on 127.0.0.1:{moto_server.port}"):
        MotoServer(moto_server.port).start()


def test_every_world_enforces_the_deployed_roles(world: World) -> None:
    stack = world.deploy(SMALL, "small-iam")
    world.host.load(stack)
    deployed = next(iter(world.host.functions.values()))
    deployed.handler = "tests.lambdas.aws_user.handler"  # its calls are not in the small template's role

    invocation = world.host.invoke(deployed.name)

    assert invocation.error is not None and invocation.error["type"] == "ClientError"
    assert "not authorized to perform: dynamodb:DescribeTable" in invocation.error["message"]
    assert [denial["action"] for denial in world.iam_guard.denials] == ["dynamodb:ListTables",
                                                                         "dynamodb:DescribeTable"]
