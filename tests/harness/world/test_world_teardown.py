"""A stopped world is freed by reference counting, not left to the cycle collector: its functions' modules, its
timers and moto's EC2 instances go when it stops, and the next world starts from nothing."""

import gc
import textwrap
import weakref
from pathlib import Path
from typing import Any, Iterator

import pytest

from drs_parity.world.code import CodePackage
from drs_parity.world.deploy import stack_resource_pages
from drs_parity.world.functions import DeployedFunction
from drs_parity.world.world import World
from tests.harness.world.test_world import WorldFactory, make_world  # noqa: F401  (the fixture: both moto backends)

WITNESSED: list[weakref.ref[Any]] = []  # a function module of the test appends a weak reference to itself on import
ACCOUNT, REGION = "123456789012", "us-east-1"
WITNESS = textwrap.dedent("""
    import sys
    import weakref

    from tests.harness.world.test_world_teardown import WITNESSED

    WITNESSED.append(weakref.ref(sys.modules[__name__]))
    calls = []


    def handler(event, context):
        calls.append(event)  # module state, as real code keeps it
        return {"calls": len(calls)}
""")


@pytest.fixture
def no_collector() -> Iterator[None]:
    """The cycle collector off for the test: what only it would free stays alive; reference counting still frees."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    WITNESSED.clear()
    try:
        yield
    finally:
        WITNESSED.clear()
        if enabled:
            gc.enable()


@pytest.fixture
def witness_code(tmp_path: Path) -> Path:
    (tmp_path / "witnessed.py").write_text(WITNESS)
    return tmp_path


def witness_function(host_code: Path) -> DeployedFunction:
    return DeployedFunction(name="witness", arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:witness",
                            handler="witnessed.handler", code=host_code)


def test_a_released_package_frees_its_modules_at_once(no_collector: None, witness_code: Path) -> None:
    package = CodePackage(witness_code)
    package.module("witnessed")
    [module] = WITNESSED
    assert module() is not None  # kept for the next activation: a warm start

    package.release()

    assert module() is None and package.modules == {}


def test_a_package_still_running_is_left_whole(witness_code: Path) -> None:
    package = CodePackage(witness_code)
    with package.active():
        module = package.module("witnessed")
        package.release()  # a world stopped from inside one of its functions
        assert module.handler({}, None) == {"calls": 1}
    assert package.modules == {"witnessed": module}


def test_a_stopped_worlds_function_modules_are_freed_without_the_collector(
        no_collector: None, witness_code: Path, make_world: WorldFactory) -> None:
    with make_world(enforce_iam=False) as world:
        world.host.add_function(witness_function(witness_code))
        assert world.host.invoke("witness", {}).result == {"calls": 1}
        assert world.host.invoke("witness", {}).result == {"calls": 2}  # warm: the same module
        [module] = WITNESSED
        assert module() is not None

    assert module() is None


def test_the_next_world_runs_the_same_code_from_a_cold_start(witness_code: Path, make_world: WorldFactory) -> None:
    for _ in range(2):
        with make_world(enforce_iam=False) as world:
            world.host.add_function(witness_function(witness_code))
            assert world.host.invoke("witness", {}).result == {"calls": 1}


def test_a_stopped_worlds_timers_never_fire_and_are_let_go(no_collector: None, make_world: WorldFactory) -> None:
    fired: list[float] = []

    class Alarm:
        def __call__(self) -> None:
            fired.append(clock.now())

    with make_world(enforce_iam=False) as world:
        clock = world.clock
        alarm = Alarm()
        clock.call_at(clock.now() + 60, alarm, name="after the world")
        clock.call_every(30, alarm, name="every half minute")
        witness = weakref.ref(alarm)
        del alarm

    assert witness() is None
    clock.advance(3600)
    assert fired == []


def test_a_stopped_worlds_ec2_instances_are_freed_without_the_collector(
        no_collector: None, make_world: WorldFactory) -> None:
    from moto.ec2.models import ec2_backends  # the world's moto runs in this process (in-process or its server)

    with make_world(enforce_iam=False) as world:
        answer = world.client("ec2").run_instances(ImageId="ami-12345678", MinCount=2, MaxCount=2,
                                                   BlockDeviceMappings=[{"DeviceName": "/dev/sdb",
                                                                         "Ebs": {"VolumeSize": 8}}])
        backend = ec2_backends[ACCOUNT][REGION]
        instances = [weakref.ref(backend.get_instance(item["InstanceId"])) for item in answer["Instances"]]
        volumes = [weakref.ref(volume) for volume in backend.volumes.values()]
        del backend
        assert volumes and all(reference() is not None for reference in instances + volumes)

    assert [reference() for reference in instances + volumes] == [None] * len(instances + volumes)


def test_stack_resources_are_read_page_by_page() -> None:
    class PagedCloudFormation:
        def __init__(self) -> None:
            self.asked: list[dict[str, str]] = []

        def list_stack_resources(self, **params: str) -> dict[str, Any]:
            self.asked.append(params)
            if "NextToken" not in params:
                return {"StackResourceSummaries": [{"LogicalResourceId": "A"}], "NextToken": "page-2"}
            return {"StackResourceSummaries": [{"LogicalResourceId": "B"}]}

    cloudformation = PagedCloudFormation()
    pages = list(stack_resource_pages(cloudformation, "stack"))

    assert [page["StackResourceSummaries"][0]["LogicalResourceId"] for page in pages] == ["A", "B"]
    assert cloudformation.asked == [{"StackName": "stack"}, {"StackName": "stack", "NextToken": "page-2"}]
