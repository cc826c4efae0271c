"""Regenerate the module map in docs/internals.md from each harness module's one-line docstring."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "harness"
INTERNALS = ROOT / "docs" / "internals.md"
START, END = "<!-- module-map:start", "<!-- module-map:end -->"
LAYERS = ["__init__", "errors", "fixtures", "world", "run", "compare", "diagnose", "gate", "report", "cli", "pytest_plugin"]


def dotted(path: Path) -> str:
    parts = ("drs_parity",) + path.relative_to(HARNESS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(path: Path) -> str:
    return path.relative_to(HARNESS).parts[0].removesuffix(".py")


def sort_key(path: Path) -> tuple[int, tuple[str, ...], bool, str]:
    layer = layer_of(path)
    return LAYERS.index(layer), path.relative_to(HARNESS).parts[:-1], path.name != "__init__.py", path.name


def module_map() -> str:
    modules = [p for p in HARNESS.rglob("*.py") if "reference" not in p.relative_to(HARNESS).parts]
    lines, layer = [], None
    for path in sorted(modules, key=sort_key):
        if layer_of(path) != layer:
            layer = layer_of(path)
            lines += ["", f"### `{layer}`", "", "| module | lines | owns |", "|---|---|---|"]
        text = path.read_text(encoding="utf-8")
        docstring = (ast.get_docstring(ast.parse(text)) or "").strip()
        lines.append(f"| `{dotted(path)}` | {len(text.splitlines())} | {docstring} |")
    return "\n".join(lines)


def main() -> None:
    text = INTERNALS.read_text(encoding="utf-8")
    start = text.index(START)
    start = text.index("\n", start) + 1
    end = text.index(END)
    INTERNALS.write_text(text[:start] + module_map().lstrip("\n") + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
