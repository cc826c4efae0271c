"""The pytest plugin: inert unless enabled; with --drs-parity (or ini) one item per scenario, failing on divergence."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

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
