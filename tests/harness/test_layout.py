"""The harness' layout rules: every module says in one line what it owns, stays small, and is on the developers' map."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "harness"
INTERNALS = REPO / "docs" / "internals.md"
MAX_LINES = 450


def harness_modules() -> list[Path]:
    # harness/reference/ holds links to the bundled reference pair and fixtures: data, not harness code
    return sorted(path for path in HARNESS.rglob("*.py") if "reference" not in path.relative_to(HARNESS).parts)


def dotted(path: Path) -> str:
    parts = ("drs_parity",) + path.relative_to(HARNESS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = harness_modules()


def test_the_harness_has_modules() -> None:
    assert len(MODULES) > 40


@pytest.mark.parametrize("path", MODULES, ids=dotted)
def test_each_module_opens_with_a_one_line_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{dotted(path)} has no module docstring"
    assert len(docstring.strip().splitlines()) == 1, f"{dotted(path)}: the docstring is not one line"


@pytest.mark.parametrize("path", MODULES, ids=dotted)
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{dotted(path)} has {lines} lines (at most {MAX_LINES})"


def test_the_developers_map_names_every_module() -> None:
    text = INTERNALS.read_text(encoding="utf-8")
    missing = [dotted(path) for path in MODULES if path.name != "__init__.py" and f"`{dotted(path)}`" not in text]
    assert not missing, f"docs/internals.md does not list: {', '.join(missing)}"
