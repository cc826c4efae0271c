"""Planting a difference the way a user would: a system description with an override, or a patched copy of a side."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from drs_parity.fixtures.system import load_system

REPO = Path(__file__).resolve().parents[3]
DECOMPOSED_SYSTEM = REPO / "fixtures" / "systems" / "decomposed.yaml"


def system_with_environment(tmp_path: Path, environment: dict[str, str], name: str = "decomposed-env") -> object:
    """The decomposed system description with an extra `environment:` override, as a user's own file."""
    description = yaml.safe_load(DECOMPOSED_SYSTEM.read_text())
    description.update(name=name, environment=environment, template=str(REPO / "decomposed" / "template.yaml"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(description))
    return load_system(path)


def patched_copy(tmp_path: Path, package: str, file: str, old: str, new: str) -> object:
    """decomposed/ copied to tmp_path as `package` with one line of `file` patched; its system description loaded.

    The copy gets a distinct package name (its imports and handler strings renamed) so it never shadows the real one.
    """
    target = tmp_path / package
    shutil.copytree(REPO / "decomposed", target, ignore=shutil.ignore_patterns("__pycache__"))
    for source in [*target.rglob("*.py"), target / "template.yaml"]:
        source.write_text(source.read_text().replace("decomposed.", f"{package}."))
    patched = target / file
    text = patched.read_text()
    assert text.count(old) == 1, f"the patch must change exactly one line of {file}"
    patched.write_text(text.replace(old, new))
    description = yaml.safe_load(DECOMPOSED_SYSTEM.read_text())
    description.update(name=package, template=str(target / "template.yaml"))
    path = tmp_path / f"{package}.yaml"
    path.write_text(yaml.safe_dump(description))
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))  # the function host imports handler strings: the copy must be importable
    return load_system(path)
