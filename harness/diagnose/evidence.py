"""Evidence only a live world holds: the history table, where DRS keeps what, why machines failed, who started waves."""

from __future__ import annotations

from typing import Any

from drs_parity.diagnose.diagnosis import Evidence, Home
from drs_parity.diagnose.wave_starts import is_wave_start
from drs_parity.fixtures.system import System
from drs_parity.world.drs.backend import DrsBackend
from drs_parity.world.world import World


def physical_id(world: World, logical_id: str) -> str | None:
    """The physical id of a logical resource in the world's (only) stacks."""
    cloudformation = world.client("cloudformation")
    for stack in cloudformation.describe_stacks()["Stacks"]:
        for resource in cloudformation.describe_stack_resources(StackName=stack["StackName"])["StackResources"]:
            if resource["LogicalResourceId"] == logical_id:
                return resource.get("PhysicalResourceId")
    return None


def collect_evidence(world: World, system: System) -> Evidence:
    """describe-table of the execution-history table; the DRS emulator's request log and where it keeps what; the
    IAM decisions the evaluator could not make (calls it let through, "not evaluated"); why machine executions failed;
    every wave start with the invocation that made it."""
    table_name = physical_id(world, system.tables["execution-history"])
    table = world.client("dynamodb").describe_table(TableName=table_name)["Table"] if table_name else None
    return Evidence(table=table, drs_requests=list(world.drs.requests), drs_homes=drs_homes(world.drs.backend),
                    iam_not_evaluated=list(world.iam_guard.not_evaluated) if world.iam_guard is not None else [],
                    machine_causes=machine_causes(world), wave_starts=wave_starts(world, system))


def wave_starts(world: World, system: System) -> list[dict[str, Any]]:
    """Each successful StartRecovery with its invocation: when, the function (by its first role, as captures name
    it), request id, trigger, attempt and whether it was a second delivery."""
    functions = world.host.functions
    return [{"time": invocation.started, "function": _role(system, functions[invocation.function].logical_id,
                                                             invocation.function),
             "requestId": invocation.request_id, "trigger": invocation.trigger, "attempt": invocation.attempt,
             "duplicate": invocation.duplicate, "params": call.get("params") or {}}
            for invocation in world.host.invocations for call in invocation.calls if is_wave_start(call)]


def _role(system: System, logical_id: str, name: str) -> str:
    spec = system.functions.get(logical_id)
    return spec.roles[0] if spec is not None and spec.roles else name


def machine_causes(world: World) -> dict[str, str]:
    """State machine execution name -> the Cause it failed with (a capture keeps only the Error)."""
    executions = world.stepfunctions.interpreter.executions.values()
    return {execution.name: execution.cause for execution in executions if execution.cause}


def drs_homes(backend: DrsBackend) -> dict[str, Home]:
    """Job and source server id -> (account, region) of the emulator's state that holds it."""
    with backend.lock:
        owned = [*backend.servers, *backend.jobs]
    return {resource_id: (context.account_id, context.region) for context, resource_id in owned}
