"""Calibration noise kept by content: reused only while a side's template, code, scenario and the harness are unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import drs_parity
from drs_parity.compare.divergence import NoiseEntry
from drs_parity.fixtures.cloudformation import read_template
from drs_parity.fixtures.disk_cache import cache_root, write_atomically
from drs_parity.world.code import package_template

FORMAT = 1  # bump when what a key covers or what an entry holds changes
SKIPPED_PARTS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".tox"}
HARNESS_FOLDER = Path(drs_parity.__file__).resolve().parent


def default_cache_folder() -> Path:
    """The tool's cache folder (fixtures.disk_cache.cache_root: $DRS_PARITY_CACHE, else the user's cache folder)."""
    return cache_root()


def files_under(path: Path) -> Iterator[Path]:
    """`path` itself (a file) or every file under it (a folder), in a stable order, caches and VCS folders left out."""
    if path.is_file():
        yield path
        return
    for found in sorted(path.rglob("*")):
        if found.is_file() and not SKIPPED_PARTS.intersection(found.relative_to(path).parts) \
                and found.suffix != ".pyc":
            yield found


def content_digest(paths: Iterable[Path]) -> str:
    """One SHA-256 over the names and bytes of every file under `paths` (a missing path counts as missing)."""
    digest = hashlib.sha256()
    for root in sorted({path.resolve() for path in paths}):
        digest.update(f"\0root {root} {root.exists()}\0".encode())
        for file in files_under(root) if root.exists() else ():
            digest.update(f"\0file {file.relative_to(root) if file != root else ''}\0".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def side_inputs(system: Any, scenario: Any) -> list[Path] | None:
    """Everything one side's run of one scenario is made of: system description, template, its code folders and
    layers, the default code folder, the scenario file and the harness itself; None when they are not all files."""
    paths = [getattr(system, "path", None), getattr(system, "template", None), getattr(scenario, "path", None)]
    if not all(isinstance(path, Path) and path.exists() for path in paths):
        return None
    template_path = Path(system.template)
    packaged = package_template(read_template(template_path), template_path.parent)
    folders = [folder for code in packaged.code.values() for folder in (code.folder, *code.layers) if folder]
    default_code = getattr(system, "code", None) or Path.cwd()
    if any(code.folder is None for code in packaged.code.values()) or not packaged.code:
        folders.append(Path(default_code))
    return [*paths, *folders, template_path.parent, HARNESS_FOLDER]


class NoiseCache:
    """Noise per side input, in memory for the run and (given a folder) on disk as one JSON file per key."""

    def __init__(self, folder: Path | None = None) -> None:
        """`folder`: where entries are kept between runs (None: this run only)."""
        self.folder = folder
        self._memory: dict[str, list[NoiseEntry]] = {}

    def key(self, system: Any, scenario: Any, label: str, context: str) -> str | None:
        """The content key of one side's calibration (None: the inputs cannot be hashed, so never reused).
        `context` holds what else decides the run: backend, clock start, normalisation options."""
        try:
            inputs = side_inputs(system, scenario)
        except Exception:  # an unreadable template is the run's error to report, not the cache's
            return None
        if inputs is None:
            return None
        # faults added from outside the scenario's file (a catalogue entry's `faults:`) change the run: keyed too
        faults = json.dumps([fault.to_dict() for fault in getattr(scenario, "faults", ())], sort_keys=True)
        return hashlib.sha256(
            f"{FORMAT}\0{label}\0{context}\0{faults}\0{content_digest(inputs)}".encode()).hexdigest()

    def get(self, key: str | None) -> list[NoiseEntry] | None:
        """The noise found earlier for `key`, or None."""
        if key is None:
            return None
        if key not in self._memory and self.folder is not None:
            entries = self._read(self.folder / f"{key}.json")
            if entries is not None:
                self._memory[key] = entries
        return self._memory.get(key)

    def put(self, key: str | None, noise: list[NoiseEntry]) -> None:
        """Keep `noise` for `key` (on disk too, written atomically; an unwritable cache is only not kept)."""
        if key is None:
            return
        self._memory[key] = list(noise)
        if self.folder is not None:
            try:
                self._write(self.folder / f"{key}.json", [entry.to_dict() for entry in noise])
            except (OSError, TypeError, ValueError):
                pass

    @staticmethod
    def _read(path: Path) -> list[NoiseEntry] | None:
        """The entries kept at `path`; None when there are none or they cannot be read (then the side runs again)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return [NoiseEntry.from_dict(entry) for entry in data["noise"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def _write(path: Path, noise: list[dict[str, Any]]) -> None:
        """`noise` kept at `path`: a temporary file renamed over it, so a reader never sees half an entry."""
        write_atomically(path, json.dumps({"format": FORMAT, "noise": noise}, sort_keys=True).encode("utf-8"))
