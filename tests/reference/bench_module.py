"""bench/calls_per_poll.py as a module for tests: a side deployed on moto, its execution set up and polled."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("calls_per_poll", ROOT / "bench" / "calls_per_poll.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("calls_per_poll", bench)  # dataclasses look their module up while the class is built
_spec.loader.exec_module(bench)
