"""Code packages: each function's code folder and layers from its template, run in its own module namespace."""

from __future__ import annotations

import base64
import contextlib
import copy
import importlib
import importlib.abc
import io
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator, Sequence

from drs_parity.fixtures.cloudformation import FUNCTION_CODE, LAYER_CONTENT, local_path, read_template
from drs_parity.world.code_cache import serve_code_folders

# Where a template names a function's or a layer's code (a local folder, as `aws cloudformation package` takes it).
PLACEHOLDER = "# drs-parity: the function host runs this function from its code folder\n"
_PYTHON_RUNTIME = re.compile(r"python(\d+)\.(\d+)$")
_INTERPRETER_DIRS = tuple(sorted({os.path.join(os.path.realpath(prefix), "") for prefix in
                                  (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}))


# -- runtimes ----------------------------------------------------------------------------------------------------------
def runtime_problem(runtime: Any) -> str | None:
    """Why this interpreter cannot run a function of `runtime` (None: it can, or the runtime is not a plain name)."""
    if not isinstance(runtime, str) or not runtime:
        return None
    match = _PYTHON_RUNTIME.match(runtime)
    if match is None:
        return f"Runtime {runtime} is not a Python runtime: the function host runs Python handlers only"
    wanted, running = (int(match[1]), int(match[2])), sys.version_info[:2]
    if wanted > running:
        return (f"Runtime {runtime} is newer than the Python running drs-parity ({running[0]}.{running[1]}): "
                f"run drs-parity under Python {wanted[0]}.{wanted[1]} or newer")
    return None


# -- code folders and layers in a template -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionCode:
    """Where one function's code is: its folder (None: inline code in the template) and its layers' import folders."""

    folder: Path | None = None
    layers: tuple[Path, ...] = ()


@dataclass
class PackagedTemplate:
    """A template as the backend gets it (local folders replaced by inline placeholders) and its code map."""

    template: dict[str, Any]
    code: dict[str, FunctionCode] = field(default_factory=dict)  # function logical id -> its code
    problems: list[tuple[str, str]] = field(default_factory=list)  # (logical id, reason): deploy refuses
    changed: bool = False

    def body(self, original: str) -> str:
        """The template text to deploy: the original unless a local folder had to be replaced."""
        return json.dumps(self.template, default=str) if self.changed else original


def package_template(template: dict[str, Any], template_dir: Path) -> PackagedTemplate:
    """Take the local code folders out of `template` (not modified): a backend cannot zip a folder."""
    packaged = PackagedTemplate(copy.deepcopy(template))
    resources = packaged.template["Resources"]
    layers = {logical_id: _package_layer(packaged, logical_id, resource, template_dir)
              for logical_id, resource in resources.items() if _kind(resource) in LAYER_CONTENT}
    for logical_id, resource in resources.items():
        if _kind(resource) in FUNCTION_CODE:
            packaged.code[logical_id] = _package_function(packaged, logical_id, resource, template_dir, layers)
    for logical_id in layers:  # only now, once the functions' Layers were read: Ref as CloudFormation answers it
        _replace_refs(packaged.template, logical_id, _layer_arn(logical_id, _properties(resources[logical_id])))
        packaged.changed = True
    return packaged


def _kind(resource: Any) -> str:
    return str(resource.get("Type", "")) if isinstance(resource, dict) else ""


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def _package_function(packaged: PackagedTemplate, logical_id: str, resource: dict[str, Any], template_dir: Path,
                      layers: dict[str, tuple[Path, ...]]) -> FunctionCode:
    properties, key = _properties(resource), FUNCTION_CODE[_kind(resource)]
    problem = runtime_problem(properties.get("Runtime"))
    if problem:
        packaged.problems.append((logical_id, problem))
    folder = local_path(properties.get(key), template_dir)
    if folder is not None:
        if not folder.is_dir() and folder.suffix != ".zip":
            packaged.problems.append((logical_id, f"{key}: {folder} is no folder (nor zip) of code"))
        del properties[key]
        if key == "Code":
            properties["Code"] = {"ZipFile": PLACEHOLDER}
        else:
            properties["InlineCode"] = PLACEHOLDER
        packaged.changed = True
    used = [item["Ref"] for item in properties.get("Layers") or [] if isinstance(item, dict) and "Ref" in item]
    return FunctionCode(folder, tuple(path for layer in used for path in layers.get(layer, ())))


def _package_layer(packaged: PackagedTemplate, logical_id: str, resource: dict[str, Any],
                   template_dir: Path) -> tuple[Path, ...]:
    properties, key = _properties(resource), LAYER_CONTENT[_kind(resource)]
    folder = local_path(properties.get(key), template_dir)
    if folder is None:
        return ()
    if not folder.is_dir():
        packaged.problems.append((logical_id, f"{key}: {folder} is not a folder"))
    properties[key] = {"ZipFile": _EMPTY_ZIP} if key == "Content" else f"s3://drs-parity-placeholder/{logical_id}.zip"
    packaged.changed = True
    metadata = resource.get("Metadata") if isinstance(resource.get("Metadata"), dict) else {}
    return layer_import_folders(folder, str(metadata.get("BuildMethod", "")))


def layer_import_folders(folder: Path, build_method: str = "") -> tuple[Path, ...]:
    """What a layer puts on the import path, as /opt/python does: its python/ folder (or itself, built by SAM)."""
    python = folder / "python"
    if python.is_dir():
        site = python / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        return (python, site) if site.is_dir() else (python,)
    return (folder,) if build_method.startswith("python") else ()


def _layer_arn(logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The layer version's ARN as CloudFormation's Ref gives it (moto's Ref answers its Python object instead)."""
    name = properties.get("LayerName") or {"Fn::Sub": f"${{AWS::StackName}}-{logical_id}"}
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":lambda:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, ":layer:", name, ":1"]]}


def _replace_refs(node: Any, logical_id: str, value: dict[str, Any]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in list(items):
        if child == {"Ref": logical_id}:
            node[key] = copy.deepcopy(value)
        else:
            _replace_refs(child, logical_id, value)


def _empty_zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/README.txt", PLACEHOLDER)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_EMPTY_ZIP = _empty_zip()


# -- module namespaces -------------------------------------------------------------------------------------------------
class _ImportRecorder(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: notes every module name looked up while a code package runs (finds nothing)."""

    def __init__(self) -> None:
        self.names: list[str] | None = None

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        names = self.names
        if names is not None:
            names.append(fullname)
        return None


_RECORDER = _ImportRecorder()
_ACTIVE: list["CodePackage"] = []  # the packages running, innermost last (a function invoking another)


class CodePackage:
    """Folders of one function's code (its own folder first, then its layers) with a module namespace of its own.

    While active, its folders are first on sys.path and only its own modules (those imported from its folders)
    are in sys.modules under their names; afterwards they are taken out and kept for the next activation, and
    what was there before is back. Modules of the interpreter and of installed packages stay shared.
    """

    def __init__(self, *folders: str | Path) -> None:
        self.folders = tuple(os.path.realpath(folder) for folder in folders)
        serve_code_folders(self.folders)  # each source file compiled once per process, its modules fresh per package
        self.modules: dict[str, ModuleType] = {}  # its own modules, kept between activations
        self._prefixes = tuple(os.path.join(folder, "") for folder in self.folders)
        self._tops = _top_level_names(self.folders)
        self._hidden: dict[str, ModuleType] = {}
        self._path_before: list[str] = []
        self._looked_up: list[str] = []

    @classmethod
    def of_function(cls, template_path: str | Path, logical_id: str) -> "CodePackage":
        """The code package of one function of a template: its code folder (else the template's) and its layers."""
        template_dir = Path(template_path).resolve().parent
        code = package_template(read_template(Path(template_path)), template_dir).code[logical_id]
        return cls(code.folder or template_dir, *code.layers)

    @contextlib.contextmanager
    def active(self) -> Iterator["CodePackage"]:
        """The package's folders and modules in place for the block (nested activations stack)."""
        outer = _ACTIVE[-1] if _ACTIVE else None
        if outer is not None:
            outer._suspend()
        self._resume()
        _ACTIVE.append(self)
        try:
            yield self
        finally:
            _ACTIVE.pop()
            self._suspend()
            if outer is not None:
                outer._resume()

    def module(self, name: str) -> ModuleType:
        """Module `name` of this package, imported in its namespace (a function-level import needs `active`)."""
        with self.active():
            return importlib.import_module(name)

    def release(self) -> None:
        """Forget its modules for good, their namespaces emptied (its world stopped: nothing runs them again).

        A module's functions hold its namespace, which holds them: without this, each world's code (and the boto3
        clients and resources it made at import) is freed only by the cycle collector, long after the world.
        """
        if self in _ACTIVE:  # still running (a world stopped from inside a function): leave it whole
            return
        modules, self.modules = self.modules, {}
        for module in modules.values():
            module.__dict__.clear()

    def _resume(self) -> None:
        self._path_before = sys.path[:]
        sys.path[0:0] = self.folders
        modules, own = sys.modules, self.modules
        hidden: dict[str, ModuleType] = {}
        for top in self._tops:
            current = modules.get(top)
            if current is not None and current is not own.get(top) and not _of_interpreter(current):
                hidden.update(_take_tree(top))  # another package's module of that name, or one imported before
        for name, module in own.items():
            previous = modules.get(name)
            if previous is not None and previous is not module:
                hidden.setdefault(name, previous)
            modules[name] = module
        self._hidden = hidden
        if not sys.meta_path or sys.meta_path[0] is not _RECORDER:
            _first_on_meta_path()
        _RECORDER.names = self._looked_up

    def _suspend(self) -> None:
        _RECORDER.names = None
        modules, own = sys.modules, self.modules
        for name in list(own):
            module = modules.pop(name, None)
            if module is None:
                del own[name]  # the code itself forgot it
            else:
                own[name] = module
        for name in self._looked_up:
            module = modules.get(name)
            if module is not None and self._owns(name, module):
                own[name] = modules.pop(name)
        self._looked_up.clear()
        modules.update(self._hidden)
        self._hidden = {}
        sys.path[:] = self._path_before

    def _owns(self, name: str, module: ModuleType) -> bool:
        if name.partition(".")[0] not in self._tops:
            return False
        return any(location.startswith(self._prefixes) for location in _locations(module))


def release_packages(packages: Iterable[CodePackage]) -> None:
    """Release every package (see CodePackage.release): their world stopped."""
    for package in packages:
        package.release()


def _first_on_meta_path() -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_RECORDER)
    sys.meta_path.insert(0, _RECORDER)


def _top_level_names(folders: Sequence[str]) -> frozenset[str]:
    """Names a folder offers to `import`: modules, packages (namespace ones too), extension modules."""
    names: set[str] = set()
    for folder in folders:
        entries: set[str] = set()
        if folder.endswith(".zip") and zipfile.is_zipfile(folder):
            with zipfile.ZipFile(folder) as archive:
                entries = {entry.split("/", 1)[0] for entry in archive.namelist()}
        else:
            with contextlib.suppress(OSError):
                entries = set(os.listdir(folder))
        names |= {entry.split(".", 1)[0] for entry in entries
                  if entry.split(".", 1)[0].isidentifier() and (entry.endswith((".py", ".pyc", ".so", ".pyd"))
                                                                or "." not in entry)}
    return frozenset(names)


def _locations(module: ModuleType) -> list[str]:
    file = getattr(module, "__file__", None)
    if file:
        return [os.path.realpath(file)]
    return [os.path.realpath(entry) for entry in getattr(module, "__path__", None) or ()]


def _of_interpreter(module: ModuleType) -> bool:
    """A module of the standard library or an installed distribution (shared, as the Lambda runtime's)."""
    spec = getattr(module, "__spec__", None)
    if getattr(spec, "origin", None) in ("built-in", "frozen"):
        return True
    locations = _locations(module)
    return bool(locations) and all(location.startswith(_INTERPRETER_DIRS) for location in locations)


def _take_tree(top: str) -> dict[str, ModuleType]:
    prefix = top + "."
    names = [name for name in sys.modules if name == top or name.startswith(prefix)]
    return {name: sys.modules.pop(name) for name in names}
