"""The Step Functions API as code under test calls it, answered in-process; Lambda tasks run by the function host."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ServiceModel

from drs_parity.errors import DrsParityError
from drs_parity.world.clock import VirtualClock
from drs_parity.world.deploy import Stack
from drs_parity.world.drs.validation import validate
from drs_parity.world.host import FunctionHost
from drs_parity.world.iam import IamGuard
from drs_parity.world.invoke import Answer, error_answer, invoke_result, lambda_answer
from drs_parity.world.stepfunctions.execution import RUNNING, SUCCEEDED, Execution, LambdaOutcome, utc
from drs_parity.world.stepfunctions.interpreter import ApiError, Interpreter, execution_arn
from drs_parity.world.stepfunctions.machines import StateMachine, read_state_machines

SERVICE = "sfn"  # botocore's service id (hyphenised): what the host's hooks see for a stepfunctions client
# AWS's execution names: 1-80 characters, none of whitespace, brackets, wildcards, "#%\^|~`$&,;:/ or controls.
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
DEFAULT_PAGE = 100  # GetExecutionHistory / ListExecutions page size when maxResults is absent or 0
Handler = Callable[["StepFunctions", dict[str, Any]], dict[str, Any]]


class StepFunctionsError(DrsParityError, RuntimeError):
    """A harness bug: an answer the emulator built does not fit botocore's Step Functions model."""


@lru_cache(maxsize=1)
def sfn_service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("stepfunctions")


@dataclass
class _Principal:
    """A state machine's role as the IAM guard sees a caller (the role's session is named after the machine)."""

    name: str
    role_arn: str
    environment: dict[str, str] = field(default_factory=dict)


def _check_arn(arn: Any, kind: str) -> str:
    """`arn` if it is a Step Functions ARN of `kind` (stateMachine, execution), else InvalidArn as AWS words it."""
    parts = str(arn).split(":")
    if len(parts) < 7 or parts[:3] != ["arn", "aws", "states"]:
        raise ApiError("InvalidArn", f"Invalid Arn: '{arn}'")
    if parts[5] != kind:
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {parts[5]}'")
    return str(arn)


def _page(items: list[Any], params: Mapping[str, Any], owner: str, key: str) -> dict[str, Any]:
    """One page of `items` under `key`: maxResults (0 or absent: 100) from the offset nextToken holds."""
    size = int(params.get("maxResults") or DEFAULT_PAGE)
    start = _offset(params.get("nextToken"), owner) if params.get("nextToken") else 0
    page: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        page["nextToken"] = base64.urlsafe_b64encode(json.dumps([owner, start + size]).encode()).decode()
    return page


def _offset(token: str, owner: str) -> int:
    try:
        owned, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ApiError("InvalidToken", f"Invalid Token: '{token}'") from None
    if owned != owner or not isinstance(offset, int):
        raise ApiError("InvalidToken", f"Invalid Token: '{token}' was not issued for this request")
    return offset


