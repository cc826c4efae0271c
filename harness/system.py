"""System descriptions: which template a side deploys, which function plays which role, API routes, tables, extra env."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.scenario import Field, fixtures_dir, list_fixture_names, read_yaml, resolve_fixture

ROLES = ("api", "data", "executions", "finder", "poller")
# every link of the chain must be played by some function; "api" names the monolith's all-in-one handler
REQUIRED_ROLES = ("data", "executions", "finder", "poller")
TABLES = ("protection-groups", "recovery-plans", "execution-history", "target-accounts")
TOP_LEVEL_KEYS = ("name", "description", "template", "parameters", "environment", "functions", "routes", "tables",
                  "schedules")
LAMBDA_FUNCTION = "AWS::Lambda::Function"
DYNAMODB_TABLE = "AWS::DynamoDB::Table"
EVENTS_RULE = "AWS::Events::Rule"


class SystemDescriptionError(ValueError):
    """A system description that cannot be used; one line naming the file, the field and the problem."""


# The name the brief and the docs use; it shadows the builtin only where imported by that name.
SystemError = SystemDescriptionError  # noqa: A001


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    roles: tuple[str, ...]

    @property
    def role(self) -> str:
        """The role that names this function in captures (the first listed)."""
        return self.roles[0]


@dataclass(frozen=True)
class System:
    name: str
    description: str
    path: Path
    template: Path
    parameters: dict[str, str]
    environment: dict[str, str]
    functions: dict[str, FunctionSpec]  # logical id -> spec
    routes: dict[str, str]  # path prefix -> logical id
    tables: dict[str, str]  # logical table name -> logical id
    schedules: tuple[str, ...] = field(default=())

    def route(self, path: str) -> str:
        """Logical id of the function serving `path` (longest matching prefix wins)."""
        logical_id = self.route_or_none(path)
        if logical_id is None:
            raise SystemDescriptionError(f"{self.path}: routes: no route serves {path}")
        return logical_id

    def route_or_none(self, path: str) -> str | None:
        matches = [prefix for prefix in self.routes if _prefix_matches(prefix, path)]
        return self.routes[max(matches, key=len)] if matches else None

    def role_of(self, logical_id: str) -> str:
        return self.functions[logical_id].role

    def functions_with_role(self, role: str) -> list[str]:
        return [spec.logical_id for spec in self.functions.values() if role in spec.roles]


def _prefix_matches(prefix: str, path: str) -> bool:
    # "/executions" serves "/executions" and "/executions/x", never "/executionsfoo"
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def systems_dir() -> Path:
    return fixtures_dir() / "systems"


def list_systems() -> list[str]:
    return list_fixture_names(systems_dir())


def resolve_system_path(path_or_name: str | Path) -> Path:
    return resolve_fixture(path_or_name, systems_dir(), "system", SystemDescriptionError)


def load_system(path_or_name: str | Path) -> System:
    """A system description by file path or by name (a file in fixtures/systems)."""
    path = resolve_system_path(path_or_name)
    return parse_system(read_yaml(path, SystemDescriptionError), path)


def parse_system(document: Any, path: Path) -> System:
    root = Field(document, "", str(path), SystemDescriptionError)
    root.mapping(TOP_LEVEL_KEYS, required=("template", "functions", "routes", "tables"))
    template = _template_path(root.child("template"), path)
    resources = _template_resources(root.child("template"), template)
    functions = _parse_functions(root.child("functions"), resources)
    return System(
        name=root.child("name").string(path.stem),
        description=root.child("description").string(""),
        path=path,
        template=template,
        parameters=root.child("parameters").string_map(),
        environment=root.child("environment").string_map(),
        functions=functions,
        routes=_parse_routes(root.child("routes"), functions),
        tables=_parse_tables(root.child("tables"), resources),
        schedules=_parse_schedules(root.child("schedules"), resources),
    )


def _template_path(node: Field, description: Path) -> Path:
    template = (description.parent / node.string()).resolve()
    if not template.is_file():
        node.fail(f"template {template} {'is not a file' if template.exists() else 'does not exist'}")
    return template


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML; intrinsic tags (!Ref, !GetAtt, ...) are kept as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


def _template_resources(node: Field, template: Path) -> dict[str, str]:
    """Logical id -> resource type of the template's resources."""
    try:
        document = yaml.load(template.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        node.fail(f"template {template} is not valid YAML: {getattr(exc, 'problem', exc)}")
    except OSError as exc:
        node.fail(f"template {template} cannot be read: {exc.strerror}")
    except UnicodeDecodeError:
        node.fail(f"template {template} is not UTF-8 text")
    resources = document.get("Resources") if isinstance(document, dict) else None
    if not isinstance(resources, dict):
        node.fail(f"template {template} has no Resources section")
    return {logical_id: str(body.get("Type", "")) if isinstance(body, dict) else ""
            for logical_id, body in resources.items()}


def _require_resource(node: Field, logical_id: str, resources: dict[str, str], kind: str) -> None:
    if logical_id not in resources:
        node.fail(f"{logical_id} is not a resource of the template")
    if resources[logical_id] != kind:
        node.fail(f"{logical_id} is a {resources[logical_id]}, not a {kind}")


def _parse_functions(node: Field, resources: dict[str, str]) -> dict[str, FunctionSpec]:
    functions: dict[str, FunctionSpec] = {}
    for logical_id in node.mapping(node.value.keys() if isinstance(node.value, dict) else ()):
        entry = node.child(logical_id)
        _require_resource(entry, logical_id, resources, LAMBDA_FUNCTION)
        entry.mapping(("roles",), required=("roles",))
        roles = tuple(role.choice(ROLES) for role in entry.child("roles").items(allow_empty=False))
        functions[logical_id] = FunctionSpec(logical_id, roles)
    if not functions:
        node.fail("must declare at least one function")
    for role in REQUIRED_ROLES:
        if not any(role in spec.roles for spec in functions.values()):
            node.fail(f"no function plays the role {role!r}")
    return functions


def _parse_routes(node: Field, functions: dict[str, FunctionSpec]) -> dict[str, str]:
    routes = node.string_map()
    if not routes:
        node.fail("must declare at least one route")
    for prefix, logical_id in routes.items():
        if not prefix.startswith("/"):
            node.child(prefix).fail("a route prefix must start with /")
        if logical_id not in functions:
            node.child(prefix).fail(f"routes to {logical_id}, which is not declared under functions")
    return routes


def _parse_tables(node: Field, resources: dict[str, str]) -> dict[str, str]:
    tables = node.string_map()
    for name, logical_id in tables.items():
        if name not in TABLES:
            node.child(name).fail(f"unknown table {name!r} (known: {', '.join(TABLES)})")
        _require_resource(node.child(name), logical_id, resources, DYNAMODB_TABLE)
    missing = [name for name in TABLES if name not in tables]
    if missing:
        node.fail(f"table {missing[0]!r} is not mapped to a logical id")
    return tables


def _parse_schedules(node: Field, resources: dict[str, str]) -> tuple[str, ...]:
    schedules = node.string_list()
    for index, logical_id in enumerate(schedules):
        _require_resource(node.child(index), logical_id, resources, EVENTS_RULE)
    return schedules
