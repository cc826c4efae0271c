"""The import contracts of pyproject.toml hold: harness layers in data-flow order, a reference pair that stands alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What lint-imports reads from its working folder: the contracts and, under their package names, the checkout's
# folders they name.
LAYOUT = {"pyproject.toml": "pyproject.toml", "drs_parity": "harness", "monolithic": "monolithic",
          "decomposed": "decomposed"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports in `root`: it reads the config found there and puts that folder first on the path."""
    script = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    env = {**os.environ, "COLUMNS": "250"}  # one line per import chain, so the output can be searched
    env.pop("PYTHONPATH", None)
    return subprocess.run([script, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def lay_out(root: Path, place: Callable[[Path, Path], object]) -> Path:
    """`root` holds the checkout's folders under their package names: the checkout is checked, however installed."""
    root.mkdir(exist_ok=True)
    for name, source in LAYOUT.items():
        place(REPO / source, root / name)
    return root


def copy(source: Path, target: Path) -> None:
    if source.is_file():
        shutil.copy(source, target)
    else:
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("reference", "__pycache__"))


def plant(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}  # planted\n")


def test_import_contracts_hold(tmp_path: Path) -> None:
    done = lint_imports(lay_out(tmp_path / "root", lambda source, target: target.symlink_to(source)))
    assert done.returncode == 0, f"import contracts broken:\n{done.stdout}{done.stderr}"
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_each_contract_catches_a_planted_import(tmp_path: Path) -> None:
    root = lay_out(tmp_path / "root", copy)
    plant(root / "drs_parity" / "errors.py", "import drs_parity.cli.main")
    plant(root / "monolithic" / "handler.py", "import decomposed.layer.shared.config")
    plant(root / "decomposed" / "layer" / "shared" / "config.py", "import drs_parity.errors")
    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    for chain in ("drs_parity.errors -> drs_parity.cli.main", "monolithic.handler -> decomposed.layer.shared.config",
                  "decomposed.layer.shared.config -> drs_parity.errors"):
        assert chain in done.stdout, done.stdout
    assert "Contracts: 0 kept, 3 broken." in done.stdout, done.stdout
