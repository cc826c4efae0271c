"""World: one isolated emulated AWS (moto, moto-server or LocalStack) plus the DRS emulator and the function host."""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3

from drs_parity.world import botohooks
from drs_parity.world.backends import Credentials, backend_class, boto_session, share_loaded_models
from drs_parity.world.client_cache import install_client_cache
from drs_parity.world.clock import VirtualClock
from drs_parity.world.deploy import Stack, deploy_stack
from drs_parity.world.drs import DrsEmulator, Ec2Launcher, InProcessMotoLauncher
from drs_parity.world.handler_signatures import install_remembered_handler_signatures
from drs_parity.world.host import FunctionHost, mark_harness_client
from drs_parity.world.iam import IamGuard, enforce_iam
from drs_parity.world.runtime import environ_without_aws, replaced_environ
from drs_parity.world.signing import install_unchecked_signatures
from drs_parity.world.stepfunctions.service import StepFunctions

HARNESS_ROLE = "drs-parity-harness"  # assumed in other accounts for harness clients
YOUNG_GC_THRESHOLD = 300_000  # allocations between young collections while a world is active (CPython: 700)


def _nothing() -> None:
    pass


def fewer_young_collections() -> Callable[[], None]:
    """Collect the youngest generation less often from now on (the older thresholds kept); returns the undo."""
    # A drill allocates millions of short-lived objects (botocore requests, moto items); at CPython's default
    # the collector runs hundreds of times a drill and costs ~20% of its time. Nothing in a world depends on it.
    # Raised before moto starts (its start builds ~1,300 request matchers and imports: 2 full collections a side
    # at the default) and lowered only once the world's objects are released, so the young generation is
    # collected when it holds what survived the world, not the whole world (was 43 ms a side). A stopped world's
    # parts are freed by reference counting (World.stop, CodePackage.release, moto_teardown), so what the collector
    # finds is the cyclic garbage of requests and generated classes: 300,000 lets a side finish between two
    # collections (the gate's collector time: 1.9 s at 100,000, 1.2 s; the same peak memory at 1,000 servers).
    saved = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *saved[1:])
    return lambda: gc.set_threshold(*saved)


