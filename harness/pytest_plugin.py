"""The pytest plugin: with --drs-parity, one item per scenario runs the pair and fails with its divergences."""

from __future__ import annotations

from typing import Any

import pytest

from drs_parity.compare.divergence import ACCEPTED, Rule
from drs_parity.compare.rules import load_rules
from drs_parity.fixtures.scenario import list_scenarios, load_scenarios
from drs_parity.fixtures.system import load_system
from drs_parity.gate.parity import DEFAULT_LEFT, DEFAULT_RIGHT, run_parity
from drs_parity.report.texts import divergence_text, stale_rule_line

INI_OPTIONS = {
    "drs_parity": ("bool", "run the parity pair as one test per scenario (same as --drs-parity)"),
    "drs_parity_left": ("string", "left system name or description file (default: the reference monolith)"),
    "drs_parity_right": ("string", "right system name or description file (default: the reference decomposed one)"),
    "drs_parity_scenarios": ("args", "scenario names (default: every fixture scenario)"),
    "drs_parity_backend": ("string", "emulated AWS backend (default moto)"),
    "drs_parity_rules": ("string", "rules file of accepted divergences"),
    "drs_parity_calibrate": ("bool", "run each side against itself to find noise (default true)"),
    "drs_parity_strict": ("bool", "fail the session when a rule accepted no divergence in any scenario (stale)"),
}
ITEM_PREFIX = "drs-parity["
USED_RULES = "drs_parity_used_rules"  # a report's user property: the sources of the rules its scenario used


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drs-parity")
    group.addoption("--drs-parity", action="store_true", default=None,
                    help="collect one parity test per scenario (left vs right system)")
    group.addoption("--drs-parity-scenario", action="append", default=None, metavar="NAME",
                    help="only this scenario (repeatable)")
    group.addoption("--drs-parity-backend", default=None, metavar="NAME", help="moto, moto-server or localstack")
    group.addoption("--drs-parity-strict", action="store_true", default=None,
                    help="fail the session when a rule accepted no divergence (a stale rule)")
    for name, (kind, help_text) in INI_OPTIONS.items():
        parser.addini(name, help_text, type=kind, default=None)


# ini name -> the command-line option that overrides it
OPTION_FOR_INI = {"drs_parity": "drs_parity", "drs_parity_scenarios": "drs_parity_scenario",
                  "drs_parity_backend": "drs_parity_backend", "drs_parity_strict": "drs_parity_strict"}


def setting(config: pytest.Config, name: str, default: Any = None) -> Any:
    """A command-line value if given, else the ini value, else the default."""
    if name in OPTION_FOR_INI and config.getoption(OPTION_FOR_INI[name], default=None) is not None:
        return config.getoption(OPTION_FOR_INI[name])
    value = config.getini(name)
    return default if value in (None, [], "") else value


def enabled(config: pytest.Config) -> bool:
    return bool(setting(config, "drs_parity", False))


def scenario_names(config: pytest.Config) -> list[str]:
    """The scenarios to run, each once, in the order first named."""
    return list(dict.fromkeys(setting(config, "drs_parity_scenarios") or list_scenarios()))


def pytest_configure(config: pytest.Config) -> None:
    if enabled(config) and setting(config, "drs_parity_strict", False):
        config.pluginmanager.register(StrictGate(config), "drs-parity-strict")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not enabled(config):  # loaded for every pytest run of the project: do nothing unless asked
        return
    for name in scenario_names(config):
        # No `::` in the name: xdist's --dist loadfile then spreads scenarios over workers too.
        node = f"{ITEM_PREFIX}{name}]"
        items.append(ParityItem.from_parent(session, name=node, nodeid=node, scenario=name))


class ParityFailure(Exception):
    """A scenario whose sides diverge (or could not run); the message is the report for it."""


class ParityItem(pytest.Item):
    """One scenario of the parity matrix: both sides, diffed; fails with the divergence summary."""

    def __init__(self, *, scenario: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        config = self.config
        try:
            left = load_system(setting(config, "drs_parity_left", DEFAULT_LEFT))
            right = load_system(setting(config, "drs_parity_right", DEFAULT_RIGHT))
            rules = load_rules(setting(config, "drs_parity_rules"))
            scenarios = load_scenarios([self.scenario])
        except ValueError as error:  # the InputErrors of scenario, system and rules files: the user's to fix
            raise ParityFailure(f"configuration error: {error}") from None
        result = run_parity(left, right, scenarios, setting(config, "drs_parity_backend", "moto"), rules,
                            calibrate=setting(config, "drs_parity_calibrate", True))
        outcome = result.scenarios[0]
        self.user_properties.append((USED_RULES, [d.rule.source for d in outcome.with_status(ACCEPTED) if d.rule]))
        if outcome.error:
            raise ParityFailure(f"harness error: {outcome.error}")
        if outcome.active:
            raise ParityFailure(f"{len(outcome.active)} divergence(s) between {result.left} and {result.right}:\n"
                                + divergence_text(outcome, result.left, result.right))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ParityFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.path, None, f"drs-parity: {self.scenario}"


# -- --drs-parity-strict: a rule no scenario used fails the session --------------------------------------------------
class StrictGate:
    """Collects the rules each scenario used (from its report, so it works across xdist workers) and fails the
    session when, every scenario having run, a rule accepted nothing."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.used: dict[str, set[str]] = {}  # scenario item -> the sources of the rules it used
        self.stale: list[Rule] = []
        self.note: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.nodeid.startswith(ITEM_PREFIX):
            for name, value in report.user_properties:  # (name, value) pairs; lists once xdist has sent them
                if name == USED_RULES:
                    self.used[report.nodeid] = set(value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):  # an xdist worker sees only its share; the controller decides
            return
        expected = len(scenario_names(self.config))
        if len(self.used) < expected:  # a scenario did not run, or its configuration failed (it is red already)
            self.note = f"stale rules not checked: {len(self.used)} of {expected} scenarios ran"
            return
        used = set().union(*self.used.values())
        self.stale = [rule for rule in load_rules(setting(self.config, "drs_parity_rules")).rules
                      if rule.source not in used]
        if self.stale and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.stale:
            terminalreporter.section("drs-parity --strict: stale rules fail the session", red=True)
            for rule in self.stale:
                terminalreporter.line(stale_rule_line(rule))
        elif self.note:
            terminalreporter.line(f"drs-parity: {self.note}")
