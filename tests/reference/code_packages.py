"""The reference pair's modules for tests, loaded as the function host loads them: per function, own namespace."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

from drs_parity.world.code import CodePackage

REPO = Path(__file__).resolve().parents[2]
MONOLITH_TEMPLATE = REPO / "monolithic" / "template.yaml"
DECOMPOSED_TEMPLATE = REPO / "decomposed" / "template.yaml"


@functools.cache
def code_package(template: Path, logical_id: str) -> CodePackage:
    """One function's code folder and layers, read from its template; one namespace per function for the session."""
    return CodePackage.of_function(template, logical_id)


def monolith(module: str) -> ModuleType:
    """A module of the monolith's ApiHandlerFunction (`domain`, `errors`, ...)."""
    return code_package(MONOLITH_TEMPLATE, "ApiHandlerFunction").module(module)


def decomposed(logical_id: str, module: str) -> ModuleType:
    """A module of one decomposed function: its own (`rules`) or its shared layer's (`shared.errors`)."""
    return code_package(DECOMPOSED_TEMPLATE, logical_id).module(module)
