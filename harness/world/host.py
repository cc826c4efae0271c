"""FunctionHost: runs a world's deployed Lambda functions in-process (Invoke, async queue, schedules, API Gateway)."""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from drs_parity.errors import DrsParityError
from drs_parity.world import botohooks
from drs_parity.world.apigateway import Gateway, api_response, proxy_event
from drs_parity.world.clock import TimerHandle, VirtualClock
from drs_parity.world.code import CodePackage, FunctionCode, runtime_problem
from drs_parity.world.deploy import Stack
from drs_parity.world.functions import ApiResponse, DeployedFunction, Invocation, RuleTarget, ScheduleRule
from drs_parity.world.invoke import Answer, error_answer, invoke_result, lambda_answer, read_payload, streaming
from drs_parity.world.runtime import (LambdaContext, LambdaHandler, RuntimeFailure, captured_output,
                                      environ_without_aws, json_safe, load_handler, marshal, replaced_environ,
                                      sleep_recorded_in)
from drs_parity.world.schedules import Schedule

ClientFactory = Callable[[str], Any]  # service -> harness-internal boto3 client
CallGuard = Callable[[DeployedFunction, str, str, dict], "tuple[str, str] | tuple[str, str, int] | None"]
CodeFor = Callable[[str], "Path | None"]  # function logical id -> code folder the system description gives it
ServiceAnswerer = Callable[[str, dict], "Answer | None"]  # (operation, params) -> the answer, None: the backend's

# Keys this module keeps in botocore's per-request context dict.
_INTERNAL = "drs_parity_internal"
_PARAMS = "drs_parity_params"
_CALLER = "drs_parity_caller"
_SNAPSHOT = "drs_parity_params_snapshot"  # JSON-safe params as the code passed them, before botocore touches them

MAX_DRAIN = 10_000  # async invocations per drain before we call it a runaway loop


class HostError(DrsParityError, RuntimeError):
    """A harness-level problem running functions (runaway queue, unknown function, bad schedule expression)."""


def mark_harness_client(client: Any) -> Any:
    """Tag every call of `client` as the harness's own: never recorded, never guarded, never attributed."""

    def mark(context: dict[str, Any], **_: Any) -> None:
        context[_INTERNAL] = True

    client.meta.events.register_first("before-parameter-build", mark)
    return client


