"""The pytest plugin: inert unless enabled; with --drs-parity (or ini) one item per scenario, failing on divergence."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from tests.harness.gate.parity_planting import system_with_environment

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

# Installed (tox: editable) the plugin loads itself from its entry point; from a bare checkout, load it by name.
INSTALLED = any(ep.name == "drs_parity" for ep in entry_points(group="pytest11"))
PLUGIN_ARGS = [] if INSTALLED else ["-p", "drs_parity.pytest_plugin"]
TRIVIAL_TEST = "def test_ordinary():\n    assert True\n"


def test_disabled_by_default_it_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TRIVIAL_TEST)
    result = pytester.runpytest(*PLUGIN_ARGS, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*test_ordinary*", "1 test collected*"])
    result.stdout.no_fnmatch_line("*drs-parity*")


def test_the_option_collects_one_item_per_scenario(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TRIVIAL_TEST)
    result = pytester.runpytest(*PLUGIN_ARGS, "--drs-parity", "--drs-parity-scenario", "two-wave-drill",
                                "--drs-parity-scenario", "recovery", "--collect-only", "-q")
    # Added after collection, so pytest's "N tests collected" line does not count them: the listing does.
    result.stdout.fnmatch_lines(["*::test_ordinary", "drs-parity[[]two-wave-drill[]]", "drs-parity[[]recovery[]]"])


def test_ini_enables_it_with_every_fixture_scenario(pytester: pytest.Pytester) -> None:
    from drs_parity.fixtures.scenario import list_scenarios

    pytester.makeini("[pytest]\ndrs_parity = true\n")
    result = pytester.runpytest(*PLUGIN_ARGS, "--collect-only", "-q")
    listed = [line for line in result.stdout.lines if line.startswith("drs-parity[")]
    assert listed == [f"drs-parity[{name}]" for name in list_scenarios()]


def test_a_scenario_in_parity_passes_and_a_divergent_one_fails_with_its_divergences(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    right = system_with_environment(tmp_path, {"EXECUTION_TIMEOUT_SECONDS": "240"})
    pytester.makeini(f"[pytest]\ndrs_parity = true\ndrs_parity_scenarios = two-wave-drill\n"
                     f"drs_parity_right = {right.path}\ndrs_parity_calibrate = false\n")
    result = pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*divergence(s) between monolithic and decomposed-env:*",
                                 "tables.execution-history[[]<executionId:1>[]].status (first step 3 *): "
                                 "monolithic=\"COMPLETED\" decomposed-env=\"TIMEOUT\""])

    pytester.makeini("[pytest]\ndrs_parity = true\ndrs_parity_scenarios = two-wave-drill\n"
                     "drs_parity_calibrate = false\n")
    pytester.runpytest(*PLUGIN_ARGS).assert_outcomes(passed=1)


def test_a_configuration_mistake_fails_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ndrs_parity_rules = absent.yaml\n")
    result = pytester.runpytest(*PLUGIN_ARGS, "--drs-parity", "--drs-parity-scenario", "two-wave-drill")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*configuration error: absent.yaml: rules file not found*"])


def test_a_scenario_named_twice_is_one_item(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*PLUGIN_ARGS, "--drs-parity", "--drs-parity-scenario", "recovery",
                                "--drs-parity-scenario", "two-wave-drill", "--drs-parity-scenario", "recovery",
                                "--collect-only", "-q")
    listed = [line for line in result.stdout.lines if line.startswith("drs-parity[")]
    assert listed == ["drs-parity[recovery]", "drs-parity[two-wave-drill]"]


# -- --drs-parity-strict / drs_parity_strict ------------------------------------------------------------------------
STRICT_RULES = """rules:
  - {path: '*', scope: {scenario: two-wave-drill}, reason: the right side times out on purpose}
  - {path: '*', scope: {scenario: recovery}, reason: the right side times out on purpose}
  - {path: 'logs[never logged]', reason: left over from an older release}
"""


def monolith_timing_out(folder: Path) -> Path:
    """The monolith with a 4-minute execution timeout, as a user's own description: it diverges in every scenario."""
    from drs_parity.fixtures.system import load_system, resolve_system_path

    description = yaml.safe_load(resolve_system_path("monolithic").read_text())
    description.update(name="monolithic-timeout", environment={"EXECUTION_TIMEOUT_SECONDS": "240"},
                       template=str(load_system("monolithic").template))
    path = folder / "monolithic-timeout.yaml"
    path.write_text(yaml.safe_dump(description))
    return path


def strict_project(pytester: pytest.Pytester, tmp_path: Path, strict: str, scenarios: str) -> None:
    (tmp_path / "rules.yaml").write_text(STRICT_RULES)
    pytester.makeini(f"[pytest]\ndrs_parity = true\ndrs_parity_scenarios = {scenarios}\n"
                     f"drs_parity_right = {monolith_timing_out(tmp_path)}\ndrs_parity_calibrate = false\n"
                     f"drs_parity_rules = {tmp_path / 'rules.yaml'}\ndrs_parity_strict = {strict}\n")


def test_strict_fails_the_session_on_a_rule_no_worker_used(pytester: pytest.Pytester, tmp_path: Path) -> None:
    strict_project(pytester, tmp_path, "true", "two-wave-drill recovery")
    result = pytester.runpytest(*PLUGIN_ARGS, "-n", "2")  # each scenario's rule is used on its own worker
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*drs-parity --strict: stale rules fail the session*",
                                 "stale rule *rules.yaml: rules[[]2[]]: `logs[[]never logged[]]` matched no *"])
    assert "rules[0]" not in result.stdout.str() and "rules[1]" not in result.stdout.str()


def test_without_strict_a_stale_rule_does_not_fail_the_session(pytester: pytest.Pytester, tmp_path: Path) -> None:
    strict_project(pytester, tmp_path, "false", "two-wave-drill")
    result = pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(passed=1)
    assert result.ret == 0 and "stale rule" not in result.stdout.str()
    result = pytester.runpytest(*PLUGIN_ARGS, "--drs-parity-strict")  # the option overrides the ini
    assert result.ret == 1 and "rules[1]: `*`" in result.stdout.str()  # recovery did not run: its rule is stale
