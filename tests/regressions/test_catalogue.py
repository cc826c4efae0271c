"""The regression catalogue: each entry makes the parity run diverge where it says, and the doctor names its link."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from drs_parity.fixtures.chain import LINKS
from drs_parity.fixtures.regressions import list_regressions, load_catalogue, load_regression, regressions_dir
from drs_parity.gate.regressions import RegressionOutcome, check_regression

ENTRIES = list_regressions()


@pytest.fixture(scope="module")
def left_cache() -> dict[tuple[str, ...], Any]:
    """The monolith's timelines, run once per scenario for the whole module (deterministic on the virtual clock)."""
    return {}


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
def test_each_regression_diverges_where_it_says_and_the_doctor_names_its_link(name, left_cache):
    regression = load_regression(name)
    outcome = check_regression(regression, cache=left_cache)
    scenario = outcome.parity.scenarios[0]
    assert scenario.error is None
    assert outcome.parity.exit_code == 1
    missing = [path for path in regression.divergence if path not in divergent_paths(outcome)]
    assert not missing, f"not reported: {missing}; reported: {sorted(divergent_paths(outcome))[:10]}"
    broken = outcome.diagnosis.first_broken
    assert outcome.diagnosis.exit_code == 1
    assert broken is not None and broken.link == regression.link, outcome.diagnosis.render()


def test_a_variant_leaves_nothing_behind():
    import sys

    regression = load_regression("server-executions-field")
    from drs_parity.fixtures.regressions import regressed_system

    with regressed_system(regression) as variant:
        root, package = variant.root, variant.package
        assert (root / package / "execution_poller" / "rules.py").is_file()
        assert variant.system.template.read_text().count(f"Handler: {package}.") == 4
    assert not Path(root).exists()
    assert str(root) not in sys.path
    assert not [module for module in sys.modules if module.startswith(package)]


def test_every_entry_names_a_link_of_the_doctor():
    assert {entry.link for entry in load_catalogue()} <= set(LINKS)
