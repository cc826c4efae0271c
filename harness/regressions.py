"""The regression catalogue: named faults switched on for a side without editing its code, and the variant systems they build."""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from harness.scenario import Field, fixtures_dir, list_fixture_names, read_yaml, resolve_fixture
from harness.system import System, load_system

ENTRY_KEYS = ("name", "title", "description", "realWorld", "link", "divergence", "scenario", "base", "template",
              "environment", "code", "drsFaults")
TEMPLATE_OPS = ("set", "remove")
DEFAULT_SCENARIO = "two-wave-drill"
DEFAULT_BASE = "decomposed"
LIST_SELECTOR = re.compile(r"^(?P<key>[^\[\]]*)\[(?P<selector>[^\[\]]+)\]$")


class RegressionError(ValueError):
    """A catalogue entry that cannot be used, or a variant that cannot be built; one line naming file and field."""


# -- catalogue entries ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateEdit:
    """One edit of the CloudFormation template: `set` a value at a path, or `remove` what a path names."""

    op: str
    path: str
    value: Any = None


@dataclass(frozen=True)
class CodePatch:
    """Replace `old` by `new` in one file of the copied package; `old` must occur exactly `count` times."""

    file: str
    old: str
    new: str
    count: int = 1


@dataclass(frozen=True)
class Regression:
    name: str
    title: str
    description: str
    real_world: str
    link: str  # the doctor's expected verdict
    divergence: tuple[str, ...]  # exact divergent paths the parity report must name
    path: Path
    scenario: str = DEFAULT_SCENARIO
    base: str = DEFAULT_BASE
    template: tuple[TemplateEdit, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    code: tuple[CodePatch, ...] = ()
    drs_faults: tuple[dict[str, Any], ...] = ()

    @property
    def mechanisms(self) -> list[str]:
        """How the fault is switched on, for the catalogue table."""
        used = [("template variant", self.template), ("environment override", self.environment),
                ("code patch on a copy", self.code), ("DRS emulator fault", self.drs_faults)]
        return [name for name, present in used if present]

    def prepare_world(self, world: Any) -> None:
        """Side-specific world state: scripted DRS faults. Call after the world started, before the run."""
        if self.drs_faults:
            world.drs.load(None, None, [dict(fault) for fault in self.drs_faults])


def regressions_dir() -> Path:
    return fixtures_dir() / "regressions"


def list_regressions() -> list[str]:
    return list_fixture_names(regressions_dir())


def resolve_regression_path(name_or_path: str | Path) -> Path:
    return resolve_fixture(name_or_path, regressions_dir(), "regression", RegressionError)


def load_regression(name_or_path: str | Path) -> Regression:
    """A catalogue entry by name (fixtures/regressions/<name>.yaml) or by path."""
    path = resolve_regression_path(name_or_path)
    return parse_regression(read_yaml(path, RegressionError), path)


def load_catalogue() -> list[Regression]:
    return [load_regression(name) for name in list_regressions()]


def parse_regression(document: Any, path: Path) -> Regression:
    root = Field(document, "", str(path), RegressionError)
    root.mapping(ENTRY_KEYS, required=("title", "realWorld", "link", "divergence"))
    name = root.child("name").string(path.stem)
    if name != path.stem:
        root.child("name").fail(f"must equal the file stem {path.stem!r}")
    regression = Regression(
        name=name, title=root.child("title").string(), description=root.child("description").string(""),
        real_world=root.child("realWorld").string(), link=root.child("link").string(),
        divergence=root.child("divergence").string_list(allow_empty=False), path=path,
        scenario=root.child("scenario").string(DEFAULT_SCENARIO), base=root.child("base").string(DEFAULT_BASE),
        template=tuple(_parse_template_edit(node) for node in root.child("template").items()),
        environment=root.child("environment").string_map(),
        code=tuple(_parse_code_patch(node) for node in root.child("code").items()),
        drs_faults=tuple(node.mapping(("operation", "error", "afterSeconds", "count"), ("operation", "error"))
                         for node in root.child("drsFaults").items()),
    )
    if not regression.mechanisms:
        root.fail("switches nothing on: give template, environment, code or drsFaults")
    from harness.doctor import LINKS  # the doctor's link names are the verdicts an entry may expect

    root.child("link").choice(LINKS)
    return regression


def _parse_template_edit(node: Field) -> TemplateEdit:
    body = node.mapping(("op", "path", "value"), required=("op", "path"))
    op = node.child("op").choice(TEMPLATE_OPS)
    if op == "set" and "value" not in body:
        node.child("value").fail("required field is missing")
    return TemplateEdit(op, node.child("path").string(), body.get("value"))


def _parse_code_patch(node: Field) -> CodePatch:
    node.mapping(("file", "old", "new", "count"), required=("file", "old", "new"))
    return CodePatch(node.child("file").string(), node.child("old").string(), node.child("new").string(),
                     node.child("count").integer(1, minimum=1))


# -- CloudFormation YAML that keeps its intrinsic tags ----------------------------------------------------------------
@dataclass
class Tagged:
    """An intrinsic function written in short form (!Ref X, !GetAtt T.Arn, !Sub ...), kept verbatim."""

    tag: str
    value: Any


class _TemplateLoader(yaml.SafeLoader):
    pass


class _TemplateDumper(yaml.SafeDumper):
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.MappingNode):
        return Tagged("!" + suffix, loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Tagged("!" + suffix, loader.construct_sequence(node, deep=True))
    return Tagged("!" + suffix, loader.construct_scalar(node))


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, data.value)


