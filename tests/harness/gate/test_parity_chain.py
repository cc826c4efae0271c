"""End to end on moto: a parity report says which link of the chain broke and where the sides first diverged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drs_parity.cli.main import main
from drs_parity.gate.parity import run_parity
from drs_parity.fixtures.regressions import regressed_system
from drs_parity.gate.regressions import side_runner
from drs_parity.compare.classify import classify
from drs_parity.compare.rules import load_rules
from drs_parity.gate.results import ParityResult
from drs_parity.report.junit import to_junit
from drs_parity.report.markdown import to_markdown
from drs_parity.fixtures.scenario import load_scenarios
from drs_parity.fixtures.system import load_system

pytestmark = pytest.mark.slow
REGRESSION = "poller-name-wrong"
RIGHT = f"decomposed-{REGRESSION}"
DENIED = "Error invoking poller for execution <executionId:1>: AccessDeniedException: …"
CHAIN = f"monolithic: chain healthy · {RIGHT}: broken at `poller-invoked` — {DENIED}"
HEADLINE = f"first divergence at step 2 `advance 3m`: logs — {RIGHT} logged `{DENIED}` (absent on monolithic)"


@pytest.fixture(scope="module")
def result() -> ParityResult:
    """The monolith against the regressed decomposed side, run the way `drs-parity run --right-regression` does."""
    with regressed_system(REGRESSION) as variant:
        return run_parity(load_system("monolithic"), variant.system, load_scenarios(["two-wave-drill"]), "moto",
                          calibrate=False, runner=side_runner(variant))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """The same pair through the command line: a second, independent run."""
    out = tmp_path_factory.mktemp("report")
    code = main(["run", "--scenario", "two-wave-drill", "--right-regression", REGRESSION, "--no-calibrate",
                 "--out", str(out)])
    return code, out


def top_of(report: str) -> str:
    """A scenario's verdict section without the full list (which holds deployment-specific log text)."""
    return report.split("## `two-wave-drill`", 1)[1].split("### All", 1)[0]


def test_the_doctor_runs_on_both_sides_of_the_parity_run(result: ParityResult) -> None:
    scenario = result.scenarios[0]
    assert scenario.error is None and result.exit_code == 1
    assert scenario.left_chain.first_broken is None
    broken = scenario.right_chain.first_broken
    assert broken.link == "poller-invoked"
    assert broken.evidence.startswith("Error invoking poller for execution <executionId:1>: AccessDeniedException: ")


def test_the_report_names_the_broken_link_and_the_first_divergence_at_the_top(result: ParityResult) -> None:
    text = to_markdown(result)
    assert f"| COMPLETED | POLLING | {RIGHT}: poller-invoked |" in text
    assert f"- **Chain:** {CHAIN}\n- **Where:** {HEADLINE}; " in text
    assert text.index("**Chain:**") < text.index("### First divergent step: 2 `advance 3m`") < text.index("### All")
    failure = to_junit(result).split("<failure", 1)[1]
    assert "chain: monolithic: chain healthy" in failure.split("\n")[0]


def test_the_command_writes_the_same_verdicts(cli_run: tuple[int, Path], result: ParityResult) -> None:
    code, out = cli_run
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    scenario = report["scenarios"][0]
    assert report["schemaVersion"] == 3
    assert (scenario["chain"]["left"]["verdict"], scenario["chain"]["right"]["verdict"]) == ("healthy",
                                                                                            "poller-invoked")
    assert scenario["firstDivergence"]["step"] == {"index": 2, "name": "advance 3m"}
    assert scenario["firstDivergence"]["headline"].startswith(HEADLINE)
    assert top_of((out / "report.md").read_text()) == top_of(to_markdown(result))  # stable across runs


def test_the_consolidated_rules_of_one_run_accept_every_divergence_of_another(cli_run: tuple[int, Path],
                                                                                result: ParityResult,
                                                                                tmp_path: Path) -> None:
    _, out = cli_run
    rules_file = tmp_path / "rules.yaml"
    pasted = (out / "report.md").read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    rules_file.write_text(pasted.replace("TODO:", "Reviewed:"))  # a rule still reading TODO is refused
    rules = load_rules(rules_file)
    judged = classify(result.scenarios[0].active, rules)  # classify copies: the module's result stays unjudged
    assert [d.path for d in judged.divergences if d.status != "accepted"] == [] and judged.stale == []