# -- the host ----------------------------------------------------------------------------------------------------------
class FunctionHost:
    """Runs the functions of one world in this process, the way Lambda, EventBridge and API Gateway would."""

    def __init__(self, clock: VirtualClock, client_factory: ClientFactory, base_env: Callable[[], dict[str, str]],
                 region: str, account_id: str) -> None:
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.functions: dict[str, DeployedFunction] = {}
        self._packages: dict[str, CodePackage] = {}  # function name -> its code and module namespace
        self._handlers: dict[str, LambdaHandler] = {}  # function name -> its handler, once imported (warm)
        self.rules: list[ScheduleRule] = []
        self.invocations: list[Invocation] = []
        self.undelivered: list[dict[str, str]] = []  # schedule targets that name no loaded function
        self._client = client_factory
        self._base_env = base_env
        self._queue: collections.deque[Invocation] = collections.deque()
        self._running: list[Invocation] = []
        self._depth = 0
        self._listeners: list[Callable[[Invocation], None]] = []
        self._guard: CallGuard | None = None
        self._ids = itertools.count(1)
        self._root_levels: dict[str, int] = {}
        self._unregister: list[Callable[[], None]] = []
        self._timers: list[TimerHandle] = []
        self._answerers: dict[str, ServiceAnswerer] = {}  # service id -> what answers its calls in-process
        self._idle_hooks: list[Callable[[], bool]] = []  # other work due now: each returns whether it ran any

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Hook into every boto3 client of the process (functions start cold: each gets its own namespace)."""
        self._unregister = [
            botohooks.register("before-parameter-build", self._remember_call),
            botohooks.register("before-call", self._answer_call),
            botohooks.register("after-call", self._record_call),
            botohooks.register("after-call-error", self._record_call_error),
        ]

    def stop(self) -> None:
        for unregister in self._unregister:
            unregister()
        self._unregister = []
        self.stop_schedules()

    # -- what is deployed ------------------------------------------------------------------------------------------
    def load(self, stack: Stack, code_for: CodeFor | None = None) -> None:
        """Read the stack's Lambda functions and schedule rules from the backend (a cold start for their code).

        A function's code is the template's local folder, else `code_for(logical id)` (the system description's),
        else the directory you run in; its layers come from the template.
        """
        functions = [self._read_function(physical, logical)
                     for logical, physical in stack.resources.items()
                     if stack.resource_types.get(logical) == "AWS::Lambda::Function"]
        for function in functions:
            problem = runtime_problem(function.runtime)
            if problem:
                raise HostError(f"function {function.logical_id} ({function.name}): {problem}")
        for function in functions:
            code = stack.code.get(function.logical_id, FunctionCode())
            function.code = code.folder or (code_for(function.logical_id) if code_for else None)
            function.layers = code.layers
            self.add_function(function)
        for logical, physical in stack.resources.items():
            if stack.resource_types.get(logical) == "AWS::Events::Rule":
                rule = self._read_rule(physical, logical)
                if rule is not None:
                    self.add_rule(rule)

    def add_function(self, function: DeployedFunction) -> None:
        """Deploy `function` (a cold start): its code folder, else the directory you run in, then its layers."""
        self.functions[function.name] = function
        self._cold_start(function)

    def _cold_start(self, function: DeployedFunction) -> None:
        self._packages[function.name] = CodePackage(function.code or Path.cwd(), *function.layers)
        self._handlers.pop(function.name, None)

    def add_rule(self, rule: ScheduleRule) -> None:
        self.rules.append(rule)

    def _read_function(self, name: str, logical_id: str) -> DeployedFunction:
        config = self._client("lambda").get_function_configuration(FunctionName=name)
        return DeployedFunction(
            name=config["FunctionName"], arn=config["FunctionArn"], handler=config["Handler"],
            environment=dict(config.get("Environment", {}).get("Variables", {})), role_arn=config.get("Role", ""),
            logical_id=logical_id, memory_size=int(config.get("MemorySize", 128)),
            timeout=int(config.get("Timeout", 3)), runtime=config.get("Runtime", ""),
        )

    def _read_rule(self, physical_id: str, logical_id: str) -> ScheduleRule | None:
        events = self._client("events")
        name = physical_id.rsplit("/", 1)[-1]  # the physical id is the name (moto) or the ARN
        rule = events.describe_rule(Name=name)
        if not rule.get("ScheduleExpression"):
            return None  # an event-pattern rule: nothing fires it on a clock
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        return ScheduleRule(
            name=rule["Name"], arn=rule["Arn"], expression=rule["ScheduleExpression"], state=rule["State"],
            targets=[RuleTarget(target["Id"], target["Arn"], target.get("Input")) for target in targets],
            logical_id=logical_id,
        )

    def find(self, name_or_arn: str) -> DeployedFunction | None:
        """Match a function as Lambda does: name, full ARN, partial ARN, with or without a qualifier."""
        text = name_or_arn.removesuffix(":$LATEST")
        if text in self.functions:
            return self.functions[text]
        name = text.split(":function:", 1)[-1].split(":", 1)[0]
        function = self.functions.get(name)
        if function is None or (":" in text and not function.arn.endswith(text)):
            return None
        return function

    def _function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    # -- invoking ----------------------------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[Invocation], None]) -> None:
        self._listeners.append(callback)

    def set_call_guard(self, guard: CallGuard | None) -> None:
        """guard(function, service, operation, params) -> None to allow, or (code, message[, http status]) to deny."""
        self._guard = guard

    def answer_service(self, service: str, answerer: ServiceAnswerer) -> None:
        """Answer every call to `service` (botocore service id, e.g. "sfn") in-process, after the call guard."""
        self._answerers[service] = answerer

    def add_idle_hook(self, hook: Callable[[], bool]) -> None:
        """`hook()` runs whenever the async queue is empty during a drain; True: it ran something, drain again."""
        self._idle_hooks.append(hook)

    def invoke(self, name: str, payload: Any = None, invocation_type: str = "RequestResponse",
               trigger: str = "direct") -> Invocation:
        """The harness invoking a function directly (a top-level action: the async queue is drained after)."""
        function = self._require(name)
        with self._top_level_action():
            invocation = self._new_invocation(function, trigger, payload if payload is not None else {})
            if invocation_type == "Event":
                self._queue.append(invocation)
            else:
                self._run(invocation)
        return invocation

    def drain(self) -> None:
        """Run queued Event invocations first-in first-out, including those they queue, then the idle hooks (work
        due now elsewhere, e.g. Step Functions executions), until neither has any left."""
        for _ in range(MAX_DRAIN):
            if self._queue:
                self._run(self._queue.popleft())
            elif not any(hook() for hook in self._idle_hooks):
                return
        upcoming = self._queue[0].function if self._queue else "the idle hooks"
        raise HostError(f"the async queue still had {len(self._queue)} invocations after {MAX_DRAIN} runs "
                        f"(next: {upcoming}): a function keeps invoking itself?")

    def _require(self, name: str) -> DeployedFunction:
        function = self.find(name)
        if function is None:
            raise HostError(f"no function {name!r} is loaded; known: {sorted(self.functions)}")
        return function

    @contextlib.contextmanager
    def _top_level_action(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0:
            self.drain()

    def _new_invocation(self, function: DeployedFunction, trigger: str, event: Any) -> Invocation:
        return Invocation(function=function.name, trigger=trigger, event=event, request_id=self._next_id())

    def _next_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids), version=4))

    def _run(self, invocation: Invocation) -> Invocation:
        function = self.functions[invocation.function]
        invocation.started = self.clock.now()
        self.invocations.append(invocation)
        self._running.append(invocation)
        try:
            package = self._packages[function.name]
            with self._function_environ(function, package), package.active(), \
                    captured_output(invocation.logs, self._root_levels, function.name), sleep_recorded_in(invocation):
                result = self._handler(function)(invocation.event,
                                                 LambdaContext(function, invocation.request_id, self.clock))
                invocation.result = marshal(result)
        except RuntimeFailure as failure:
            invocation.error = {"type": failure.error_type, "message": str(failure)}
        except Exception as exc:  # the handler's failure is Lambda's errorType/errorMessage, not the harness's
            invocation.error = {"type": type(exc).__name__, "message": str(exc)}
            invocation.stack_trace = traceback.format_tb(exc.__traceback__)[1:]
        finally:
            self._running.pop()
            invocation.ended = self.clock.now()
        for listener in self._listeners:
            listener(invocation)
        return invocation

    def _handler(self, function: DeployedFunction) -> LambdaHandler:
        """The handler, imported on the first invocation (a failed import is tried again on the next, as Lambda)."""
        handler = self._handlers.get(function.name)
        if handler is None:
            try:
                handler = self._handlers[function.name] = load_handler(function)
            except RuntimeFailure:
                self._cold_start(function)  # a failed init: Lambda starts the next invocation afresh
                raise
        return handler

    def _function_environ(self, function: DeployedFunction,
                          package: CodePackage) -> contextlib.AbstractContextManager[None]:
        runtime = {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "_HANDLER": function.handler,
            "LAMBDA_TASK_ROOT": package.folders[0],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        return replaced_environ(environ_without_aws({**self._base_env(), **function.environment, **runtime}))

    # -- botocore hooks ----------------------------------------------------------------------------------------------
    def _remember_call(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params
        if not context.get(_INTERNAL) and self._running:
            context[_CALLER] = self._running[-1]
            context[_SNAPSHOT] = json_safe(params)

    def _answer_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        service = model.service_model.service_id.hyphenize()
        params = context.get(_PARAMS, {})
        caller: Invocation | None = context.get(_CALLER)
        if caller is not None and self._guard is not None:
            denied = self._guard(self.functions[caller.function], service, model.name, context[_SNAPSHOT])
            if denied is not None:
                code, message, *status = denied
                return error_answer(code, message, status[0] if status else 403, self._next_id())
        if service == "lambda" and model.name == "Invoke":
            return self._serve_invoke(params)
        answerer = self._answerers.get(service)
        return answerer(model.name, params) if answerer is not None else None

    def _serve_invoke(self, params: dict[str, Any]) -> Answer:
        request_id = self._next_id()
        name = params.get("FunctionName", "")
        function = self.find(name)
        if function is None:
            arn = name if name.startswith("arn:") else self._function_arn(name)
            return error_answer("ResourceNotFoundException", f"Function not found: {arn}", 404, request_id)
        invocation_type = params.get("InvocationType", "RequestResponse")
        payload = read_payload(params.get("Payload"))
        if invocation_type == "DryRun":
            return lambda_answer(204, {"StatusCode": 204, "Payload": streaming(b"")}, request_id)
        if invocation_type == "Event":
            self._queue.append(self._new_invocation(function, "event", payload))
            if self._depth == 0 and not self._running:  # called from outside any action: this call is the action
                self.drain()
            return lambda_answer(202, {"StatusCode": 202, "Payload": streaming(b"")}, request_id)
        invocation = self._run(self._new_invocation(function, "invoke", payload))
        return lambda_answer(200, invoke_result(invocation), request_id)

    def _record_call(self, event_name: str, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
                     **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
        self._append_call(event_name, context, error)

    def _record_call_error(self, event_name: str, exception: Exception, context: dict[str, Any], **_: Any) -> None:
        self._append_call(event_name, context, type(exception).__name__)  # no answer at all (e.g. connection)

    @staticmethod
    def _append_call(event_name: str, context: dict[str, Any], error: str | None) -> None:
        caller: Invocation | None = context.get(_CALLER)
        if caller is None:
            return
        _, service, operation = event_name.split(".", 2)  # "after-call.<service id>.<Operation>"
        caller.calls.append({
            "service": service, "operation": operation,
            "params": context.get(_SNAPSHOT, {}), "region": context.get("client_region"),
            "error": error, "function": caller.function,
        })

    # -- schedules -----------------------------------------------------------------------------------------------------
    def start_schedules(self) -> None:
        """Put every ENABLED rule on the clock; the first firing is one period (or the next cron minute) away."""
        for rule in self.rules:
            if rule.state == "ENABLED":
                try:
                    schedule = Schedule(rule.expression)
                except ValueError as exc:
                    raise HostError(f"rule {rule.name}: {exc}") from exc
                self._arm(rule, schedule, schedule.next_after(self.clock.now()))

    def stop_schedules(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def _arm(self, rule: ScheduleRule, schedule: Schedule, when: float) -> None:
        def fire() -> None:
            self._arm(rule, schedule, schedule.next_after(when))
            self._fire(rule)

        self._timers.append(self.clock.call_at(when, fire, name=f"rule:{rule.name}"))

    def _fire(self, rule: ScheduleRule) -> None:
        with self._top_level_action():
            for target in rule.targets:
                function = self.find(target.arn)
                if function is None:
                    self.undelivered.append({"rule": rule.name, "target": target.arn, "time": self.clock.isoformat()})
                    continue
                event = json.loads(target.input) if target.input else self._scheduled_event(rule)
                self._queue.append(self._new_invocation(function, "schedule", event))

    def _scheduled_event(self, rule: ScheduleRule) -> dict[str, Any]:
        return {"version": "0", "id": self._next_id(), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self.account_id, "time": self.clock.isoformat(int(self.clock.now())),
                "region": self.region, "resources": [rule.arn], "detail": {}}

    # -- API Gateway ---------------------------------------------------------------------------------------------------
    def api_request(self, function_name: str, method: str, path: str, body: Any = None,
                    query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                    claims: Mapping[str, Any] | None = None, resource: str | None = None,
                    path_parameters: Mapping[str, str] | None = None) -> ApiResponse:
        """One HTTP request through an API Gateway REST proxy integration (Cognito authorizer) to the function."""
        function = self._require(function_name)
        event = self.proxy_event(method, path, body, query, headers, claims, resource, path_parameters)
        with self._top_level_action():
            invocation = self._run(self._new_invocation(function, "api", event))
        return api_response(invocation)

    def proxy_event(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, claims: Mapping[str, Any] | None = None,
                    resource: str | None = None, path_parameters: Mapping[str, str] | None = None
                    ) -> dict[str, Any]:
        gateway = Gateway(self.account_id, self._next_id(), self.clock.now())
        return proxy_event(gateway, method, path, body, query, headers, claims, resource, path_parameters)