_TemplateLoader.add_multi_constructor("!", _construct_tagged)
_TemplateDumper.add_representer(Tagged, _represent_tagged)


def read_template(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)  # noqa: S506 (tags only)


def write_template(document: Any, path: Path) -> None:
    path.write_text(yaml.dump(document, Dumper=_TemplateDumper, sort_keys=False, width=120), encoding="utf-8")


# -- template edits ---------------------------------------------------------------------------------------------------
def _split_path(path: str) -> list[str]:
    # dots inside a [selector] (e.g. [=dynamodb:UpdateItem]) belong to the selector
    return re.findall(r"[^.\[]+(?:\[[^\]]*\])?|\[[^\]]*\]", path)


def _select(container: Any, segment: str, where: str) -> tuple[Any, Any]:
    """(parent, key) that `segment` names inside `container`; key is a dict key or a list index."""
    match = LIST_SELECTOR.match(segment)
    if match is None:
        if not isinstance(container, dict):
            raise RegressionError(f"{where}: {segment!r} names a key, but the value there is not a mapping")
        return container, segment
    if match["key"]:
        container = _child(container, match["key"], where)
    if not isinstance(container, list):
        raise RegressionError(f"{where}: [{match['selector']}] selects in a list, but the value is not a list")
    return container, _list_index(container, match["selector"], where)


def _list_index(items: list[Any], selector: str, where: str) -> int:
    # [3] by position, [=value] by equality, [Key=value] by a member's field
    if selector.isdigit():
        index = int(selector)
    else:
        key, _, wanted = selector.partition("=")
        matches = [i for i, item in enumerate(items)
                   if (item == wanted if not key else isinstance(item, dict) and str(item.get(key)) == wanted)]
        index = matches[0] if matches else len(items)
    if index >= len(items):
        raise RegressionError(f"{where}: nothing in the list matches [{selector}]")
    return index


def _child(container: Any, segment: str, where: str) -> Any:
    parent, key = _select(container, segment, where)
    if isinstance(parent, dict) and key not in parent:
        raise RegressionError(f"{where}: the template has no {segment!r} there")
    return parent[key]


def apply_template_edit(document: Any, edit: TemplateEdit, where: str) -> None:
    """Apply one edit in place; a path that names nothing is an error (the catalogue went stale)."""
    segments = _split_path(edit.path)
    container = document
    for segment in segments[:-1]:
        container = _child(container, segment, where)
    parent, key = _select(container, segments[-1], where)
    if edit.op == "remove":
        if isinstance(parent, dict) and key not in parent:
            raise RegressionError(f"{where}: the template has no {segments[-1]!r} to remove")
        del parent[key]
    else:
        parent[key] = edit.value


