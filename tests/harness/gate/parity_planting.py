"""Planting a difference the way a user would: a system description with an override, or a patched copy of a side."""

from __future__ import annotations

import shutil
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


def patched_copy(tmp_path: Path, name: str, file: str, old: str, new: str) -> object:
    """decomposed/ (template and code folders) copied to tmp_path/`name` with one line of `file` patched; its system.

    The copy's template names its code folders relative to itself, so the copy deploys its own patched code; the
    function host imports each function in its own module namespace, so nothing is renamed or put on sys.path.
    """
    target = tmp_path / name
    shutil.copytree(REPO / "decomposed", target, ignore=shutil.ignore_patterns("__pycache__"))
    patched = target / file
    text = patched.read_text()
    assert text.count(old) == 1, f"the patch must change exactly one line of {file}"
    patched.write_text(text.replace(old, new))
    description = yaml.safe_load(DECOMPOSED_SYSTEM.read_text())
    description.update(name=name, template=str(target / "template.yaml"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(description))
    return load_system(path)
