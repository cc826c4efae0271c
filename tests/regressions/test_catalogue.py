"""The regression catalogue: each entry makes the parity run diverge where it says, and the doctor names its link."""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drs_parity.fixtures.chain import LINKS
from drs_parity.fixtures.cloudformation import read_template
from drs_parity.fixtures.regressions import (
    HEALTHY, CodePatch, RegressionError, build_variant, list_regressions, load_catalogue, load_regression,
    regressed_system, regressions_dir,
)
from drs_parity.fixtures.system import load_system
from drs_parity.gate.regressions import RegressionOutcome, check_regression
from drs_parity.report.html_page import to_html
from tests.regressions.paste_ready import (
    assert_each_rule_accepts_exactly_its_divergence, assert_the_consolidated_file_accepts_all_once_reviewed,
)

ENTRIES = list_regressions()


@pytest.fixture(scope="module")
def left_cache() -> dict[tuple[str, ...], Any]:
    """The monolith's timelines, run once per scenario for the whole module (deterministic on the virtual clock)."""
    return {}


@pytest.fixture(scope="module")
def outcome_of(left_cache):
    """Each entry's outcome, run once for the module: the catalogue checks and the paste-ready rules share it."""
    outcomes: dict[str, RegressionOutcome] = {}

    def run(name: str) -> RegressionOutcome:
        if name not in outcomes:
            outcomes[name] = check_regression(name, cache=left_cache)
        return outcomes[name]
    return run


def divergent_paths(outcome: RegressionOutcome) -> set[str]:
    return {divergence.path for scenario in outcome.parity.scenarios for divergence in scenario.divergences
            if divergence.status == "divergence"}


def test_the_catalogue_covers_the_ten_failure_modes():
    assert len(ENTRIES) >= 10
    links = {entry.link for entry in load_catalogue()}
    assert links >= {"status-polling", "status-index", "poller-invoked", "poller-wrote", "aws-calls", "field-names",
                     "servers-enriched", "final-waves", "status-values"}


def test_the_readme_table_lists_every_entry_with_its_link():
    readme = (regressions_dir() / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| \[`([a-z0-9-]+)`\]\([a-z0-9-]+\.yaml\) \|.*\| `([a-z-]+)` \|", readme, re.M))
    assert rows == {entry.name: entry.link for entry in load_catalogue()}


def test_the_unmodified_pair_is_at_parity_and_healthy(left_cache):
    outcome = check_regression(None, cache=left_cache)
    assert outcome.parity.exit_code == 0, [d.path for d in outcome.parity.scenarios[0].divergences][:5]
    assert outcome.diagnosis.exit_code == 0, outcome.diagnosis.render()


@pytest.mark.parametrize("name", ENTRIES)
def test_each_regression_diverges_where_it_says_and_the_doctor_names_its_link(name, outcome_of):
    regression = load_regression(name)
    outcome = outcome_of(name)
    scenario = outcome.parity.scenarios[0]
    assert scenario.error is None
    assert outcome.parity.exit_code == 1
    missing = [path for path in regression.divergence if path not in divergent_paths(outcome)]
    assert not missing, f"not reported: {missing}; reported: {sorted(divergent_paths(outcome))[:10]}"
    broken = outcome.diagnosis.first_broken
    if regression.link == HEALTHY:  # no link broke: only the parity run (and the fault matrix) catch it
        assert outcome.diagnosis.exit_code == 0 and broken is None, outcome.diagnosis.render()
    else:
        assert outcome.diagnosis.exit_code == 1
        assert broken is not None and broken.link == regression.link, outcome.diagnosis.render()
    assert not variant_modules(name), "the variant's code stayed importable after its run"
    # the reviewer's picture: both sides' status tracks reach the HTML report as swimlanes
    assert len(scenario.tracks) == 2 and all(scenario.tracks)
    assert "<svg" in to_html(outcome.parity)


@pytest.mark.parametrize("name", ENTRIES)
def test_every_paste_ready_rule_of_each_entry_loads_and_accepts_exactly_its_divergence(name, outcome_of, tmp_path):
    divergences = outcome_of(name).parity.scenarios[0].divergences
    assert divergences
    assert_each_rule_accepts_exactly_its_divergence(divergences, tmp_path)
    assert_the_consolidated_file_accepts_all_once_reviewed(divergences, tmp_path)


def variant_modules(name: str) -> list[str]:
    """Modules still in sys.modules that were loaded from a variant's temp folder (regressed_system's prefix)."""
    prefix = str(Path(tempfile.gettempdir()) / f"drs-parity-{name}-")
    return [module for module, loaded in list(sys.modules.items())
            if str(getattr(loaded, "__file__", None) or "").startswith(prefix)]


def lambda_code(template: Path) -> dict[str, str]:
    """Logical id -> Code (functions) or Content (layers) of a template."""
    resources = read_template(template)["Resources"]
    return {logical_id: resource["Properties"].get("Code", resource["Properties"].get("Content"))
            for logical_id, resource in resources.items()
            if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion")}


def test_a_variant_patches_a_copy_of_the_function_folder_and_leaves_nothing_behind():
    decomposed = load_system("decomposed").template.parent.resolve()
    path_before = list(sys.path)
    with regressed_system(load_regression("server-executions-field")) as variant:
        root, poller = variant.root, decomposed / "execution_poller"
        assert variant.code == {poller: root / "code" / "execution_poller"}
        copied = variant.code[poller] / "rules.py"
        assert "serverExecutions" in copied.read_text() and "serverExecutions" not in (poller / "rules.py").read_text()
        assert lambda_code(variant.system.template) == {
            "SharedLayer": str(decomposed / "layer"), "DataManagementFunction": str(decomposed / "data_management"),
            "ExecutionHandlerFunction": str(decomposed / "execution_handler"),
            "ExecutionFinderFunction": str(decomposed / "execution_finder"),
            "ExecutionPollerFunction": str(variant.code[poller])}
        assert variant.system.template.read_text().count("Handler: handler.lambda_handler") == 4  # not renamed
    assert not Path(root).exists()
    assert sys.path == path_before


def test_a_patch_of_the_shared_library_lands_in_a_copy_of_the_layer():
    decomposed = load_system("decomposed").template.parent.resolve()
    with regressed_system(load_regression("drs-wrong-region")) as variant:
        layer = variant.code[decomposed / "layer"]
        assert list(variant.code) == [decomposed / "layer"]
        code = lambda_code(variant.system.template)
        assert code["SharedLayer"] == str(layer) and code["ExecutionPollerFunction"] == str(
            decomposed / "execution_poller")
        assert (layer / "shared" / "drs_gateway.py").read_text() != (
            decomposed / "layer" / "shared" / "drs_gateway.py").read_text()


def test_a_patch_outside_every_code_folder_is_a_stale_entry(tmp_path):
    entry = load_regression("server-executions-field")
    stale = replace(entry, code=(CodePatch("template.yaml", "Resources", "Nope"),))
    with pytest.raises(RegressionError, match="template.yaml is in none of the template's code folders or layers"):
        build_variant(stale, tmp_path)


def test_every_entry_names_a_verdict_of_the_doctor():
    assert {entry.link for entry in load_catalogue()} <= {*LINKS, HEALTHY}
