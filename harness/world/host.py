"""FunctionHost: runs a world's deployed Lambda functions in-process (Invoke, async queue, schedules, API Gateway)."""

from __future__ import annotations

import contextlib
import json
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from drs_parity.errors import DrsParityError
from drs_parity.world import botohooks
from drs_parity.world.apigateway import Gateway, api_response, proxy_event
from drs_parity.world.clock import VirtualClock
from drs_parity.world.code import CodePackage, FunctionCode, release_packages, runtime_problem
from drs_parity.world.deploy import Stack
from drs_parity.world.destinations import Destinations, invoke_configs
from drs_parity.world.functions import (ApiResponse, DeployedFunction, Invocation, ScheduleRule, read_function,
                                        read_rule)
from drs_parity.world.invoke import (Answer, error_answer, invoke_result, lambda_answer, on_the_wire, read_payload,
                                     streaming, throttled_answer)
from drs_parity.world.lambda_async import AsyncConfig, AsyncEvent, AsyncQueue, invocation_record
from drs_parity.world.lambda_faults import FunctionTimedOut, LambdaFaults, stop_at_timeout_point, timeout_error
from drs_parity.world.runtime import (LambdaContext, LambdaHandler, OutputCaptures, RequestIds, RuntimeFailure,
                                      function_environ, json_safe, load_handler, marshal, runtime_environment,
                                      sleep_recorded_in)
from drs_parity.world.schedules import ScheduleRunner

ClientFactory = Callable[[str], Any]  # service -> harness-internal boto3 client
CallGuard = Callable[[DeployedFunction, str, str, dict], "tuple[str, str] | tuple[str, str, int] | None"]
CodeFor = Callable[[str], "Path | None"]  # function logical id -> code folder the system description gives it
ServiceAnswerer = Callable[[str, dict], "Answer | None"]  # (operation, params) -> the answer, None: the backend's

# Keys this module keeps in botocore's per-request context dict.
_INTERNAL = "drs_parity_internal"
_PARAMS = "drs_parity_params"
_CALLER = "drs_parity_caller"
_SNAPSHOT = "drs_parity_params_snapshot"  # JSON-safe params as the code passed them, before botocore touches them
_ON_THE_WIRE = "drs_parity_invoke_on_the_wire"  # an Invoke answered per HTTP attempt (botocore retries a throttle)

MAX_DRAIN = 10_000  # async invocations per drain before we call it a runaway loop


class HostError(DrsParityError, RuntimeError):
    """A harness-level problem running functions (runaway queue, unknown function, bad schedule expression)."""


def mark_harness_client(client: Any) -> Any:
    """Tag every call of `client` as the harness's own: never recorded, never guarded, never attributed."""

    def mark(context: dict[str, Any], **_: Any) -> None:
        context[_INTERNAL] = True

    client.meta.events.register_first("before-parameter-build", mark)
    return client


def call_params(context: dict[str, Any]) -> dict[str, Any]:
    """The params of the call whose botocore request context this is (the harness's own calls included)."""
    return context.get(_PARAMS, {})


