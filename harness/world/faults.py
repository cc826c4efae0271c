"""A scenario's world faults in a world: the system description's names resolved to the stack's, each installed."""

from __future__ import annotations

from typing import Sequence

from drs_parity.errors import InputError
from drs_parity.fixtures.faults import DynamoDbFault, EventsFault, LambdaFault, WorldFault
from drs_parity.fixtures.system import System
from drs_parity.world.deploy import Stack
from drs_parity.world.dynamodb_faults import DynamoDbFaults
from drs_parity.world.fault_window import Window
from drs_parity.world.world import World

FUNCTION, RULE = "AWS::Lambda::Function", "AWS::Events::Rule"
# Lambda's asynchronous invocations: an Event Invoke, an EventBridge rule
ASYNC_TRIGGERS = frozenset({"event", "schedule"})


class FaultTargetError(InputError):
    """A fault naming a function, table, index or rule the side's system does not have (file and field named)."""


class _Names:
    """The side's deployed names for what a fault names in the system description's words."""

    def __init__(self, world: World, stack: Stack, system: System) -> None:
        self.world = world
        self.stack = stack
        self.system = system

    def functions(self, fault: LambdaFault) -> frozenset[str]:
        """A function's logical id, else every function playing the role of that name."""
        if self.stack.resource_types.get(fault.function) == FUNCTION:
            return frozenset({self.stack.resources[fault.function]})
        named = self._playing(fault.function)
        if not named:
            roles = sorted({role for spec in self.system.functions.values() for role in spec.roles})
            functions = sorted(logical for logical, kind in self.stack.resource_types.items() if kind == FUNCTION)
            raise FaultTargetError(f"{fault.where}.function: {fault.function!r} is neither a function nor a role of "
                                   f"system {self.system.name} (functions: {', '.join(functions)}; roles: "
                                   f"{', '.join(roles)})")
        return named

    def _playing(self, role: str) -> frozenset[str]:
        return frozenset(self.stack.resources[logical] for logical, spec in self.system.functions.items()
                         if role in spec.roles and logical in self.stack.resources)

    def table(self, fault: DynamoDbFault) -> str:
        if fault.table not in self.system.tables:
            raise FaultTargetError(f"{fault.where}.table: {fault.table!r} is not a table of system {self.system.name} "
                                   f"(tables: {', '.join(sorted(self.system.tables))})")
        return self.stack.resources[self.system.tables[fault.table]]

    def rules(self, fault: EventsFault) -> frozenset[str] | None:
        """None (every rule), a rule's logical id, else the rules whose targets play the role of that name."""
        if fault.rule is None:
            return None
        rules = self.world.host.rules
        if self.stack.resource_types.get(fault.rule) == RULE:
            return frozenset(rule.name for rule in rules if rule.logical_id == fault.rule)
        functions = self._playing(fault.rule)
        named = frozenset(rule.name for rule in rules for target in rule.targets
                          if (found := self.world.host.find(target.arn)) is not None and found.name in functions)
        if not named:
            logical_ids = sorted(rule.logical_id for rule in rules)
            raise FaultTargetError(f"{fault.where}.rule: {fault.rule!r} is neither a schedule rule of system "
                                   f"{self.system.name} nor a role its rules target (rules: {', '.join(logical_ids)})")
        return named


def install_faults(world: World, stack: Stack, system: System, faults: Sequence[WorldFault]) -> None:
    """Script every fault into the started world, its windows counted from the clock's start."""
    names = _Names(world, stack, system)
    dynamodb = DynamoDbFaults(world.clock, world.client("dynamodb"), world.host)
    for fault in faults:
        if isinstance(fault, LambdaFault):
            _install_lambda(world, names.functions(fault), fault)
        elif isinstance(fault, DynamoDbFault):
            table = names.table(fault)
            try:
                _install_dynamodb(world, dynamodb, table, fault)
            except ValueError as exc:  # an index the table does not have
                raise FaultTargetError(f"{fault.where}.index: {exc} ({fault.table!r} of system {system.name})"
                                       ) from None
        else:
            window = Window(names.rules(fault), world.clock.start + fault.after_seconds, fault.count)
            world.host.schedules.add_fault(fault.fault, window, fault.delay)


def _install_lambda(world: World, functions: frozenset[str], fault: LambdaFault) -> None:
    start, lambda_faults = world.clock.start + fault.after_seconds, world.host.faults
    if fault.fault == "duplicate-delivery":
        lambda_faults.add_duplicates(Window(functions, start, fault.count), fault.delay)
    elif fault.fault == "throttle":
        lambda_faults.add_throttle(Window(functions, start, fault.count))
    else:
        lambda_faults.add_timeouts(functions, start, fault.invocation, fault.count, fault.after_calls,
                                   _triggers(fault.trigger))


def _triggers(trigger: str | None) -> frozenset[str] | None:
    if trigger is None:
        return None
    return ASYNC_TRIGGERS if trigger == "async" else frozenset({trigger})


def _install_dynamodb(world: World, dynamodb: DynamoDbFaults, table: str, fault: DynamoDbFault) -> None:
    if fault.fault == "gsi-lag":
        dynamodb.add_lag(table, str(fault.index), fault.lag)
    elif fault.fault == "backfilling":
        dynamodb.add_backfilling(table, str(fault.index), world.clock.start + fault.duration)
    elif fault.fault == "throughput-exceeded":
        dynamodb.add_throughput_exceeded(table, str(fault.operation), world.clock.start + fault.after_seconds,
                                         fault.count)
    else:
        dynamodb.add_small_pages(table, fault.index, fault.page_size)