def _rename_handlers(document: Any, old_package: str, new_package: str) -> None:
    for resource in (document.get("Resources") or {}).values():
        properties = (resource or {}).get("Properties") or {}
        handler = properties.get("Handler")
        if isinstance(handler, str) and handler.startswith(old_package + "."):
            properties["Handler"] = new_package + handler[len(old_package):]


# -- code patches on a copy of the package ----------------------------------------------------------------------------
def package_name_for(regression: Regression) -> str:
    """A distinct importable package name, so the copy never shadows the real package in sys.modules."""
    return f"{regression.base}_regressed_{re.sub(r'[^0-9a-zA-Z]+', '_', regression.name)}"


def copy_package(source: Path, target: Path, old_package: str, new_package: str) -> None:
    """Copy a package, rewriting its absolute imports of itself to the new name."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "template.yaml"))
    imports = re.compile(rf"\b(from|import)\s+{re.escape(old_package)}(?=[.\s])")
    for module in target.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        module.write_text(imports.sub(rf"\1 {new_package}", text), encoding="utf-8")


def apply_code_patch(package_dir: Path, patch: CodePatch, where: str) -> None:
    target = package_dir / patch.file
    if not target.is_file():
        raise RegressionError(f"{where}: {patch.file} is not a file of the package")
    text = target.read_text(encoding="utf-8")
    found = text.count(patch.old)
    if found != patch.count:
        raise RegressionError(f"{where}: expected {patch.count} occurrence(s) of the old snippet in {patch.file}, "
                              f"found {found} (the catalogue entry is stale)")
    target.write_text(text.replace(patch.old, patch.new), encoding="utf-8")


# -- building the variant system --------------------------------------------------------------------------------------
@dataclass
class VariantSystem:
    """A regressed system built in a temp dir; `system` is what run_side/run_parity take."""

    regression: Regression
    system: System
    root: Path
    package: str | None

    def prepare_world(self, world: Any) -> None:
        self.regression.prepare_world(world)


def build_variant(regression: Regression, root: Path) -> VariantSystem:
    """Write the variant template (and patched package copy) under `root`; return the variant system."""
    base = load_system(regression.base)
    document = read_template(base.template)
    package = None
    if regression.code:
        package = package_name_for(regression)
        copy_package(base.template.parent, root / package, base.template.parent.name, package)
        for index, patch in enumerate(regression.code):
            apply_code_patch(root / package, patch, f"{regression.path}: code[{index}]")
        _rename_handlers(document, base.template.parent.name, package)
    for index, edit in enumerate(regression.template):
        apply_template_edit(document, edit, f"{regression.path}: template[{index}] ({edit.path})")
    template = root / "template.yaml"
    write_template(document, template)
    system = replace(base, name=f"{base.name}-{regression.name}", template=template,
                     environment={**base.environment, **regression.environment})
    return VariantSystem(regression, system, root, package)


def _forget_package(package: str) -> None:
    for module in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[module]


@contextlib.contextmanager
def regressed_system(regression: Regression | str) -> Iterator[VariantSystem]:
    """The variant system of a catalogue entry, importable while the context is open; all removed afterwards."""
    regression = regression if isinstance(regression, Regression) else load_regression(regression)
    root = Path(tempfile.mkdtemp(prefix=f"drs-parity-{regression.name}-"))
    variant = None
    try:
        variant = build_variant(regression, root)
        sys.path.insert(0, str(root))
        yield variant
    finally:
        if str(root) in sys.path:
            sys.path.remove(str(root))
        if variant is not None and variant.package:
            _forget_package(variant.package)
        shutil.rmtree(root, ignore_errors=True)


# -- running a side with IAM enforced and the regression's world faults ----------------------------------------------
@contextlib.contextmanager
def prepared_world(scenario: Any, backend: str = "moto", clock_start: float | None = None,
                   variant: VariantSystem | None = None) -> Iterator[Any]:
    """A started World for one side (IAM enforced on its function host, as every world does), the variant's faults loaded."""
    from harness.clock import VirtualClock
    from harness.world import World  # pulls in moto: only for a real run

    clock = VirtualClock(clock_start) if clock_start is not None else None
    with World(backend=backend, clock=clock, region=scenario.region) as world:
        if variant is not None:
            variant.prepare_world(world)
        yield world