def function_call(context: dict[str, Any]) -> tuple[Invocation, dict[str, Any]] | None:
    """(the invocation making the call, its params as the code passed them); None for the harness's own calls."""
    caller = context.get(_CALLER)
    return None if caller is None else (caller, context[_SNAPSHOT])


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
        self.deliveries: list[dict[str, Any]] = []  # invocation records sent to destinations, in order
        self.faults = LambdaFaults()  # scripted: duplicate deliveries, throttles, timeouts
        self._client = client_factory
        self._base_env = base_env
        self._async = AsyncQueue(clock, self._run_event, self._as_action, self.faults, self._finish_event)
        self._destinations = Destinations(client_factory, self._invoke_destination)
        self.schedules = ScheduleRunner(clock, self._deliver_tick)
        self._running: list[Invocation] = []
        self._depth = 0
        self._listeners: list[Callable[[Invocation], None]] = []
        self._guard: CallGuard | None = None
        self.request_ids = RequestIds()  # counted: reused console reads skip the ids they took
        self._root_levels: dict[str, int] = {}
        self._captures = OutputCaptures()  # one per nesting level of invocations, reused
        self._unregister: list[Callable[[], None]] = []
        self._answerers: dict[str, ServiceAnswerer] = {}  # service id -> what answers its calls in-process
        self._idle_hooks: list[Callable[[], bool]] = []  # other work due now: each returns whether it ran any

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Hook into every boto3 client of the process (functions start cold: each gets its own namespace)."""
        self._unregister = [
            botohooks.register("before-parameter-build", self._remember_call),
            botohooks.register("before-call", self._answer_call),
            botohooks.register("before-send", self._answer_invoke_attempt, service="lambda"),
            botohooks.register("after-call", self._record_call),
            botohooks.register("after-call-error", self._record_call_error),
        ]

    def stop(self) -> None:
        for unregister in self._unregister:
            unregister()
        self._unregister = []
        self.stop_schedules()
        self._async.close()
        self._handlers.clear()  # and the functions' modules freed now (not by the cycle collector): cold starts after
        release_packages(self._packages.values())

    def register_hook(self, kind: str, handler: Callable[..., Any], service: str = "") -> None:
        """Listen to botocore events (see botohooks.register) until the host stops, after the host's own handler."""
        self._unregister.append(botohooks.register(kind, handler, service))

    # -- what is deployed ------------------------------------------------------------------------------------------
    def load(self, stack: Stack, code_for: CodeFor | None = None) -> None:
        """Read the stack's Lambda functions and schedule rules from the backend (a cold start for their code).

        A function's code is the template's local folder, else `code_for(logical id)` (the system description's),
        else the directory you run in; its layers come from the template.
        """
        functions = [read_function(self._client("lambda"), physical, logical)
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
                rule = read_rule(self._client("events"), physical, logical)
                if rule is not None:
                    self.add_rule(rule)
        try:
            self._async.configs.update(invoke_configs(stack, self.region, self.account_id))
        except ValueError as exc:
            raise HostError(f"AWS::Lambda::EventInvokeConfig {exc}") from exc

    def set_async_config(self, function: str, config: AsyncConfig) -> None:
        """What Lambda does with `function`'s failed async events (a template's EventInvokeConfig does it too)."""
        self._async.configs[function] = config

    def add_function(self, function: DeployedFunction) -> None:
        """Deploy `function` (a cold start): its code folder, else the directory you run in, then its layers."""
        self.functions[function.name] = function
        self._cold_start(function)

    def _cold_start(self, function: DeployedFunction) -> None:
        self._packages[function.name] = CodePackage(function.code or Path.cwd(), *function.layers)
        self._handlers.pop(function.name, None)

    def add_rule(self, rule: ScheduleRule) -> None:
        self.rules.append(rule)

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
                self._submit(function, invocation.event, trigger, prepared=invocation)
            else:
                self._run(invocation)
        return invocation

    def drain(self) -> None:
        """Run queued Event invocations first-in first-out, including those they queue, then the idle hooks (work
        due now elsewhere, e.g. Step Functions executions), until neither has any left."""
        for _ in range(MAX_DRAIN):
            if not self._async.run_next() and not any(hook() for hook in self._idle_hooks):
                return
        upcoming = self._async.next_function() or "the idle hooks"
        raise HostError(f"the async queue still had {len(self._async)} invocations after {MAX_DRAIN} runs "
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

    # -- asynchronous events -------------------------------------------------------------------------------------------
    def _submit(self, function: DeployedFunction, event: Any, trigger: str,
                prepared: Invocation | None = None) -> None:
        request_id = prepared.request_id if prepared is not None else self._next_id()
        self._async.submit(AsyncEvent(function.name, event, request_id, trigger, self.clock.now(), prepared=prepared))

    def _run_event(self, event: AsyncEvent) -> Invocation:
        return self._run(event.delivery())

    def _as_action(self, callback: Callable[[], None]) -> None:
        with self._top_level_action():
            callback()

    def _finish_event(self, event: AsyncEvent, condition: str, config: AsyncConfig) -> None:
        """An event is done (run, retried out, or too old): its record goes to the destination configured for it."""
        destination = config.destination(condition)
        if destination is None:
            return
        arn = self.functions[event.function].arn
        record = invocation_record(event, condition, arn, self.clock.isoformat())
        error = self._destinations.send(destination, record, condition, arn)
        self.deliveries.append({"time": self.clock.now_int(), "function": event.function, "condition": condition,
                                "destination": destination, "record": record, "error": error})

    def _invoke_destination(self, arn: str, record: Any) -> bool:
        function = self.find(arn)
        if function is not None:
            self._submit(function, record, "event")
        return function is not None

    def _next_id(self) -> str:
        return str(uuid.UUID(int=next(self.request_ids), version=4))

    def _run(self, invocation: Invocation) -> Invocation:
        function = self.functions[invocation.function]
        invocation.started = self.clock.now()
        invocation.timeout_after_calls = self.faults.timeout_point(function.name, invocation.trigger,
                                                                   invocation.started)
        self.invocations.append(invocation)
        self._running.append(invocation)
        try:
            package = self._packages[function.name]
            with self._function_environ(function, package), package.active(), \
                    self._captures.at(len(self._running)).capturing(invocation.logs, self._root_levels,
                                                                    function.name), sleep_recorded_in(invocation):
                result = self._handler(function)(invocation.event,
                                                 LambdaContext(function, invocation.request_id, self.clock))
                if invocation.timeout_after_calls is not None:
                    raise FunctionTimedOut()  # it returned at its timeout point: Lambda had already ended it
                invocation.result = marshal(result)
        except FunctionTimedOut:
            invocation.error = timeout_error(invocation.request_id, function.timeout)
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
        runtime = runtime_environment(function, package.folders[0], self.region)
        return function_environ({**self._base_env(), **function.environment, **runtime})

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
        if caller is not None:
            stop_at_timeout_point(caller)
        if caller is not None and self._guard is not None:
            denied = self._guard(self.functions[caller.function], service, model.name, context[_SNAPSHOT])
            if denied is not None:
                code, message, *status = denied
                return error_answer(code, message, status[0] if status else 403, self._next_id())
        if service == "lambda" and model.name == "Invoke":
            if self._throttle_pending(params):
                context[_ON_THE_WIRE] = params  # answered per attempt at before-send, so botocore retries 429s
                return None
            return self._serve_invoke(params)
        answerer = self._answerers.get(service)
        return answerer(model.name, params) if answerer is not None else None

    def _throttle_pending(self, params: dict[str, Any]) -> bool:
        function = self.find(params.get("FunctionName", ""))
        synchronous = params.get("InvocationType", "RequestResponse") == "RequestResponse"
        return synchronous and function is not None and self.faults.throttle_pending(function.name, self.clock.now())

    def _answer_invoke_attempt(self, request: Any, **_: Any) -> Any:
        """One HTTP attempt of a synchronous Invoke while its function is throttled: 429, or the invocation."""
        params = (request.context or {}).get(_ON_THE_WIRE)
        if params is None:
            return None
        function = self._require(params["FunctionName"])
        if self.faults.throttled(function.name, self.clock.now()):
            return throttled_answer(self._next_id())
        return on_the_wire(self._serve_invoke(params))

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
            self._submit(function, payload, "event")
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
        """Put every ENABLED rule on the clock; the first tick is one period (or the next cron minute) away."""
        try:
            self.schedules.start(self.rules)
        except ValueError as exc:
            raise HostError(str(exc)) from exc

    def stop_schedules(self) -> None:
        self.schedules.stop()

    def _deliver_tick(self, rule: ScheduleRule, when: float, deliveries: int) -> None:
        """EventBridge invokes each target asynchronously with the tick's event (twice: the same event twice)."""
        with self._top_level_action():
            for target in rule.targets:
                function = self.find(target.arn)
                if function is None:
                    self.undelivered.append({"rule": rule.name, "target": target.arn, "time": self.clock.isoformat()})
                    continue
                event = json.loads(target.input) if target.input else self._scheduled_event(rule, when)
                for _ in range(deliveries):
                    self._submit(function, event, "schedule")

    def _scheduled_event(self, rule: ScheduleRule, when: float) -> dict[str, Any]:
        return {"version": "0", "id": self._next_id(), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self.account_id, "time": self.clock.isoformat(int(when)),
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
