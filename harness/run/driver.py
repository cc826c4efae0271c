"""Drives one scenario on one side's world step by step, capturing after each step (expectations: run.expectations)."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode

from boto3.dynamodb.types import TypeSerializer

from drs_parity.errors import DrsParityError
from drs_parity.fixtures.regressions import VariantSystem
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import (
    AdvanceStep, ApiStep, ExecutionActionStep, Scenario, StartStep, Step, UntilStep,
)
from drs_parity.fixtures.system import System, load_system
from drs_parity.run.capture import (ApiRecord, InvocationCapture, StepCapture, Stop, Timeline, destination_record,
                                   moto_first_item, plain_item, scan_tables)
from drs_parity.run.console import ConsoleReads
from drs_parity.run.expectations import check_expectations  # where callers of the driver have always found it
from drs_parity.run.table_scans import TableScans
from drs_parity.world.clock import VirtualClock
from drs_parity.world.deploy import Stack
from drs_parity.world.faults import install_faults
from drs_parity.world.api_routes import ApiDeclarationError
from drs_parity.world.gateway import ApiGateway, api_gateway
from drs_parity.world.world import World

UNTIL_INCREMENT = 60  # seconds the clock moves between two checks of an until condition
PLACEHOLDER = re.compile(r"\{(execution|plan:[^{}]+|group:[^{}]+)\}")


class RunError(DrsParityError, RuntimeError):
    """The harness or its configuration could not go on: a template that does not deploy, an API that cannot be
    routed, a scenario the DRS emulator refuses, an unknown placeholder, a world failure. `timeline` holds what was
    captured. What the system under test answers is never a RunError: a refusal stops the side (SystemRefused)."""

    def __init__(self, message: str, timeline: Timeline | None = None) -> None:
        super().__init__(message)
        self.timeline = timeline


class SystemRefused(Exception):
    """The system under test refused a request the scenario needs (it answered non-2xx, or 2xx without the id it
    had to return): behaviour, not an error. The side stops there; `stop` says where and why."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.reason)
        self.stop = stop


@dataclass(frozen=True)
class Refusal:
    """A refused start, kept until a later step needs the execution it should have created."""

    step: int  # the step whose captured api list holds the response
    where: str  # the step as the scenario names it (steps[i])
    answer: str  # `POST /executions answered 409 {...}`


def run_side(system: System | str, scenario: Scenario | str, backend: str = "moto", clock_start: float | None = None,
             world: World | None = None, reuse_reads: bool = True) -> Timeline:
    """Run `scenario` on `system` in a fresh World (or in `world`, already started, owned by the caller).
    `reuse_reads=False` makes every console read and table scan again (the reuse gives the same timeline: its tests)."""
    system = system if isinstance(system, System) else load_system(system)
    scenario = scenario if isinstance(scenario, Scenario) else load_scenarios([scenario])[0]
    lifetime: AbstractContextManager[World] = (
        prepared_world(scenario, backend, clock_start) if world is None else nullcontext(world))
    with lifetime as started:
        return SideRun(started, system, scenario, reuse_reads).run()


@contextmanager
def prepared_world(scenario: Scenario, backend: str = "moto", clock_start: float | None = None,
                   variant: VariantSystem | None = None) -> Iterator[World]:
    """A started World for one side (IAM enforced, as in every world), with the variant's DRS faults loaded."""
    clock = VirtualClock(clock_start) if clock_start is not None else None
    with World(backend=backend, clock=clock, region=scenario.region) as world:
        if variant is not None and variant.regression.drs_faults:  # scripted DRS faults, before the run starts
            world.drs.load(None, None, [dict(fault) for fault in variant.regression.drs_faults])
        yield world


