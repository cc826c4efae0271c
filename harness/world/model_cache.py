"""botocore's and moto's JSON data, cheaper: pickled in the load cache between runs, shared by moto's Sessions."""

# Every process of a run parses the same JSON again: EC2's 4 MB model alone takes 0.17 s with botocore's
# OrderedDict hook, and it is read by six loaders in a moto world (moto makes Sessions of its own). A pickled copy
# of the parsed document loads about four times faster and equals it, so each botocore JSON file and each moto
# resource file is kept in the load cache (drs_parity.fixtures.disk_cache) and unpickled from there while the file is
# unchanged. Each load still returns a fresh document, as botocore's own does: a loader merges extras into the
# models it loads, so documents are never shared. The entries hold only JSON's types and OrderedDict; the unpickler
# refuses anything else, so an entry cannot run code. Switched off, files are parsed as botocore and moto parse them.

from __future__ import annotations

import contextlib
import gc
import io
import pickle
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import boto3
import boto3.session
import botocore
import botocore.loaders
import botocore.session

from drs_parity.fixtures.disk_cache import derived_file_cache, file_signature
from drs_parity.world.shared_patch import SharedPatch, patch_attribute

Document = TypeVar("Document")
BOTOCORE_KIND = "botocore"
MOTO_KIND = "moto"
PICKLE_PROTOCOL = 5
BOTOCORE_SESSION_POSITION = 4  # boto3.Session's positional parameter botocore_session

_lock = threading.Lock()
_original_load_file = botocore.loaders.JSONFileLoader._load_file
_original_list_services = botocore.loaders.Loader.list_available_services
_listings: dict[tuple[tuple[str, ...], str], list[str]] = {}  # (search paths, type name) -> services


class DocumentUnpickler(pickle.Unpickler):
    """Unpickles JSON documents only: the one class their pickles name is OrderedDict (botocore's object hook)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        raise pickle.UnpicklingError(f"{module}.{name} has no place in a JSON document")


def load_document(data: bytes) -> Any:
    """The JSON document pickled in `data` (raises on anything but a document's pickle)."""
    collecting = gc.isenabled()
    gc.disable()  # a document has no cycles: the collections its 100,000 containers would set off find nothing
    try:
        return DocumentUnpickler(io.BytesIO(data)).load()
    finally:
        if collecting:
            gc.enable()


def cached_document(kind: str, tag: str, source: str, parse: Callable[[], Document]) -> Document:
    """`parse()`'s document of the file `source`, from the load cache while the file is unchanged.
    `tag` names what else decides the document (the parsing library's version)."""
    cache = derived_file_cache()
    signature = file_signature(source) if cache is not None else None
    if cache is None or signature is None:
        return parse()
    kept = cache.read(kind, tag, source, signature)
    if kept is not None:
        try:
            return load_document(kept)  # type: ignore[no-any-return]
        except Exception:  # a corrupt or foreign entry: parsed again below and written over
            pass
    document = parse()
    if document is not None and file_signature(source) == signature:  # unchanged while it was read
        try:
            payload = pickle.dumps(document, protocol=PICKLE_PROTOCOL)
        except (pickle.PicklingError, TypeError, ValueError, RecursionError):
            return document
        cache.write(kind, tag, source, signature, payload)
    return document


def _botocore_tag() -> str:
    return f"botocore {botocore.__version__}"


def _cached_load_file(self: botocore.loaders.JSONFileLoader, full_path: str, open_method: Any) -> Any:
    """JSONFileLoader._load_file through the load cache (a missing file is still None)."""
    return cached_document(BOTOCORE_KIND, _botocore_tag(), full_path,
                           lambda: _original_load_file(self, full_path, open_method))


def _services_listed_once(self: botocore.loaders.Loader, type_name: str) -> list[str]:
    """Loader.list_available_services, listed once per process and search path list (a listing stats ~2,000
    files, and every new Session's loader lists again). Repeated search paths list the same services."""
    key = (tuple(dict.fromkeys(self.search_paths)), type_name)
    listed = _listings.get(key)
    if listed is None:
        listed = _listings.setdefault(key, list(_original_list_services(self, type_name)))
    return list(listed)


def install_botocore_cache() -> None:
    """Every botocore loader of the process reads its JSON files through the load cache from now on."""
    with _lock:
        botocore.loaders.JSONFileLoader._load_file = _cached_load_file  # type: ignore[method-assign]
        botocore.loaders.Loader.list_available_services = _services_listed_once  # type: ignore[method-assign]


def _moto_resource_file(resource: str) -> Path:
    """The file moto's load_resource reads for `resource`: its gzipped copy when there is one."""
    package = resources.files("moto")
    compressed = package / (resource if resource.endswith(".gz") else f"{resource}.gz")
    return Path(str(compressed if compressed.is_file() else package / resource))


def install_moto_resource_cache() -> None:
    """moto's load_resource (EC2 instance types, regions' offerings, AMIs) through the load cache, for the modules
    moto imports from now on (they bind the function by name)."""
    from moto import __version__ as moto_version  # moto is imported by the moto world that calls this
    from moto.utilities import utils

    with _lock:
        original = utils.load_resource
        if hasattr(original, "moto_original"):  # installed already
            return

        def cached_load_resource(resource: str) -> Any:
            return cached_document(MOTO_KIND, f"moto {moto_version}", str(_moto_resource_file(resource)),
                                   lambda: original(resource))

        cached_load_resource.moto_original = original  # type: ignore[attr-defined]
        utils.load_resource = cached_load_resource


def botocore_session_sharing(loader: botocore.loaders.Loader) -> botocore.session.Session:
    """A new botocore session (it reads the current environment) whose service models come from `loader`."""
    session = botocore.session.get_session()
    session.register_component("data_loader", loader)
    return session


class SessionsSharingModels:
    """boto3.Session as moto's modules call it at import (EC2's models make three Sessions, each reading EC2's
    4 MB model to list its regions): while `patch` is installed, a Session without a botocore session of its own
    gets one that shares `loader`. A module imported meanwhile that binds Session by name keeps the sharing class,
    which only shares models, as the harness's own sessions do."""

    def __init__(self, loader: botocore.loaders.Loader) -> None:
        class ModelSharingSession(boto3.session.Session):
            """A boto3 Session whose botocore session reuses the process's loaded service models."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                if len(args) < BOTOCORE_SESSION_POSITION and kwargs.get("botocore_session") is None:
                    kwargs["botocore_session"] = botocore_session_sharing(loader)
                super().__init__(*args, **kwargs)

        self.session_class = ModelSharingSession
        self.patch = SharedPatch(lambda: patch_attribute(boto3, "Session", ModelSharingSession))

    @contextlib.contextmanager
    def imports(self) -> Iterator[None]:
        """While moto's modules are imported in it, their Sessions share the loader."""
        undo = self.patch.install()
        try:
            yield
        finally:
            undo()


class SearchPaths(list):  # type: ignore[type-arg]
    """A loader's search paths where a path appended twice is kept once: boto3 appends its data folder to the
    loader of every Session it makes, and the shared loader below serves every Session of the process."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def shared_loader() -> botocore.loaders.Loader:
    """A botocore loader for every Session of the process: what it loaded once, it keeps."""
    loader = botocore.loaders.create_loader()
    loader._search_paths = SearchPaths(loader.search_paths)  # botocore keeps them there; appended to by boto3
    return loader
