"""Function code compiled once: a code object per unchanged source file, kept between runs, fresh modules each time."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Callable

import pytest

from drs_parity.fixtures.disk_cache import LOAD_CACHE_ENV
from drs_parity.world import code_cache
from drs_parity.world.code import CodePackage
from drs_parity.world.code_cache import CachedSourceLoader
from drs_parity.world.world import World
from tests.harness.world.test_code_packages import TEMPLATE

COUNTER = textwrap.dedent("""\
    SEEN = []


    def handler(event, context):
        SEEN.append(event)
        return len(SEEN)
""")


def write(path: Path, text: str, mtime_ns: int | None = None) -> None:
    path.write_text(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_two_packages_of_one_folder_share_the_code_object_but_never_module_state(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(COUNTER)
    first, second = CodePackage(tmp_path).module("app"), CodePackage(tmp_path).module("app")

    assert first.handler(1, None) == 1 and first.handler(2, None) == 2
    assert second.handler(3, None) == 1 and second.SEEN == [3]  # its own module: nothing of the first
    assert first is not second
    assert first.handler.__code__ is second.handler.__code__  # compiled once
    assert isinstance(first.__loader__, CachedSourceLoader)


def test_a_changed_file_is_compiled_again(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    write(source, "VALUE = 1\n", mtime_ns=1_700_000_000_000_000_000)
    before = CodePackage(tmp_path).module("app")
    write(source, "VALUE = 22\n", mtime_ns=1_700_000_000_000_000_000)  # same time, another size
    grown = CodePackage(tmp_path).module("app")
    write(source, "VALUE = 33\n", mtime_ns=1_700_000_000_000_000_001)  # same size, another time
    touched = CodePackage(tmp_path).module("app")

    assert (before.VALUE, grown.VALUE, touched.VALUE) == (1, 22, 33)


def test_modules_of_subpackages_and_layers_load_through_the_cache(tmp_path: Path) -> None:
    (tmp_path / "code" / "pkg").mkdir(parents=True)
    (tmp_path / "layer").mkdir()
    (tmp_path / "code" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "code" / "pkg" / "inner.py").write_text("NAME = 'inner'\n")
    (tmp_path / "layer" / "helper.py").write_text("NAME = 'helper'\n")
    package = CodePackage(tmp_path / "code", tmp_path / "layer")

    loaders = [package.module(name).__loader__ for name in ("pkg", "pkg.inner", "helper")]

    assert all(isinstance(loader, CachedSourceLoader) for loader in loaders)
    assert "pkg" not in sys.modules and "helper" not in sys.modules


def test_a_module_edited_by_one_side_is_fresh_in_the_next_sides_world() -> None:
    answers = []
    for _ in range(2):
        with World("moto") as world:
            stack = world.deploy(TEMPLATE, "team")
            world.host.load(stack)
            answers.append([world.host.invoke("orders", {}).result["invocations"] for _ in range(2)])

    assert answers == [[1, 2], [1, 2]]  # the second world's module starts from its own first line


@pytest.fixture
def new_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The load cache in `tmp_path`; calling the result forgets what this process compiled, as a new run would."""
    monkeypatch.setenv(LOAD_CACHE_ENV, str(tmp_path / "loads"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))  # tmp_path's files are kept, as a user's
    return lambda: monkeypatch.setattr(code_cache, "_compiled", {})


def test_a_new_process_reads_the_code_compiled_by_an_earlier_one_instead_of_compiling(
        tmp_path: Path, new_process: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "code").mkdir()
    write(tmp_path / "code" / "app.py", COUNTER)
    CodePackage(tmp_path / "code").module("app")
    new_process()
    monkeypatch.setattr(CachedSourceLoader, "source_to_code", lambda *_: pytest.fail("compiled again"))

    module = CodePackage(tmp_path / "code").module("app")

    assert module.handler("event", None) == 1 and module.__file__ == str(tmp_path / "code" / "app.py")


def test_a_new_process_compiles_a_file_changed_since_or_a_corrupt_entry_again(
        tmp_path: Path, new_process: Callable[[], None]) -> None:
    (tmp_path / "code").mkdir()
    source = tmp_path / "code" / "app.py"
    write(source, "VALUE = 1\n", mtime_ns=1_700_000_000_000_000_000)
    CodePackage(tmp_path / "code").module("app")
    new_process()
    write(source, "VALUE = 2\n", mtime_ns=1_700_000_000_000_000_001)
    changed = CodePackage(tmp_path / "code").module("app").VALUE
    new_process()
    for entry in (tmp_path / "loads" / "code").iterdir():
        entry.write_bytes(entry.read_bytes()[:-8])  # the header intact, the marshalled code cut short

    assert (changed, CodePackage(tmp_path / "code").module("app").VALUE) == (2, 2)


def test_code_under_the_temporary_folder_is_not_kept_between_runs(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOAD_CACHE_ENV, str(tmp_path / "loads"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a regression's copy of a side's code lives there
    (tmp_path / "copy").mkdir()
    write(tmp_path / "copy" / "app.py", COUNTER)

    assert CodePackage(tmp_path / "copy").module("app").handler("event", None) == 1
    assert not (tmp_path / "loads").exists()
