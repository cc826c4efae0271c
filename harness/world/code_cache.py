"""Function code compiled once: a code folder's source files, kept per process and between runs until a file changes."""

# Every side imports the functions' code afresh (each world gets fresh module objects), and without .pyc files
# (PYTHONDONTWRITEBYTECODE) each import compiled every source file again: ~50 files a side. A code object is
# immutable, so one per source file serves every side; executing it makes a fresh module every time, with state of
# its own. Only the code folders of code packages are served this way: the path hook below answers for them and
# their subfolders, with the standard FileFinder and loaders but for the source loader, which remembers what it
# compiled under (path, mtime_ns, size). The code objects are kept between runs too, marshalled in the load cache
# (drs_parity.fixtures.disk_cache) as __pycache__ would keep them: a new process unmarshals instead of compiling.
# Not for files under the temporary folder (a regression's copy of a side's code, a test's): each run has new
# paths there, so their entries would only pile up.

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import tempfile
import threading
from importlib.machinery import (BYTECODE_SUFFIXES, EXTENSION_SUFFIXES, SOURCE_SUFFIXES, ExtensionFileLoader,
                                 FileFinder, SourceFileLoader, SourcelessFileLoader)
from types import CodeType
from typing import Iterable

from drs_parity.fixtures.disk_cache import Signature, derived_file_cache, file_signature

_lock = threading.Lock()
_folders: frozenset[str] = frozenset()  # code folders served (realpath, trailing separator); replaced, never changed
_compiled: dict[str, tuple[Signature, CodeType]] = {}  # source path -> (its (mtime_ns, size), code)
CODE_KIND = "code"
# what a code object depends on besides its source: the interpreter's bytecode and the optimisation level
CODE_TAG = f"{sys.implementation.cache_tag} {importlib.util.MAGIC_NUMBER.hex()} -O{sys.flags.optimize}"


class CachedSourceLoader(SourceFileLoader):
    """SourceFileLoader whose code object is compiled once per (path, mtime_ns, size)."""

    def get_code(self, fullname: str) -> CodeType | None:
        path = self.get_filename(fullname)
        before = file_signature(path)
        cached = _compiled.get(path)
        if cached is not None and before is not None and cached[0] == before:
            return cached[1]
        kept = _kept_code(path, before)
        code = kept or super().get_code(fullname)
        if code is not None and before is not None and file_signature(path) == before:  # unchanged while compiling
            _compiled[path] = (before, code)
            if kept is None:
                _keep_code(path, before, code)
        return code


def _kept_between_runs(path: str) -> bool:
    """Whether `path`'s code is kept in the load cache: not under the temporary folder."""
    temporary = os.path.join(os.path.realpath(tempfile.gettempdir()), "")
    return not os.path.realpath(path).startswith(temporary)


def _kept_code(path: str, signature: Signature | None) -> CodeType | None:
    """The code compiled from `path` in an earlier run, while the file still has `signature`."""
    cache = derived_file_cache() if _kept_between_runs(path) else None
    data = cache.read(CODE_KIND, CODE_TAG, path, signature) if cache is not None and signature is not None else None
    if data is None:
        return None
    try:
        code = marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # a corrupt entry: compiled again and written over
        return None
    return code if isinstance(code, CodeType) else None


def _keep_code(path: str, signature: Signature, code: CodeType) -> None:
    cache = derived_file_cache() if _kept_between_runs(path) else None
    if cache is not None:
        cache.write(CODE_KIND, CODE_TAG, path, signature, marshal.dumps(code))


def _serves(path: str) -> bool:
    folder = os.path.join(os.path.realpath(path or os.getcwd()), "")
    return any(folder.startswith(served) for served in _folders)


class CodeFolderFinder(FileFinder):
    """The standard finder of a folder (same loaders, same order) with the caching source loader."""


def _code_folder_finder(path: str) -> FileFinder:
    """sys.path_hooks entry: a CodeFolderFinder for served folders; others are left to the next hook."""
    if not _serves(path) or not os.path.isdir(path or os.getcwd()):
        raise ImportError("not a code folder of a function", path=path)
    return CodeFolderFinder(path, (ExtensionFileLoader, EXTENSION_SUFFIXES), (CachedSourceLoader, SOURCE_SUFFIXES),
                            (SourcelessFileLoader, BYTECODE_SUFFIXES))


def serve_code_folders(folders: Iterable[str]) -> None:
    """Import modules of `folders` (and their subfolders) through the compiled-code cache from now on."""
    global _folders
    new = {os.path.join(os.path.realpath(folder), "") for folder in folders} - _folders
    if not new:
        return
    with _lock:
        _folders = _folders | new  # a hook running in another thread reads the whole old set or the new one
        if _code_folder_finder not in sys.path_hooks:
            sys.path_hooks.insert(0, _code_folder_finder)
        for entry, finder in list(sys.path_importer_cache.items()):  # what was found for them before: asked again
            if (finder is None or type(finder) is FileFinder) and _serves(entry):
                del sys.path_importer_cache[entry]
