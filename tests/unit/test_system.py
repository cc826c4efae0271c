"""System descriptions: loading, routes (longest prefix wins), roles, and one-line errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from drs_parity.fixtures.system import SystemDescriptionError, SystemError, load_system

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ProtectionGroupsTable: {Type: "AWS::DynamoDB::Table", Properties: {TableName: !Sub "pg-${Environment}"}}
  RecoveryPlansTable: {Type: "AWS::DynamoDB::Table"}
  ExecutionHistoryTable: {Type: "AWS::DynamoDB::Table"}
  TargetAccountsTable: {Type: "AWS::DynamoDB::Table"}
  DataFunction: {Type: "AWS::Lambda::Function", Properties: {Role: !GetAtt DataRole.Arn}}
  WorkerFunction:
    Type: AWS::Lambda::Function
    Properties:
      Environment: {Variables: {TABLE: !Ref ExecutionHistoryTable}}
  Schedule: {Type: "AWS::Events::Rule"}
"""

DESCRIPTION: dict[str, Any] = {
    "name": "tiny",
    "template": "template.yaml",
    "parameters": {"Environment": "test"},
    "environment": {"LOG_LEVEL": "DEBUG"},
    "functions": {"DataFunction": {"roles": ["data"]},
                  "WorkerFunction": {"roles": ["executions", "finder", "poller"]}},
    "routes": {"/": "WorkerFunction", "/protection-groups": "DataFunction", "/recovery-plans": "DataFunction"},
    "tables": {"protection-groups": "ProtectionGroupsTable", "recovery-plans": "RecoveryPlansTable",
               "execution-history": "ExecutionHistoryTable", "target-accounts": "TargetAccountsTable"},
    "schedules": ["Schedule"],
}


def write(folder: Path, change: Callable[[dict[str, Any]], None] = lambda d: None) -> Path:
    (folder / "template.yaml").write_text(TEMPLATE)
    document = copy.deepcopy(DESCRIPTION)
    change(document)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_description_loads_with_template_relative_to_it(tmp_path: Path) -> None:
    system = load_system(write(tmp_path))
    assert system.template == (tmp_path / "template.yaml").resolve()
    assert system.environment == {"LOG_LEVEL": "DEBUG"} and system.parameters == {"Environment": "test"}
    assert system.role_of("WorkerFunction") == "executions"
    assert system.functions_with_role("poller") == ["WorkerFunction"]
    assert system.tables["execution-history"] == "ExecutionHistoryTable"


@pytest.mark.parametrize("path, function", [
    ("/protection-groups", "DataFunction"),
    ("/protection-groups/abc", "DataFunction"),
    ("/protection-groupsx", "WorkerFunction"),
    ("/executions/1/job-logs", "WorkerFunction"),
    ("/health", "WorkerFunction"),
])
def test_longest_route_prefix_wins(tmp_path: Path, path: str, function: str) -> None:
    assert load_system(write(tmp_path)).route(path) == function


@pytest.mark.parametrize("change, field, problem", [
    (lambda d: d["functions"]["DataFunction"].update(roles=["cook"]), "functions.DataFunction.roles[0]",
     "'cook' is not one of"),
    (lambda d: d.update(template="missing.yaml"), "template", "does not exist"),
    (lambda d: d["routes"].update({"/health": "HealthFunction"}), "routes./health",
     "HealthFunction, which is not declared under functions"),
    (lambda d: d["functions"].update(GhostFunction={"roles": ["api"]}), "functions.GhostFunction",
     "not a resource of the template"),
    (lambda d: d["tables"].update({"recovery-plans": "DataFunction"}), "tables.recovery-plans",
     "is a AWS::Lambda::Function, not a AWS::DynamoDB::Table"),
    (lambda d: d["tables"].pop("target-accounts"), "tables", "'target-accounts' is not mapped"),
    (lambda d: d["functions"]["WorkerFunction"].update(roles=["executions", "finder"]), "functions",
     "no function plays the role 'poller'"),
    (lambda d: d.update(colour="blue"), "", "unknown top-level key 'colour'"),
])
def test_bad_description_is_one_line_naming_file_and_field(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                           field: str, problem: str) -> None:
    path = write(tmp_path, change)
    with pytest.raises(SystemError) as raised:
        load_system(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {field}: " if field else f"{path}: "), message
    assert problem in message and "\n" not in message


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(SystemDescriptionError, match="no such file"):
        load_system(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("functions: {a: [\n")
    with pytest.raises(SystemDescriptionError, match=r"broken\.yaml: not valid YAML"):
        load_system(broken)


def test_unknown_system_name_lists_available(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "systems").mkdir()
    write(tmp_path / "systems")
    monkeypatch.setenv("DRS_PARITY_FIXTURES", str(tmp_path))
    with pytest.raises(SystemDescriptionError, match=r"unknown system 'nope' \(available: template, tiny\)"):
        load_system("nope")
    assert load_system("tiny").name == "tiny"


@pytest.mark.parametrize("name, routes", [
    ("monolithic", {"/executions/1": "ApiHandlerFunction", "/protection-groups": "ApiHandlerFunction"}),
    ("decomposed", {"/executions/1/job-logs": "ExecutionHandlerFunction", "/health": "ExecutionHandlerFunction",
                    "/recovery-plans/2": "DataManagementFunction"}),
])
def test_shipped_systems_load_against_their_templates(name: str, routes: dict[str, str]) -> None:
    system = load_system(name)
    assert {path: system.route(path) for path in routes} == routes
    assert set(system.tables) == {"protection-groups", "recovery-plans", "execution-history", "target-accounts"}
