"""Report files: report.json, report.md, report.html and junit.xml, their paths checked first and written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Mapping

from drs_parity.errors import EnvironmentProblem
from drs_parity.gate.results import ParityResult
from drs_parity.report.html_page import to_html
from drs_parity.report.json_report import json_text
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown

REPORT_FILES = {"json": "report.json", "md": "report.md", "html": "report.html", "junit": "junit.xml"}
TEMP_SUFFIX = ".tmp"  # temporary files are `.<name>.<random>.tmp` beside their target


class OutputError(EnvironmentProblem):
    """An output file or folder that cannot be written; the message names it and why."""


# -- paths, checked before the run -----------------------------------------------------------------------------------
def report_paths(out_dir: Path, junit: Path | None = None) -> dict[str, Path]:
    """Where each report goes: `out_dir`'s files, junit.xml unless `junit` names another file."""
    paths = {kind: out_dir / name for kind, name in REPORT_FILES.items()}
    paths["junit"] = junit or paths["junit"]
    return paths


def require_writable_folder(folder: Path, what: str = "the report") -> None:
    """`folder`, created if needed, accepting new files; OutputError (one line) otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write {what} to {folder}: it is not a folder") from None
    except OSError as problem:
        raise OutputError(f"cannot write {what} to {folder}: {problem.strerror}") from None
    if not folder.is_dir():
        raise OutputError(f"cannot write {what} to {folder}: it is not a folder")
    try:  # a real file, not os.access: permissions are not the only way a folder refuses (read-only mounts)
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".drs-parity-probe-", suffix=TEMP_SUFFIX)
    except OSError as problem:
        raise OutputError(f"cannot write {what} to {folder}: {problem.strerror}") from None
    os.close(descriptor)
    os.unlink(probe)


def require_writable_file(path: Path, what: str) -> None:
    """`path` can be written: its folder accepts files and it is not itself a folder; OutputError otherwise."""
    if path.is_dir():
        raise OutputError(f"cannot write {what} to {path}: it is a folder, not a file")
    require_writable_folder(path.parent, what)


def report_outputs(out_dir: Path, junit: Path | None = None) -> dict[Path, str]:
    """Each report path with what it holds, for prepare_outputs."""
    return {path: "the JUnit XML" if kind == "junit" else "the report"
            for kind, path in report_paths(out_dir, junit).items()}


def prepare_outputs(outputs: Mapping[Path, str]) -> None:
    """Check every output path (path -> what it holds), then remove what an earlier run left there (its files and
    stray temporary files): a run that fails or is interrupted from here on leaves nothing CI could take for its own."""
    for path, what in outputs.items():
        require_writable_file(path, what)
    for path in outputs:
        remove_earlier(path)


def remove_earlier(path: Path) -> None:
    """Remove an earlier run's file at `path`, and temporary files of an interrupted write to it."""
    for stray in path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"):
        stray.unlink(missing_ok=True)
    try:
        path.unlink(missing_ok=True)
    except OSError as problem:
        raise OutputError(f"cannot remove the earlier {path}: {problem.strerror}") from None


# -- atomic writes ---------------------------------------------------------------------------------------------------
def current_umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_copy(path: Path, text: str) -> Path:
    """`text` written to a new temporary file beside `path` (same folder, so a rename replaces it atomically)."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(descriptor, 0o666 & ~current_umask())  # mkstemp's 0600 would hide reports from CI's other users
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def write_all_atomically(texts: Mapping[Path, str]) -> None:
    """Every file or none: each text goes to a temporary file first, then each is renamed over its target; on any
    failure (or an interrupt) the temporary files and the targets already replaced are removed."""
    written: dict[Path, Path] = {}
    replaced: list[Path] = []
    try:
        for path, text in texts.items():
            written[path] = temporary_copy(path, text)
        for path, temporary in written.items():
            os.replace(temporary, path)
            replaced.append(path)
    except BaseException:
        for path in [*written.values(), *replaced]:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, text: str, what: str) -> None:
    """One file written atomically; a failure is one line of OutputError."""
    try:
        write_all_atomically({path: text})
    except OSError as problem:
        raise OutputError(f"cannot write {what} to {path}: {problem.strerror}") from None


# -- the reports -----------------------------------------------------------------------------------------------------
def report_texts(result: ParityResult, paths: Mapping[str, Path]) -> dict[Path, str]:
    """Each report file's text, all rendered before any is written."""
    renderings = {"json": json_text(result),
                  "md": to_markdown(result), "html": to_html(result), "junit": to_junit(result)}
    return {paths[kind]: text for kind, text in renderings.items()}


def write_reports(result: ParityResult, out_dir: Path, junit: Path | None = None) -> dict[str, Path]:
    """report.json, report.md, report.html and junit.xml (or `junit`), all or none; returns what was written."""
    paths = report_paths(out_dir, junit)
    for path in paths.values():
        require_writable_folder(path.parent)
    try:
        write_all_atomically(report_texts(result, paths))
    except OSError as problem:
        raise OutputError(f"cannot write the report: {problem.filename or out_dir}: {problem.strerror}") from None
    return paths