def side_runner(variant: VariantSystem | None = None) -> Callable[..., Any]:
    """A run_parity runner: every side under IAM enforcement; the variant's side also gets its world faults."""
    from harness.driver import run_side
    from harness.scenario import Scenario, load_scenarios

    def run(system: Any, scenario: Any, backend: str = "moto", clock_start: float | None = None) -> Any:
        scenario = scenario if isinstance(scenario, Scenario) else load_scenarios([scenario])[0]
        own = variant if variant is not None and getattr(system, "name", system) == variant.system.name else None
        with prepared_world(scenario, backend, clock_start, own) as world:
            return run_side(system, scenario, backend, world=world)

    return run


# -- one catalogue entry end to end: parity run and doctor on the same regressed run ----------------------------------
@dataclass
class RegressionOutcome:
    """The parity result (left vs the regressed side) and the doctor's diagnosis of that very run."""

    regression: Regression | None
    parity: Any  # harness.report.ParityResult
    diagnosis: Any  # harness.doctor.Diagnosis


class _RecordingRunner:
    """A run_parity runner that keeps the right side's timeline and live evidence for the doctor.

    The left side's timelines are cached across entries: deterministic on the virtual clock, run once per scenario.
    """

    def __init__(self, right: System, variant: VariantSystem | None, cache: dict[tuple[str, ...], Any]) -> None:
        self.right = right
        self.variant = variant
        self.cache = cache
        self.timeline: Any = None
        self.evidence: Any = None

    def __call__(self, system: Any, scenario: Any, backend: str = "moto", clock_start: float | None = None) -> Any:
        from harness.doctor import collect_evidence
        from harness.driver import run_side

        if system.name != self.right.name:
            return self._left(system, scenario, backend, clock_start)
        with prepared_world(scenario, backend, clock_start, self.variant) as world:
            self.timeline = run_side(system, scenario, backend, world=world)
            self.evidence = collect_evidence(world, system)
        return self.timeline

    def _left(self, system: Any, scenario: Any, backend: str, clock_start: float | None) -> Any:
        from harness.driver import run_side

        key = (system.name, scenario.name, backend, str(clock_start))
        if key not in self.cache:
            with prepared_world(scenario, backend, clock_start) as world:
                self.cache[key] = run_side(system, scenario, backend, world=world)
        return self.cache[key]


def check_regression(regression: Regression | str | None, backend: str = "moto", left: str = "monolithic",
                     cache: dict[tuple[str, ...], Any] | None = None) -> RegressionOutcome:
    """Parity of `left` against the regressed side (None: the unmodified base), and the doctor on the same run.

    The right side runs once and serves both answers; pass one `cache` dict to reuse the left side's runs.
    """
    from harness.doctor import diagnose
    from harness.parity import run_parity
    from harness.scenario import load_scenarios

    if isinstance(regression, str):
        regression = load_regression(regression)
    scenario = load_scenarios([regression.scenario if regression else DEFAULT_SCENARIO])[0]
    with regressed_system(regression) if regression else contextlib.nullcontext() as variant:
        right = variant.system if variant is not None else load_system(DEFAULT_BASE)
        runner = _RecordingRunner(right, variant, cache if cache is not None else {})
        parity = run_parity(load_system(left), right, [scenario], backend, calibrate=False, runner=runner)
    if runner.timeline is None:  # the right side failed to run: the parity result carries the error
        return RegressionOutcome(regression, parity, None)
    return RegressionOutcome(regression, parity, diagnose(runner.timeline.to_dict(), runner.evidence))