class World:
    """One emulated AWS for one side: backend state, virtual clock, DRS emulator and function host, all isolated."""

    def __init__(self, backend: str = "moto", clock: VirtualClock | None = None, region: str = "us-east-1",
                 account_id: str = "123456789012", drs_transport: str | None = None,
                 moto_server_port: int | None = None, enforce_iam: bool = True) -> None:
        # DRS is reached the way the backend's other services are: in-process with moto, over loopback HTTP
        # (AWS_ENDPOINT_URL_DRS) when the rest of AWS is an endpoint too.
        drs_transport = drs_transport or ("inprocess" if backend == "moto" else "http")
        if drs_transport not in ("inprocess", "http"):
            raise ValueError(f"unknown drs_transport {drs_transport!r}: valid are inprocess, http")
        self.backend_name = backend
        self.backend = backend_class(backend)(moto_server_port=moto_server_port)
        self.clock = clock or VirtualClock()
        self.region = region
        self.account_id = account_id
        self.drs_transport = drs_transport
        self.enforce_iam = enforce_iam  # as on AWS, a function may only make the calls its role allows
        self.iam_guard: IamGuard | None = None
        self._host: FunctionHost | None = None
        self._drs: DrsEmulator | None = None
        self._stepfunctions: StepFunctions | None = None
        self._drs_url: str | None = None
        self._credentials: dict[str, Credentials] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._accounts_by_key: dict[str, str] = {}
        self._exit: contextlib.ExitStack | None = None
        self._restore_collections: Callable[[], None] = _nothing  # the collector's thresholds, restored on stop
        self._session: boto3.session.Session | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> "World":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def start(self) -> "World":
        if self._exit is not None:
            raise RuntimeError("this world is already started")
        exit_stack = contextlib.ExitStack()
        self._restore_collections = fewer_young_collections()
        try:
            exit_stack.callback(share_loaded_models())  # first: moto's Sessions at import share the models too
            exit_stack.callback(install_remembered_handler_signatures())  # each handler inspected once a process
            self.backend.start()
            exit_stack.callback(self.backend.stop)
            if self.backend.in_process:  # moto reads the credential and scope of a signature, never checks it
                exit_stack.callback(install_unchecked_signatures())
            exit_stack.callback(install_client_cache())  # one model and client class per service, not per client
            self._credentials[self.account_id] = self._base_credentials()
            process_env = {**self.backend.process_env(), **self.base_env()}
            exit_stack.enter_context(replaced_environ(environ_without_aws(process_env)))
            botohooks.fresh_default_session()
            # One botocore session per world, made in the world's environment: the harness's clients and what the
            # code under test gets from boto3 (its default session), sharing already loaded service models.
            self._session = boto3.DEFAULT_SESSION = boto_session()
            exit_stack.enter_context(self.clock.installed())
            self._start_host(exit_stack)
            self._start_drs(exit_stack)
        except BaseException:
            exit_stack.close()
            self._forget()
            self._restore_collections()
            raise
        self._exit = exit_stack
        return self

    def stop(self) -> None:
        if self._exit is not None:
            self._exit.close()
            self.clock.forget_timers()  # the stopped parts' timers: nothing fires them now, and they hold the parts
        self._forget()
        botohooks.fresh_default_session()
        self._restore_collections()
        self._restore_collections = _nothing

    def _forget(self) -> None:
        self._exit = None
        self.iam_guard = None
        self._host = None
        self._drs = None
        self._stepfunctions = None
        self._drs_url = None
        self._clients.clear()
        self._session = None
        self._credentials.clear()
        self._accounts_by_key.clear()

    def _start_host(self, exit_stack: contextlib.ExitStack) -> None:
        self._host = FunctionHost(self.clock, self.client, self.base_env, self.region, self.account_id)
        self._host.start()
        exit_stack.callback(self._host.stop)
        if self.enforce_iam:
            self.iam_guard = enforce_iam(self, self._host)
        # Step Functions is answered in-process on every backend; its state machines come with each deploy.
        self._stepfunctions = StepFunctions(self.clock, self._host, self.iam_guard, self.region,
                                            self.account_id).install()

    def _start_drs(self, exit_stack: contextlib.ExitStack) -> None:
        launcher = InProcessMotoLauncher if self.backend.in_process else Ec2Launcher  # recovery instances in EC2
        self._drs = DrsEmulator(self.clock, launcher=launcher(self._ec2_client),
                                account_resolver=self.account_resolver)
        exit_stack.callback(self._drs.close)
        if self.drs_transport == "inprocess":
            exit_stack.callback(self._drs.install_inprocess())
            return
        server = self._drs.serve(port=0)
        exit_stack.callback(server.stop)
        self._drs_url = server.url
        os.environ["AWS_ENDPOINT_URL_DRS"] = server.url  # undone with the rest of the world's environment

    # -- what the world offers ---------------------------------------------------------------------------------------
    @property
    def host(self) -> FunctionHost:
        if self._host is None:
            raise RuntimeError("the world is not started")
        return self._host

    @property
    def drs(self) -> DrsEmulator:
        if self._drs is None:
            raise RuntimeError("the world is not started")
        return self._drs

    @property
    def stepfunctions(self) -> StepFunctions:
        if self._stepfunctions is None:
            raise RuntimeError("the world is not started")
        return self._stepfunctions

    @property
    def active(self) -> bool:
        return self._exit is not None

    def base_env(self) -> dict[str, str]:
        """The environment every function sees (and the harness process, while the world is active)."""
        if self.account_id not in self._credentials:
            raise RuntimeError("the world is not started")
        access_key, secret, token = self._credentials[self.account_id]
        env = {"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
               "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret, **self.backend.env()}
        if token:
            env["AWS_SESSION_TOKEN"] = token
        if self._drs_url:
            env["AWS_ENDPOINT_URL_DRS"] = self._drs_url
        return env

    def client(self, service: str, region: str | None = None, account_id: str | None = None) -> Any:
        """A harness-internal boto3 client to this world (never recorded as a function's call, never guarded)."""
        key = (service, region or self.region, account_id or self.account_id)
        if key not in self._clients:
            self._clients[key] = self._raw_client(service, self._credentials_for(key[2]), key[1])
        return self._clients[key]

    def account_resolver(self, access_key_id: str) -> str:
        """The account an access key belongs to (for the DRS emulator): STS keys map to their role's account."""
        if access_key_id not in self._accounts_by_key:
            self._accounts_by_key[access_key_id] = self._lookup_account(access_key_id)
        return self._accounts_by_key[access_key_id]

    def deploy(self, template_path: str | Path, stack_name: str, parameters: dict[str, str] | None = None) -> Stack:
        """Create the template as a stack; CREATE_COMPLETE or DeployError naming the failing logical resource."""
        supported_types = self.backend.supported_types()
        stack = deploy_stack(self.client("cloudformation"), template_path, stack_name, parameters or {},
                             supported_types)
        self.stepfunctions.add_stack(stack, parameters or {})  # its state machines, run by the interpreter
        return stack

    # -- credentials and endpoints -----------------------------------------------------------------------------------
    def _base_credentials(self) -> Credentials:
        native = self.backend.credentials(self.account_id)
        return native if native is not None else self._assume_harness_role(self.account_id, ("testing", "testing",
                                                                                             None))

    def _credentials_for(self, account_id: str) -> Credentials:
        if account_id not in self._credentials:
            self._credentials[account_id] = self._assume_harness_role(account_id, self._credentials[self.account_id])
        return self._credentials[account_id]

    def _assume_harness_role(self, account_id: str, via: Credentials) -> Credentials:
        sts = self._raw_client("sts", via)
        answer = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{HARNESS_ROLE}",
                                 RoleSessionName="drs-parity-harness")["Credentials"]
        return answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"]

    def _lookup_account(self, access_key_id: str) -> str:
        if self.backend.in_process:
            from moto.iam.models import get_account_id_from  # in-process moto only: 0.4 s to import

            return get_account_id_from(access_key_id)
        sts = self._raw_client("sts", (access_key_id, "drs-parity-dummy-secret", None))
        return sts.get_caller_identity()["Account"]

    def _raw_client(self, service: str, credentials: Credentials, region: str | None = None) -> Any:
        access_key, secret, token = credentials
        if self._session is None:  # a client needed before start() made the world's session (an assumed role)
            self._session = boto_session()
        return mark_harness_client(self._session.client(
            service, region_name=region or self.region, endpoint_url=self._endpoint_for(service),
            aws_access_key_id=access_key, aws_secret_access_key=secret, aws_session_token=token))

    def _endpoint_for(self, service: str) -> str | None:
        if service == "drs" and self._drs_url:
            return self._drs_url
        return self.backend.endpoint_url

    def _ec2_client(self, account_id: str, region: str) -> Any:
        return self.client("ec2", region=region, account_id=account_id)
