"""A tiny test system that refuses one request when its description says so, and a scenario that needs it all.

Its one function (tests/lambdas/refusing_api.py) creates whatever setup and start ask for, except the request its
`REFUSE` environment names (`METHOD /path STATUS`): the way a team's broken system answers, set in the system
description as a user would, never asked of the code whether it is under test.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.scenario_model import Scenario
from drs_parity.fixtures.system import System, load_system

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "tests" / "templates" / "refusing.yaml"
TABLES = {"protection-groups": "GroupsTable", "recovery-plans": "PlansTable", "execution-history": "HistoryTable",
          "target-accounts": "AccountsTable"}
# one server, one group, one plan; the steps follow
SCENARIO_HEAD = """\
region: us-east-1
drs: {jobStartSeconds: 30, jobEndSeconds: 30}
sourceServers:
  - {sourceServerId: s-01000000000000001, hostname: app-01.corp.example, name: app-01, tags: {Tier: app},
     instanceType: m5.large, launch: {status: LAUNCHED, seconds: 120}}
protectionGroups:
  - {key: app, groupName: App tier, region: us-east-1, accountId: "123456789012",
     sourceServerIds: [s-01000000000000001]}
recoveryPlans:
  - {key: main, planName: Plan, waves: [{waveName: App, protectionGroup: app}]}
steps:
"""
START = "  - start: {plan: main, executionType: DRILL, initiatedBy: drill@example.com}\n"
READ_EXECUTION = '  - api: {method: GET, path: "/executions/{execution}"}\n'


def scenario_text(name: str, description: str, *steps: str) -> str:
    """A scenario file's text: `name`, `description`, the one server, group and plan, then `steps` (YAML lines)."""
    return f"name: {name}\ndescription: {description}\n{SCENARIO_HEAD}{''.join(steps)}"


def refusing_system(folder: Path, name: str, refuse: str | None = None, template: Path = TEMPLATE) -> System:
    """The tiny system's description in `folder`, refusing `refuse` (`METHOD /path STATUS`), or nothing."""
    description = {
        "name": name, "template": str(template), "code": str(REPO),
        "environment": {"REFUSE": refuse} if refuse else {},
        "functions": {"ApiFunction": {"roles": ["api", "data", "executions", "finder", "poller"]}},
        "routes": {"/": "ApiFunction"}, "tables": TABLES,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(description))
    return load_system(path)


def start_and_read(folder: Path) -> Scenario:
    """Setup, a start, and a step that needs the started execution, written to `folder` as a user's own file."""
    path = folder / "start-and-read.yaml"
    path.write_text(scenario_text("start-and-read", "A group, a plan, a start, and a read of the started execution.",
                                  START, READ_EXECUTION))
    return load_scenarios([str(path)])[0]
