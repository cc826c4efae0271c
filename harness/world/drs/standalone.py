"""The standalone DRS emulator (`drs-parity drs-emulator`): a scenario's DRS served over HTTP in wall time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import yaml

from drs_parity.errors import EnvironmentProblem

from .emulator import DrsEmulator


class WallClock:
    """Real time with VirtualClock's reading interface, for the standalone server."""

    def __init__(self) -> None:
        self.start = time.time()

    def now(self) -> float:
        return time.time()


def load_scenario_sections(scenario_path: str) -> dict[str, Any]:
    """The `drs`, `sourceServers` and `faults` sections of a scenario YAML file; ValueError names what is wrong."""
    path = Path(scenario_path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{scenario_path}: cannot read scenario ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{scenario_path}: cannot read scenario (not UTF-8 text)") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{scenario_path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{scenario_path}: a scenario must be a YAML mapping")
    # a server without a region replicates in the scenario's region, as in a harness run (fixtures/README.md)
    region = document.get("region")
    servers = [{"region": region, **server} if region and isinstance(server, dict) else server
               for server in document.get("sourceServers") or []]
    return {"drs_config": document.get("drs") or {}, "source_servers": servers, "faults": document.get("faults") or []}


def announce_listening(url: str) -> None:
    print(f"DRS emulator listening on {url} (AWS_ENDPOINT_URL_DRS={url})", flush=True)


def serve_forever(scenario_path: str, port: int, announce: Callable[[str], None] = announce_listening) -> None:
    """`drs-parity drs-emulator`: serve a scenario's DRS on 127.0.0.1:port in wall time until Ctrl-C.

    `announce(url)` runs once the port is bound; a port that cannot be bound is an EnvironmentProblem.
    """
    sections = load_scenario_sections(scenario_path)
    emulator = DrsEmulator(WallClock())
    try:
        emulator.load(**sections)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{scenario_path}: {error}") from None
    try:
        server = emulator.serve(port=port)
    except OSError as error:
        raise EnvironmentProblem(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
    try:
        announce(server.url)  # inside: Ctrl-C right after the banner still stops the server and exits 0
        while True:  # short sleeps: Ctrl-C delivered to a server thread is only acted on when the main thread wakes
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
