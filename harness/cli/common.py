"""What every subcommand shares: its registry entry, the backend option, CliError, one-line errors and signals."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Callable, Iterator

from drs_parity.errors import DrsParityError, ExitCode, InputError
from drs_parity.fixtures.regressions import Regression, VariantSystem, regressed_system
from drs_parity.fixtures.system import System
from drs_parity.gate.parity import DEFAULT_LEFT, DEFAULT_RIGHT
from drs_parity.world.backends import DEFAULT_MOTO_PORT, MOTO_PORT_ENV, backend_available

PROG = "drs-parity"
BACKENDS = ("moto", "moto-server", "localstack")
NO_SCENARIOS = "no scenarios to run (is DRS_PARITY_FIXTURES pointing at a fixtures folder?)"


class CliError(InputError):
    """A user mistake or an unusable environment: printed as one line, exit 2."""


@dataclass(frozen=True)
class Subcommand:
    """One `drs-parity NAME`: its help line, how it declares its options and `run(args) -> exit code`."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> int:
    """Print `message` as the one-line error on stderr; the exit code."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same cleanup runs: temporary folders, half-written files."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: ignore further ones while the cleanup this starts runs, then unwind like Ctrl-C."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While open, SIGTERM (CI cancelling a job) unwinds like Ctrl-C; only the main thread can handle signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code_of(command: Callable[[], int]) -> int:
    """Run `command`; a harness error is its one line and exit code, Ctrl-C or SIGTERM one line, a closed pipe
    silence."""
    try:
        with sigterm_as_interrupt():
            return command()
    except DrsParityError as error:
        return fail(str(error), error.exit_code)
    except KeyboardInterrupt as interrupt:
        return fail("interrupted (SIGTERM)" if isinstance(interrupt, Terminated) else "interrupted")
    except BrokenPipeError:  # `drs-parity doctor | head`: the reader left; nothing more to say
        sys.stderr.close()
        return ExitCode.ERROR


# -- shared options ---------------------------------------------------------------------------------------------------
def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    """The `--backend` option."""
    parser.add_argument("--backend", default="moto", help=f"emulated AWS: {', '.join(BACKENDS)} (default moto)")


def add_pair_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--left` and `--right` options: the two systems compared."""
    parser.add_argument("--left", default=DEFAULT_LEFT,
                        help=f"system name or description file (default {DEFAULT_LEFT})")
    parser.add_argument("--right", default=DEFAULT_RIGHT,
                        help=f"system name or description file (default {DEFAULT_RIGHT})")


def add_right_regression_argument(parser: argparse.ArgumentParser) -> None:
    """The `--right-regression` option."""
    parser.add_argument("--right-regression", metavar="NAME",
                        help="switch on a regression catalogue entry (fixtures/regressions) for the right side")


def require_applies(regression: Regression | None, system: str) -> None:
    """A catalogue entry is switched on only in the system it was written for (CliError otherwise)."""
    if regression is not None and system != regression.base:
        raise CliError(f"regression {regression.name} applies to {regression.base}, not {system}")


@contextlib.contextmanager
def right_side(right: System, regression: Regression | None) -> Iterator[tuple[System, VariantSystem | None]]:
    """The right system and no variant, or with a regression its variant (built for the block, removed after)."""
    if regression is None:
        yield right, None
        return
    with regressed_system(regression) as variant:
        yield variant.system, variant


def require_backend(name: str) -> str:
    """The backend name, checked once before the run to be known and usable here (CliError otherwise): LocalStack
    answering, moto's server installed and its port free."""
    if name not in BACKENDS:
        raise CliError(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})")
    try:
        available, reason = backend_available(name)
    except (OSError, ValueError, http.client.HTTPException) as problem:  # e.g. LOCALSTACK_HOST=host:notaport
        available, reason = False, f"{type(problem).__name__}: {problem}"
    if available and name == "moto-server":
        available, reason = moto_server_port_free()
    if not available:
        raise CliError(f"backend {name} is not available: {reason}")
    return name


def moto_server_port_free() -> tuple[bool, str]:
    """Whether moto's server can listen on its port ($DRS_PARITY_MOTO_PORT, default 4566) on 127.0.0.1, and why not."""
    text = os.environ.get(MOTO_PORT_ENV, str(DEFAULT_MOTO_PORT))
    if not text.isdigit() or int(text) > 65535:
        return False, f"{MOTO_PORT_ENV} must be a port number (0 picks a free one), not {text!r}"
    port = int(text)
    if port == 0:
        return True, "moto's server listens on a free port"
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as problem:
            return False, (f"port 127.0.0.1:{port} is taken ({problem.strerror}); set {MOTO_PORT_ENV} to a free "
                           f"port")
    return True, f"moto's server can listen on 127.0.0.1:{port}"