def _well_formed_token(token: str) -> bool:
    """Whether a token has the interpreter's form (base64url of `<execution arn>#<n>`), though it names no task."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error):
        return False
    arn, _, number = text.rpartition("#")
    return arn.startswith("arn:aws:states:") and number.isdigit()


def execution_record(execution: Execution) -> dict[str, Any]:
    """What a capture keeps of an execution at each step."""
    return {"name": execution.name, "status": execution.status, "statesPassed": list(execution.states_passed),
            "error": execution.error}


class StepFunctions:
    """The world's Step Functions: state machines read from deployed stacks, executions run by the interpreter."""

    def __init__(self, clock: VirtualClock, host: FunctionHost, guard: IamGuard | None, region: str,
                 account_id: str) -> None:
        self.clock = clock
        self.host = host
        self.guard = guard  # judges lambda:InvokeFunction for each machine's role (None: IAM not enforced)
        self.region = region
        self.account_id = account_id
        self.interpreter = Interpreter(clock, self)
        self.machines: dict[str, StateMachine] = {}  # ARN -> machine
        self._ids = itertools.count(1)
        self._pending = False  # an execution has work due now (started, or resumed by a task token)
        self._busy = 0  # > 0 while the interpreter runs (a task's function, or settle itself)

    def install(self) -> "StepFunctions":
        """Answer every stepfunctions client's calls, and run due executions whenever the host has drained."""
        self.host.answer_service(SERVICE, self.answer)
        self.host.add_idle_hook(self.settle)
        return self

    # -- what the world tells it ------------------------------------------------------------------------------------
    def add_stack(self, stack: Stack, parameters: Mapping[str, Any]) -> list[StateMachine]:
        machines = read_state_machines(stack, parameters, self.region, self.account_id, utc(self.clock.now()))
        self.machines.update((machine.arn, machine) for machine in machines)
        return machines

    def settle(self) -> bool:
        """Run the executions' work due at the current instant; True if there was any to run."""
        if not self._pending or self._busy:
            return False  # inside the interpreter, the clock callback under way runs it next
        self._pending = False
        self._busy += 1
        try:
            self.clock.advance(0)
        finally:
            self._busy -= 1
        return True

    def capture(self) -> dict[str, list[dict[str, Any]]] | None:
        """State machine logical id -> its executions, oldest first; None when the world has no state machine."""
        if not self.machines:
            return None
        captured: dict[str, list[dict[str, Any]]] = {m.logical_id: [] for m in self.machines.values()}
        for execution in self.interpreter.executions.values():
            machine = self.machines.get(execution.state_machine_arn)
            if machine is not None:
                captured[machine.logical_id].append(execution_record(execution))
        return captured

    # -- the API ------------------------------------------------------------------------------------------------------
    def answer(self, operation: str, params: dict[str, Any]) -> Answer | None:
        """The answer to one call (None: an operation left to the backend, e.g. ListStateMachines)."""
        handler = _OPERATIONS.get(operation)
        if handler is None:
            return None
        request_id = self._next_id()
        try:
            response = handler(self, params)
        except ApiError as error:
            return error_answer(error.error, error.cause, 400, request_id)
        problems = validate(sfn_service_model().operation_model(operation).output_shape, response)
        if problems:
            shown = "; ".join(f"{problem.name} {problem.message}" for problem in problems[:5])
            raise StepFunctionsError(f"the {operation} answer does not fit botocore's model: {shown}")
        return lambda_answer(200, response, request_id)

    def _next_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids), version=4))

    def _machine(self, arn: Any) -> StateMachine:
        machine = self.machines.get(_check_arn(arn, "stateMachine"))
        if machine is None:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return machine

    def _execution(self, arn: Any) -> Execution:
        execution = self.interpreter.executions.get(_check_arn(arn, "execution"))
        if execution is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return execution

    def start_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self._machine(params.get("stateMachineArn"))
        name, text = params.get("name"), params.get("input")
        if name is not None and not _NAME.match(name):
            raise ApiError("InvalidName", f"Invalid Name: '{name}'")
        existing = self.interpreter.executions.get(execution_arn(machine.arn, name)) if name else None
        if existing is not None and existing.running and existing.input == ("{}" if text is None else text):
            execution = existing  # AWS: the same name and input as a running execution answer as the first call
        else:
            execution = self.interpreter.start(machine.arn, machine.definition, text, name, machine.role_arn)
            self._pending = True
        return {"executionArn": execution.arn, "startDate": execution.start_date}

    def describe_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(params.get("executionArn"))
        answer = self._summary(execution)
        answer.update(input=execution.input, inputDetails={"included": True})
        if execution.status == SUCCEEDED:
            answer.update(output=execution.output, outputDetails={"included": True})
        for key in ("error", "cause"):
            if getattr(execution, key):
                answer[key] = getattr(execution, key)
        answer["redriveStatus"] = "NOT_REDRIVABLE" if execution.status in (RUNNING, SUCCEEDED) else "REDRIVABLE"
        return answer

    def _summary(self, execution: Execution) -> dict[str, Any]:
        summary = {"executionArn": execution.arn, "stateMachineArn": execution.state_machine_arn,
                   "name": execution.name, "status": execution.status, "startDate": execution.start_date,
                   "redriveCount": 0}
        if execution.stop_date is not None:
            summary["stopDate"] = execution.stop_date
        return summary

    def stop_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(params.get("executionArn"))
        self.interpreter.stop(execution, params.get("error"), params.get("cause"))
        return {"stopDate": execution.stop_date or utc(self.clock.now())}

    def send_task_success(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._with_token(params["taskToken"],
                                lambda: self.interpreter.send_task_success(params["taskToken"], params["output"]))

    def send_task_failure(self, params: dict[str, Any]) -> dict[str, Any]:
        token = params["taskToken"]
        return self._with_token(token, lambda: self.interpreter.send_task_failure(token, params.get("error"),
                                                                                  params.get("cause")))

    def send_task_heartbeat(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._with_token(params["taskToken"], lambda: self.interpreter.send_task_heartbeat(params["taskToken"]))

    def _with_token(self, token: str, action: Callable[[], None]) -> dict[str, Any]:
        try:
            action()
        except ApiError as error:
            if error.error == "InvalidToken" and _well_formed_token(token):
                raise ApiError("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'") from None
            raise
        self._pending = True
        return {}

    def get_execution_history(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(params.get("executionArn"))
        events = [dict(event) for event in execution.history]
        if params.get("reverseOrder"):
            events.reverse()
        if params.get("includeExecutionData") is False:  # AWS leaves inputs and outputs out of every event
            events = [{key: _without_data(value) for key, value in event.items()} for event in events]
        return _page(events, params, f"history {execution.arn}", "events")

    def list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("stateMachineArn"):
            raise ApiError("ValidationException", "Must provide a StateMachine ARN (Map Runs are not supported here)")
        machine = self._machine(params["stateMachineArn"])
        wanted = params.get("statusFilter")
        executions = [self._summary(execution) for execution in self.interpreter.executions.values()
                      if execution.state_machine_arn == machine.arn and wanted in (None, execution.status)]
        executions.reverse()  # newest first, as AWS lists them
        return _page(executions, params, f"executions {machine.arn} {wanted}", "executions")

    def describe_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self._machine(params.get("stateMachineArn"))
        return {"stateMachineArn": machine.arn, "name": machine.name, "status": "ACTIVE",
                "definition": machine.definition_text, "roleArn": machine.role_arn, "type": machine.type,
                "creationDate": machine.creation_date or utc(self.clock.start),
                "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
                "tracingConfiguration": {"enabled": False}}

    def describe_state_machine_for_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(params.get("executionArn"))
        machine = self.machines[execution.state_machine_arn]
        return {"stateMachineArn": machine.arn, "name": machine.name, "definition": machine.definition_text,
                "roleArn": machine.role_arn, "updateDate": machine.creation_date or utc(self.clock.start)}

    # -- the TaskRunner: Lambda tasks under the machine's role ----------------------------------------------------------
    def invoke_lambda(self, function: str, payload: Any, execution: Execution) -> LambdaOutcome:
        """Invoke `function` (RequestResponse) as the execution's role may: IAM judged, then the function host."""
        target = self.host.find(function)
        arn = target.arn if target is not None else self._function_arn(function)
        refusal = self._refusal(execution, arn)
        if refusal is not None:
            return LambdaOutcome(error=refusal)
        if target is None:
            return LambdaOutcome(error=("Lambda.ResourceNotFoundException",
                                        self._lambda_cause(f"Function not found: {arn}", 404,
                                                           "ResourceNotFoundException")))
        self._busy += 1
        try:
            invocation = self.host.invoke(target.name, payload, trigger="stepfunctions")
        finally:
            self._busy -= 1
        if invocation.error is not None:  # Step Functions reports the error payload Lambda answers with
            cause = invoke_result(invocation)["Payload"].read().decode("utf-8")
            return LambdaOutcome(error=(invocation.error["type"], cause), request_id=invocation.request_id)
        return LambdaOutcome(payload=invocation.result, request_id=invocation.request_id)

    def _refusal(self, execution: Execution, function_arn: str) -> tuple[str, str] | None:
        """(Error, Cause) when the machine's role may not invoke the function, as the task then fails."""
        if self.guard is None:
            return None
        machine = self.machines.get(execution.state_machine_arn)
        principal = _Principal(machine.name if machine else execution.name, execution.role_arn,
                               {"AWS_REGION": execution.region or self.region})
        try:
            denied = self.guard(principal, "lambda", "Invoke", {"FunctionName": function_arn})
        except ClientError as error:  # the role is not in IAM: Step Functions cannot assume it
            return "States.Runtime", f"Step Functions cannot assume the role {execution.role_arn}: {error}"
        if denied is None:
            return None
        code, message = denied[0], denied[1]
        return "Lambda.AWSLambdaException", self._lambda_cause(message, 403, code)

    def _lambda_cause(self, message: str, status: int, code: str) -> str:
        return (f"{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; "
                f"Request ID: {self._next_id()}; Proxy: null)")

    def _function_arn(self, function: str) -> str:
        if function.startswith("arn:"):
            return function
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function}"


def _without_data(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {key: item for key, item in value.items() if key not in ("input", "output")}


_OPERATIONS: dict[str, Handler] = {
    "StartExecution": StepFunctions.start_execution,
    "DescribeExecution": StepFunctions.describe_execution,
    "StopExecution": StepFunctions.stop_execution,
    "SendTaskSuccess": StepFunctions.send_task_success,
    "SendTaskFailure": StepFunctions.send_task_failure,
    "SendTaskHeartbeat": StepFunctions.send_task_heartbeat,
    "GetExecutionHistory": StepFunctions.get_execution_history,
    "ListExecutions": StepFunctions.list_executions,
    "DescribeStateMachine": StepFunctions.describe_state_machine,
    "DescribeStateMachineForExecution": StepFunctions.describe_state_machine_for_execution,
}
