"""Report files: paths checked before the run, an earlier run's reports removed, every file written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from drs_parity.report import files
from drs_parity.report.files import (
    OutputError, prepare_outputs, report_outputs, require_writable_file, write_atomically, write_reports,
)
from tests.harness.report.test_report import BROKEN, MONOLITH, parity

EARLIER = "an earlier run's report: PARITY"


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def seeded(folder: Path) -> Path:
    """A report folder holding an earlier run's four reports, a stray temporary file and a file of the user's."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "report.md", "report.html", "junit.xml", ".report.json.abc123.tmp"):
        (folder / name).write_text(EARLIER)
    (folder / "notes.txt").write_text("mine")
    return folder


def test_prepare_removes_an_earlier_runs_reports_and_stray_temporary_files_only(tmp_path: Path) -> None:
    out = seeded(tmp_path / "out")
    prepare_outputs(report_outputs(out))
    assert listing(out) == ["notes.txt"]


def test_a_junit_path_elsewhere_is_checked_and_cleared_too(tmp_path: Path) -> None:
    junit = seeded(tmp_path / "ci") / "junit.xml"
    prepare_outputs(report_outputs(tmp_path / "out", junit))
    assert not junit.exists()
    assert listing(tmp_path / "ci") == [".report.json.abc123.tmp", "notes.txt", "report.html", "report.json",
                                        "report.md"]  # only what this run would write is cleared


@pytest.mark.parametrize(("occupied", "junit", "message"), [
    ("out", None, "cannot write the report to {root}/out: it is not a folder"),
    ("ci", "ci/junit.xml", "cannot write the JUnit XML to {root}/ci: it is not a folder"),
    ("ci", "ci/sub/junit.xml", "cannot write the JUnit XML to {root}/ci/sub: Not a directory"),
    (None, "junit.xml", "cannot write the JUnit XML to {root}/junit.xml: it is a folder"),
])
def test_an_output_path_that_cannot_be_written_is_one_line_and_nothing_is_removed(
        tmp_path: Path, occupied: str | None, junit: str | None, message: str) -> None:
    if occupied:
        (tmp_path / occupied).write_text("a file where a folder is wanted")
    if junit == "junit.xml":
        (tmp_path / junit).mkdir()  # a folder where a file is wanted
    earlier = seeded(tmp_path / "earlier")
    outputs = {earlier / "report.json": "the report", **report_outputs(tmp_path / "out",
                                                                      tmp_path / junit if junit else None)}
    with pytest.raises(OutputError) as error:
        prepare_outputs(outputs)
    assert str(error.value).startswith(message.format(root=tmp_path)) and "\n" not in str(error.value)
    assert (earlier / "report.json").read_text() == EARLIER  # checked first, removed only once all are usable


def test_a_folder_that_refuses_files_is_found_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(**kwargs: Any) -> Any:
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    with pytest.raises(OutputError, match="cannot write the timeline to .*: Read-only file system"):
        require_writable_file(tmp_path / "timeline.json", "the timeline")


def test_write_reports_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_reports(parity(MONOLITH, BROKEN), tmp_path)
    assert listing(tmp_path) == ["junit.xml", "report.html", "report.json", "report.md"]
    assert (tmp_path / "report.json").read_text().endswith("}\n")


def test_reports_get_the_permissions_of_an_ordinary_file(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_reports(parity(MONOLITH, BROKEN), tmp_path)
    finally:
        os.umask(previous)
    assert {oct(path.stat().st_mode & 0o777) for path in tmp_path.iterdir()} == {"0o644"}


def test_a_report_that_fails_to_render_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: Any) -> str:
        raise KeyboardInterrupt
    monkeypatch.setattr(files, "to_junit", broken)
    with pytest.raises(KeyboardInterrupt):
        write_reports(parity(MONOLITH, BROKEN), tmp_path)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("failing_call", [1, 3, 6])  # a temporary file, the first rename, a later rename
def test_a_write_that_fails_midway_leaves_no_report_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           failing_call: int) -> None:
    calls = {"n": 0}
    real_fdopen, real_replace = os.fdopen, os.replace

    def counted(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == failing_call:
                raise OSError(28, "No space left on device", str(args[0]))
            return real(*args, **kwargs)
        return call
    monkeypatch.setattr(files.os, "fdopen", counted(real_fdopen))
    monkeypatch.setattr(files.os, "replace", counted(real_replace))
    with pytest.raises(OutputError, match="cannot write the report: .*No space left on device"):
        write_reports(parity(MONOLITH, BROKEN), tmp_path)
    assert listing(tmp_path) == []


def test_an_interrupted_write_leaves_the_earlier_file_whole_and_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "timeline.json"
    target.write_text(EARLIER)

    class Interrupted:
        def __init__(self, descriptor: int, *args: Any, **kwargs: Any) -> None:
            self.stream = open(descriptor, "w", encoding="utf-8")

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.stream.close()

        def write(self, text: str) -> None:
            self.stream.write(text[:10])  # half written, then Ctrl-C
            raise KeyboardInterrupt
    monkeypatch.setattr(files.os, "fdopen", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, '{"steps": []}' * 100, "the timeline")
    assert listing(tmp_path) == ["timeline.json"] and target.read_text() == EARLIER
