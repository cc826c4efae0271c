"""Every user mistake on the command line, for every subcommand, is one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Iterator

import pytest

from drs_parity.cli import doctor as doctor_module
from drs_parity.cli import drs_emulator as emulator_module
from drs_parity.cli import registry
from drs_parity.cli import run as run_module
from drs_parity.cli import side as side_module
from drs_parity.cli import smoke as smoke_module
from drs_parity.cli.main import main
from drs_parity.gate import doctor_run
from drs_parity.world.backends import MOTO_PORT_ENV
from tests.harness.cli.test_cli import assert_one_line_error

# (argv, a fragment of the one-line error); files named here are made by the `workdir` fixture
MISTAKES: list[tuple[str, str]] = [
    ("scenarios --bogus", "unrecognized arguments: --bogus (see drs-parity scenarios --help)"),
    ("run --output x", "unrecognized arguments: --output x (see drs-parity run --help)"),
    ("--bogus", "unrecognized arguments: --bogus (see drs-parity --help)"),
    ("smoke --scenario nope", "unknown scenario 'nope'"),
    ("smoke --scenario binary.yaml", "binary.yaml: not UTF-8 text"),
    ("smoke --backend azure", "unknown backend 'azure'"),
    ("side --system nope --scenario two-wave-drill", "unknown system 'nope'"),
    ("side --system monolithic --scenario nope", "unknown scenario 'nope'"),
    ("side --system monolithic --scenario broken.yaml", "broken.yaml:3: not valid YAML"),
    ("side --system broken.yaml --scenario two-wave-drill", "broken.yaml:3: not valid YAML"),
    ("side --system monolithic --scenario two-wave-drill --json folder", "cannot write the timeline to folder"),
    ("side --system monolithic --scenario two-wave-drill --json file/x.json", "cannot write the timeline to file"),
    ("side --system monolithic --scenario two-wave-drill --backend azure", "unknown backend 'azure'"),
    ("side --system monolithic", "the following arguments are required: --scenario"),
    ("run --scenario nope", "unknown scenario 'nope'"),
    ("run --left nope", "unknown system 'nope'"),
    ("run --right nope", "unknown system 'nope'"),
    ("run --rules missing.yaml", "missing.yaml: rules file not found"),
    ("run --rules folder", "folder: a folder, not a rules file"),
    ("run --rules broken.yaml", "broken.yaml"),
    ("run --rules binary.yaml", "binary.yaml: not UTF-8 text"),
    ("run --right-regression nope", "unknown regression 'nope'"),
    ("run --right-regression poller-name-wrong --right monolithic", "applies to decomposed, not monolithic"),
    ("run --jobs 0", "argument --jobs: must be a whole number of at least 1, not '0'"),
    ("run --jobs many", "argument --jobs: must be a whole number of at least 1, not 'many'"),
    ("run --format xml", "argument --format: invalid choice: 'xml'"),
    ("run --out file", "cannot write the report to file: it is not a folder"),
    ("run --junit folder", "cannot write the JUnit XML to folder: it is a folder, not a file"),
    ("run --noise-cache file", "cannot write the noise cache to file: it is not a folder"),
    ("run --backend azure", "unknown backend 'azure'"),
    ("run --shard 0/2", "--shard must be K/N, shard K of N with 1 <= K <= N (for example 1/3), not '0/2'"),
    ("run --shard 3/2", "--shard must be K/N, shard K of N with 1 <= K <= N (for example 1/3), not '3/2'"),
    ("run --shard a/b", "--shard must be K/N, shard K of N with 1 <= K <= N (for example 1/3), not 'a/b'"),
    ("run --shard 2", "--shard must be K/N, shard K of N with 1 <= K <= N (for example 1/3), not '2'"),
    ("merge", "the following arguments are required: OUT, REPORT.json"),
    ("merge out", "the following arguments are required: REPORT.json"),
    ("merge out missing.json", "cannot read missing.json: No such file or directory"),
    ("merge out folder", "cannot read folder: Is a directory"),
    ("merge out not.json", "not.json is not a drs-parity report: not JSON"),
    ("merge out binary.yaml", "binary.yaml is not a drs-parity report: not JSON"),
    ("merge out not.json --format xml", "argument --format: invalid choice: 'xml'"),
    ("doctor --system nope", "unknown system 'nope'"),
    ("doctor --scenario nope", "unknown scenario 'nope'"),
    ("doctor --regression nope", "unknown regression 'nope'"),
    ("doctor --timeline missing.json", "cannot read missing.json: No such file or directory"),
    ("doctor --timeline folder", "cannot read folder"),
    ("doctor --timeline not.json", "not.json is not JSON"),
    ("doctor --timeline binary.yaml", "binary.yaml is not JSON"),
    ("doctor --backend azure", "unknown backend 'azure'"),
    ("faults --fault nope", "unknown fault 'nope' (known: drs-describe-jobs-throttled, "),
    ("faults --scenario nope", "unknown scenario 'nope'"),
    ("faults --left nope", "unknown system 'nope'"),
    ("faults --right-regression poller-name-wrong --right monolithic", "applies to decomposed, not monolithic"),
    ("faults --jobs 0", "argument --jobs: must be a whole number of at least 1, not '0'"),
    ("faults --out file", "cannot write the fault matrix to file: it is not a folder"),
    ("faults --backend azure", "unknown backend 'azure'"),
    ("faults --fault poller-timeout-after-start --scenario cancel-wave-1",
     "no fault of poller-timeout-after-start applies to cancel-wave-1"),
    ("drs-emulator --port x --scenario two-wave-drill", "argument --port: invalid int value: 'x'"),
    ("drs-emulator --port 70000 --scenario two-wave-drill", "--port must be between 1 and 65535, got 70000"),
    ("drs-emulator --port 1 --scenario nope", "unknown scenario 'nope'"),
    ("drs-emulator --scenario two-wave-drill", "the following arguments are required: --port"),
    ("frobnicate", "invalid choice: 'frobnicate'"),
    ("", "a command is required"),
]
# (argv, environment, fragment): the backend, checked once before anything runs
BACKEND_MISTAKES: list[tuple[str, dict[str, str], str]] = [
    ("doctor --backend moto-server", {MOTO_PORT_ENV: "99999"}, f"{MOTO_PORT_ENV} must be a port number"),
    ("side --system monolithic --scenario two-wave-drill --backend moto-server", {MOTO_PORT_ENV: "four"},
     f"{MOTO_PORT_ENV} must be a port number"),
    ("smoke --backend localstack", {"LOCALSTACK_HOST": "127.0.0.1:notaport"}, "backend localstack is not available"),
    ("run --backend localstack", {"LOCALSTACK_HOST": "127.0.0.1:1"}, "LocalStack not reachable at 127.0.0.1:1"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the mistaken files; nothing that would run a side is reachable."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00 not text")
    (tmp_path / "broken.yaml").write_text("name: broken\nsteps: [\n")
    (tmp_path / "not.json").write_text("{not json")
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "folder").mkdir()

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a mistaken command line went on to run")

    for module, name in ((side_module, "run_side"), (run_module, "run_parity"), (doctor_run, "doctor_side"),
                         (smoke_module, "World"), (emulator_module, "serve_forever")):
        monkeypatch.setattr(module, name, never)
    return tmp_path


def expect_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize(("argv", "fragment"), MISTAKES, ids=[argv or "(none)" for argv, _ in MISTAKES])
def test_a_command_line_mistake_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], workdir: Path,
                                                       argv: str, fragment: str) -> None:
    expect_one_line_exit_2(capsys, argv.split(), fragment)


@pytest.mark.parametrize(("argv", "environment", "fragment"), BACKEND_MISTAKES,
                         ids=[argv for argv, _, _ in BACKEND_MISTAKES])
def test_an_unusable_backend_is_one_line_and_exit_2_before_anything_runs(
        capsys: pytest.CaptureFixture[str], workdir: Path, monkeypatch: pytest.MonkeyPatch, argv: str,
        environment: dict[str, str], fragment: str) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    expect_one_line_exit_2(capsys, argv.split(), fragment)


@pytest.fixture
def taken_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A loopback port another socket holds, named as moto's server port."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = int(holder.getsockname()[1])
        monkeypatch.setenv(MOTO_PORT_ENV, str(port))
        yield port


@pytest.mark.parametrize("argv", ["doctor", "side --system monolithic --scenario two-wave-drill", "smoke",
                                  "run --scenario two-wave-drill"])
def test_a_taken_moto_server_port_is_refused_before_the_run(capsys: pytest.CaptureFixture[str], workdir: Path,
                                                             taken_port: int, argv: str) -> None:
    expect_one_line_exit_2(capsys, [*argv.split(), "--backend", "moto-server"],
                           f"backend moto-server is not available: port 127.0.0.1:{taken_port} is taken")


def test_every_subcommand_is_swept_with_mistakes() -> None:
    swept = {argv.split()[0] for argv, _ in MISTAKES if argv}
    assert {command.name for command in registry.SUBCOMMANDS} <= swept, "add mistaken command lines for new commands"
