"""botocore's and moto's JSON data, cheaper: pickled in the load cache between runs, one loader for every Session."""

# Every process of a run parses the same JSON again: EC2's 4 MB model alone takes 0.17 s with botocore's
# OrderedDict hook, and every botocore Session reads it again through a loader of its own (moto makes three at import,
# a function one per assumed role) unless it shares the world's (LoaderSharing, below). A pickled copy
# of the parsed document loads about four times faster and equals it, so each botocore JSON file and each moto
# resource file is kept in the load cache (drs_parity.fixtures.kept_documents) and unpickled from there while the file
# is unchanged. Each load still returns a fresh document, as botocore's own does: a loader merges extras into the
# models it loads, so documents are never shared between loaders. Switched off, files are parsed as botocore and moto
# parse them.

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import botocore
import botocore.loaders
import botocore.session

from drs_parity.fixtures.kept_documents import cached_document
from drs_parity.world.shared_patch import SharedPatch, applied, patch_attribute

BOTOCORE_KIND = "botocore"
MOTO_KIND = "moto"

_lock = threading.Lock()
_original_load_file = botocore.loaders.JSONFileLoader._load_file
_original_list_services = botocore.loaders.Loader.list_available_services
_original_create_loader = botocore.session.create_loader
_listings: dict[tuple[tuple[str, ...], str], list[str]] = {}  # (search paths, type name) -> services


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


_BOTOCORE_FILES = SharedPatch(applied(lambda: [
    lambda: patch_attribute(botocore.loaders.JSONFileLoader, "_load_file", _cached_load_file),
    lambda: patch_attribute(botocore.loaders.Loader, "list_available_services", _services_listed_once)]))


def install_botocore_cache() -> Callable[[], None]:
    """Every botocore loader reads its JSON files through the load cache and lists services once per process, until
    the returned undo."""
    return _BOTOCORE_FILES.install()


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


class SearchPaths(list):  # type: ignore[type-arg]
    """A loader's search paths where a path appended twice is kept once: boto3 appends its data folder to the
    loader of every Session it makes, and the shared loader below serves every Session of the process."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


class LoaderSharing:
    """While `install()`ed, every botocore session made without a data path of its own (AWS_DATA_PATH) loads its
    models through `loader`: the Sessions moto makes at import (EC2's models make three, each reading EC2's 4 MB
    model to list its regions) and a function's boto3.Session for an assumed role read no file and build no model
    again. What a session loads is what it would load alone: the same files, through the same search paths."""

    def __init__(self, loader: botocore.loaders.Loader) -> None:
        def loader_for(search_path_string: str | None = None) -> botocore.loaders.Loader:
            return loader if not search_path_string else _original_create_loader(search_path_string)

        self.loader_for = loader_for
        self._patch = SharedPatch(lambda: patch_attribute(botocore.session, "create_loader", loader_for))

    def install(self) -> Callable[[], None]:
        return self._patch.install()


def shared_loader() -> botocore.loaders.Loader:
    """A botocore loader for every Session of the process: what it loaded once, it keeps."""
    loader = botocore.loaders.create_loader()
    loader._search_paths = SearchPaths(loader.search_paths)  # botocore keeps them there; appended to by boto3
    return loader