class SideRun:
    """The state of one side's run: deployed stack, generated ids, the current execution, the captured steps."""

    def __init__(self, world: World, system: System, scenario: Scenario, reuse_reads: bool = True) -> None:
        self.world = world
        self.system = system
        self.scenario = scenario
        self.timeline = Timeline(side=system.name, scenario=scenario.name, backend=world.backend_name,
                                 clock_start=world.clock.now_int())
        self.stack: Stack | None = None  # set by deploy(), the first thing setup() does
        self.gateway: ApiGateway | None = None  # the stack's API, also set by deploy()
        self._roles: dict[str, str] = {}
        self._deliveries_seen = 0  # the host's destination deliveries already captured
        self._step: tuple[int, str] = (0, "setup")  # the step running now (index, label)
        self._refused_start: Refusal | None = None  # the last start the system refused
        self.console = ConsoleReads(world, system, reuse_reads, self._has_faults)
        self.tables = TableScans(world, self._scan_tables, reuse_reads)

    # -- the run ----------------------------------------------------------------------------------------------------
    def run(self) -> Timeline:
        """Every step captured; a side the system stopped keeps its steps so far and says why in `stopped`."""
        try:
            self.setup()
            for index, step in enumerate(self.scenario.steps, start=1):
                self._step = (index, step.label())
                self.run_step(index, step)
        except SystemRefused as refused:
            self.timeline.stopped = refused.stop
        except RunError as error:
            error.timeline = self.timeline
            raise
        return self.timeline

    def setup(self) -> None:
        mark = self._invocation_mark()
        self.deploy()
        self.seed_drs()
        assert self.stack is not None
        install_faults(self.world, self.stack, self.system, self.scenario.world_faults())  # Lambda, DynamoDB, events
        self.seed_target_accounts()
        self.world.host.start_schedules()
        records: list[ApiRecord] = []
        refused: SystemRefused | None = None
        try:
            self.create_protection_groups(records)
            self.create_recovery_plans(records)
        except SystemRefused as error:
            refused = error
        self.capture(0, "setup", "setup", records, mark)  # before stopping: the refusing response is the result
        if refused is not None:
            raise refused

    def deploy(self) -> None:
        stack_name = f"drs-parity-{self.system.name}-{self.scenario.name}"
        if self.world.backend_name == "localstack":  # a shared LocalStack keeps old stacks: names must not collide
            stack_name += f"-{uuid.uuid4().hex[:8]}"
        try:
            self.stack = self.world.deploy(str(self.system.template), stack_name, parameters=self.system.parameters)
        except Exception as error:  # DeployError names the failed resource; keep it one line
            raise RunError(f"setup: deploying {self.system.template.name} failed: {error}") from error
        self.world.host.load(self.stack, self.system.code_for)
        self._apply_environment()
        self.gateway = self._api_gateway(self.stack)
        self._roles = {self.physical_id(logical_id): spec.role for logical_id, spec in self.system.functions.items()}

    def _api_gateway(self, stack: Stack) -> ApiGateway:
        """The API the template declares, else the one the system description's routes describe."""
        try:
            gateway = api_gateway(self.world.host, stack, self.system.route_table() if self.system.routes else None)
        except ApiDeclarationError as error:  # e.g. a method's integration names no deployed function
            raise RunError(f"setup: the API of {self.system.template.name}: {error}") from error
        if not gateway.routes:
            raise RunError(f"setup: {self.system.template.name} declares no API (AWS::ApiGateway::Method, "
                           f"AWS::Serverless::Api) and {self.system.path.name} has no routes")
        return gateway

    def _apply_environment(self) -> None:
        for function in self.world.host.functions.values():
            if function.logical_id in self.system.functions:
                function.environment.update(self.system.environment)

    def seed_drs(self) -> None:
        try:
            self.world.drs.load(self.scenario.drs_config(), self.scenario.drs_source_servers(),
                                self.scenario.drs_faults())
        except ValueError as error:
            raise RunError(f"setup: the DRS emulator refused {self.scenario.path}: {error}") from error

    def seed_target_accounts(self) -> None:
        serializer = TypeSerializer()
        table = self.table_name("target-accounts")
        dynamodb = self.world.client("dynamodb")
        for account in self.scenario.target_accounts:
            item = {"accountId": account.account_id, "assumeRoleName": account.assume_role_name,
                    "externalId": account.external_id}
            dynamodb.put_item(TableName=table, Item={k: serializer.serialize(v) for k, v in item.items()})

    def create_protection_groups(self, records: list[ApiRecord]) -> None:
        """POST each group, appending its response to `records` (kept when the system refuses one)."""
        for index, group in enumerate(self.scenario.protection_groups):
            records.append(self.api("POST", "/protection-groups", group.request_body()))
            item = f"protectionGroups[{index}] (key {group.key!r})"
            self.timeline.ids[f"group:{group.key}"] = self._created_id(records, "groupId", item)

    def create_recovery_plans(self, records: list[ApiRecord]) -> None:
        """POST each plan (groups by their generated ids), appending its response to `records`."""
        group_ids = {key.partition(":")[2]: value for key, value in self.timeline.ids.items()
                     if key.startswith("group:")}
        for index, plan in enumerate(self.scenario.recovery_plans):
            records.append(self.api("POST", "/recovery-plans", plan.request_body(group_ids)))
            item = f"recoveryPlans[{index}] (key {plan.key!r})"
            self.timeline.ids[f"plan:{plan.key}"] = self._created_id(records, "planId", item)

    @staticmethod
    def _created_id(records: list[ApiRecord], id_field: str, item: str) -> str:
        """The id the last setup response returned; a refusal (non-2xx, or no id) stops the side at setup."""
        record = records[-1]
        created = _returned_id(record, id_field)
        if created is None:
            raise SystemRefused(Stop(0, "setup", f"setup: creating {item} failed: {_answer(record, id_field)}",
                                     response_step=0, response_index=len(records) - 1))
        return created

    # -- steps ------------------------------------------------------------------------------------------------------
    def run_step(self, index: int, step: Step) -> None:
        mark = self._invocation_mark()
        records: list[ApiRecord] = []
        until: dict[str, Any] | None = None
        where = f"steps[{index - 1}]"
        if isinstance(step, StartStep):
            records.append(self.start_execution(step, index, where))
        elif isinstance(step, AdvanceStep):
            self.advance(step.seconds)
        elif isinstance(step, UntilStep):
            until = self.wait_until(step, where)
        elif isinstance(step, ExecutionActionStep):
            records.append(self.api("POST", self.resolve(step.path, where), step.body))
        elif isinstance(step, ApiStep):
            body = self.resolve(step.body, where) if step.body is not None else None
            query = self.resolve(step.query, where) if step.query else None
            records.append(self.api(step.method, self.resolve(step.path, where), body, query))
        self.capture(index, step.label(), step.kind, records, mark, until)

    def start_execution(self, step: StartStep, index: int, where: str) -> ApiRecord:
        """POST the start; a refusal is captured like any answer and stops the side only when a step needs it."""
        body = {"planId": self.timeline.ids[f"plan:{step.plan}"], "executionType": step.execution_type,
                "initiatedBy": step.initiated_by}
        record = self.api("POST", "/executions", body)
        execution_id = _returned_id(record, "executionId")
        if execution_id is None:
            self._refused_start = Refusal(index, where, _answer(record, "executionId"))
            return record
        number = sum(1 for key in self.timeline.ids if key.startswith("execution:")) + 1
        self.timeline.ids[f"execution:{number}"] = execution_id
        self.timeline.current_execution = execution_id
        return record

    def advance(self, seconds: int) -> None:
        self.world.clock.advance(seconds)
        self.world.host.drain()

    def wait_until(self, step: UntilStep, where: str) -> dict[str, Any]:
        """Advance a minute at a time until the current execution has one of the statuses; never raises if not."""
        execution_id = self._current_execution(where)
        waited = 0
        status = self.execution_status(execution_id)
        while status not in step.statuses and waited < step.within:
            increment = min(UNTIL_INCREMENT, step.within - waited)
            self.advance(increment)
            waited += increment
            status = self.execution_status(execution_id)
        met = status in step.statuses
        return {"outcome": "met" if met else "unmet", "at": self.world.clock.now_int() if met else None,
                "waited": waited, "status": status}

    # -- reading and calling ----------------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None,
            console: bool = False) -> ApiRecord:
        """One request through the stack's API (routed as API Gateway does; unrouted: its 403, no invocation)."""
        assert self.gateway is not None, "the API exists only once the stack is deployed"
        shown = f"{path}?{urlencode(query)}" if query else path
        response = self.gateway.request(method, path, body=body, query=query)
        self.world.host.drain()
        return ApiRecord(method, shown, response.status, response.body, console)  # the JSON body, parsed

    def console_reads(self) -> list[ApiRecord]:
        """What an operator's console polls: the current execution, the list, and its job logs (the last step's
        reads again while the world is quiescent: run.console)."""
        execution_id = self.timeline.current_execution
        if execution_id is None:
            return []
        paths = (f"/executions/{execution_id}", "/executions", f"/executions/{execution_id}/job-logs")
        last = self.timeline.steps[-1] if self.timeline.steps else None
        return self.console.read(execution_id, lambda: [self.api("GET", path, console=True) for path in paths],
                                 last.tables if last else None, last.state_machines if last else None)

    def execution_status(self, execution_id: str) -> str | None:
        """The status on the execution's first item in key order (the execution item: its server items sort after
        it), read alone: an until step asks every virtual minute, and a big plan has a server item per server."""
        table, in_process = self.table_name("execution-history"), self._in_process_moto()
        if in_process:
            item = moto_first_item(*in_process, table, ("executionId", execution_id))
            return item.get("status") if item else None
        response = self.world.client("dynamodb").query(
            TableName=table, KeyConditionExpression="executionId = :id",
            ExpressionAttributeValues={":id": {"S": execution_id}}, ConsistentRead=True, Limit=1)
        items = [plain_item(item) for item in response.get("Items", ())]
        return items[0].get("status") if items else None

    def resolve(self, value: Any, where: str) -> Any:
        """Replace {execution}, {plan:KEY}, {group:KEY} in strings (recursively) with the generated ids."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda match: self._placeholder(match.group(1), where), value)
        if isinstance(value, dict):
            return {key: self.resolve(item, where) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, where) for item in value]
        return value

    def _placeholder(self, name: str, where: str) -> str:
        if name == "execution":
            return self._current_execution(where)
        if name not in self.timeline.ids:
            raise RunError(f"{where}: unknown placeholder {{{name}}} (known: execution, "
                           f"{', '.join(sorted(self.timeline.ids))})")
        return self.timeline.ids[name]

    def _current_execution(self, where: str) -> str:
        """The execution the last accepted start created; none because the system refused the start stops the side."""
        if self.timeline.current_execution is not None:
            return self.timeline.current_execution
        refusal = self._refused_start
        if refusal is None:  # the scenario's validation puts a start first: reaching here is the harness's fault
            raise RunError(f"{where}: there is no current execution and no start step before it")
        index, name = self._step
        raise SystemRefused(Stop(index, name, f"{where}: there is no current execution: the start ({refusal.where}) "
                                              f"was refused: {refusal.answer}",
                                 response_step=refusal.step, response_index=0))

    def _has_faults(self) -> bool:
        """Whether the world plays scripted faults: the scenario's, or a catalogue variant's DRS faults."""
        return bool(self.scenario.faults or self.world.drs.backend.faults)

    def physical_id(self, logical_id: str) -> str:
        assert self.stack is not None, "physical ids exist only once the stack is deployed"
        return self.stack.resources[logical_id]

    def table_name(self, logical_name: str) -> str:
        return self.physical_id(self.system.tables[logical_name])

    # -- capture ----------------------------------------------------------------------------------------------------
    def _invocation_mark(self) -> int:
        return len(self.world.host.invocations)

    def capture(self, index: int, name: str, kind: str, records: list[ApiRecord], mark: int,
                until: dict[str, Any] | None = None) -> None:
        """Record the step: its responses, then console reads, table scans, and the invocations it caused."""
        console_mark = self._invocation_mark()
        records = records + self.console_reads()
        invocations = InvocationCapture()
        all_invocations = self.world.host.invocations
        invocations.add(all_invocations[mark:console_mark], self.role_of, console=False)
        invocations.add(all_invocations[console_mark:], self.role_of, console=True)
        deliveries = self.world.host.deliveries
        destinations, self._deliveries_seen = deliveries[self._deliveries_seen:], len(deliveries)
        self.timeline.steps.append(StepCapture(
            index=index, name=name, kind=kind, time=self.world.clock.now_int(),
            api=[record.to_dict() for record in records],
            tables=self.tables.scan(),
            calls=invocations.calls, logs=invocations.logs, invocations=invocations.invocations, until=until,
            state_machines=self.world.stepfunctions.capture(),
            destinations=[destination_record(delivery, self.role_of) for delivery in destinations],
        ))

    def _scan_tables(self) -> dict[str, list[dict[str, Any]]]:
        tables = {name: self.table_name(name) for name in self.system.tables}
        return scan_tables(self.world.client("dynamodb"), tables, self._in_process_moto())

    def _in_process_moto(self) -> tuple[str, str] | None:
        """(account, region) of the tables when the world is in-process moto (read them without the API)."""
        return (self.world.account_id, self.world.region) if self.world.backend.in_process else None

    def role_of(self, function_name: str) -> str:
        return self._roles.get(function_name, function_name)


def _returned_id(record: ApiRecord, id_field: str) -> str | None:
    """The id a 2xx answer returned in `id_field`; None for a refusal (non-2xx, or no such id in the body)."""
    created = record.body.get(id_field) if isinstance(record.body, dict) else None
    return created if 200 <= record.status < 300 and isinstance(created, str) and created else None


def _answer(record: ApiRecord, id_field: str) -> str:
    """A refusing answer on one line: `POST /executions answered 409 {...}` (or `... 201 without a groupId: {...}`)."""
    body = json.dumps(record.body, default=str)
    without = f" without a{'n' if id_field[0] in 'aeiou' else ''} {id_field}:" if 200 <= record.status < 300 else ""
    return f"{record.method} {record.path} answered {record.status}{without} {body}"
