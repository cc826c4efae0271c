"""`drs-parity run --shard K/N` and `drs-parity merge`: the README's CI matrix, as written, gives the serial report."""

from __future__ import annotations

import glob
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_parity.cli import run as run_module
from drs_parity.cli.main import main
from tests.harness.cli.test_cli import assert_one_line_error
from tests.harness.gate.shard_samples import DIVERGENT, SCENARIOS, stand_in_side
from tests.harness.gate.test_merge import without_timings

REPO = Path(__file__).resolve().parents[3]
SCENARIO_ARGS = [argument for name in SCENARIOS for argument in ("--scenario", name)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's project folder (their system description, a rules file) whose sides are the stand-in's."""
    monkeypatch.setattr(run_module, "run_side", stand_in_side)
    monkeypatch.chdir(tmp_path)
    description = (REPO / "fixtures" / "systems" / "decomposed.yaml").read_text()
    description = description.replace("../../decomposed/template.yaml", str(REPO / "decomposed" / "template.yaml"))
    (tmp_path / "systems").mkdir()
    (tmp_path / "systems" / "mine.yaml").write_text(description.replace("name: decomposed", "name: mine"))
    (tmp_path / "parity-rules.yaml").write_text("rules: []\n")
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def report(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "report.json").read_text())


def readme_ci_matrix() -> tuple[list[Any], str, str]:
    """The README's GitHub Actions recipe: the shard values, the shard job's run line, the merge job's run line."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"```yaml\n(# \.github/workflows/parity\.yml.*?)```", text, re.S)
    assert match, "the README's CI matrix is gone"
    jobs = yaml.safe_load(match.group(1))["jobs"]
    runs = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    (shard_run,) = [line for line in runs if line.startswith("drs-parity run ")]
    (merge_run,) = [line for line in runs if line.startswith("drs-parity merge ")]
    return jobs["parity"]["strategy"]["matrix"]["shard"], shard_run, merge_run


def as_argv(line: str, shard: Any = None) -> list[str]:
    """A run line as the job's shell runs it: the matrix value put in, globs expanded, `drs-parity` dropped."""
    words = shlex.split(line.replace("${{ matrix.shard }}", str(shard)))[1:]
    return [match for word in words for match in (sorted(glob.glob(word)) if "*" in word else [word])]


def test_the_readmes_ci_matrix_gives_the_serial_runs_report(capsys: pytest.CaptureFixture[str],
                                                            project: Path) -> None:
    shards, shard_run, merge_run = readme_ci_matrix()
    assert shards == [1, 2, 3]
    codes = []
    for shard in shards:
        code, _, err = cli(capsys, [*as_argv(shard_run, shard), *SCENARIO_ARGS])
        codes.append(code)
        assert f"drs-parity: shard {shard}/3: 1 scenario in this shard (of 3 in the matrix)" in err
        assert report(project / f"parity-{shard}")["shard"] == {"index": shard, "count": 3}
    serial_argv = [word for word in as_argv(shard_run) if not word.startswith("--shard") and word != "None/3"]
    serial_code, _, _ = cli(capsys, [*serial_argv, "--out", "serial", *SCENARIO_ARGS])
    code, out, _ = cli(capsys, as_argv(merge_run))
    assert code == serial_code == max(codes) == 1  # DIVERGENT diverges in its shard
    assert "drs-parity: DIVERGENCE (monolithic vs mine on moto): 2 parity, 1 divergent, 0 errors of 3" in out
    merged, serial = report(project / "parity-report"), report(project / "serial")
    assert without_timings(merged) == without_timings(serial)
    assert merged["shard"] is None and merged["matrix"] == list(SCENARIOS)
    assert sorted(path.name for path in (project / "parity-report").iterdir()) == [
        "junit.xml", "report.html", "report.json", "report.md"]


def test_an_empty_shard_is_a_valid_run_that_merge_takes(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = cli(capsys, ["run", "--scenario", DIVERGENT, "--shard", "2/2", "--out", "two"])
    assert code == 0 and "drs-parity: shard 2/2: 0 scenarios in this shard (of 1 in the matrix)" in err
    empty = report(project / "two")
    assert (empty["scenarios"], empty["shard"], empty["matrix"]) == ([], {"index": 2, "count": 2}, [DIVERGENT])
    assert cli(capsys, ["run", "--scenario", DIVERGENT, "--shard", "1/2", "--out", "one"])[0] == 1
    code, out, _ = cli(capsys, ["merge", "merged", "one/report.json", "two/report.json", "--format", "json"])
    assert code == 1 and json.loads(out)["scenarios"][0]["name"] == DIVERGENT


def test_a_shards_stale_rule_waits_for_the_merge(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "parity-rules.yaml").write_text(
        "rules:\n  - path: 'logs[Nothing like this]'\n    reason: kept for an old bug\n")
    codes = [cli(capsys, ["run", "--scenario", SCENARIOS[0], "--scenario", SCENARIOS[2], "--rules",
                          "parity-rules.yaml", "--strict", "--shard", f"{k}/2", "--out", f"s{k}"]) for k in (1, 2)]
    assert [code for code, _, _ in codes] == [0, 0]
    assert all("--strict: stale rules are judged by drs-parity merge" in err for _, _, err in codes)
    code, _, err = cli(capsys, ["merge", "merged", "s1/report.json", "s2/report.json"])
    assert code == 1 and "stale rule parity-rules.yaml: rules[0]" in err


@pytest.mark.parametrize(("argv", "fragment"), [
    (["merge", "out", "s1/report.json", "s1/report.json"], "are both shard 1/2 (overlapping shards)"),
    (["merge", "out", "s1/report.json"], "missing shard 2/2 (given: 1/2)"),
    (["merge", "out", "s1/report.json", "other/report.json"], "not shards of one run: right 'decomposed' in one, "
                                                               "'mine' in the other"),
    (["merge", "out", "s1/report.json", "old.json"], "old.json has schemaVersion 2; this drs-parity reads 3"),
    (["merge", "file", "s1/report.json", "s2/report.json"], "cannot write the report to file: it is not a folder"),
])
def test_merge_mistakes_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], project: Path, argv: list[str],
                                                fragment: str) -> None:
    for shard, right in (("1/2", "decomposed"), ("2/2", "decomposed")):
        cli(capsys, ["run", "--scenario", SCENARIOS[0], "--right", right, "--shard", shard, "--out",
                     f"s{shard[0]}"])
    cli(capsys, ["run", "--scenario", SCENARIOS[0], "--right", "systems/mine.yaml", "--shard", "2/2", "--out",
                 "other"])
    (project / "old.json").write_text('{"schemaVersion": 2, "left": "monolithic", "right": "decomposed"}')
    (project / "file").write_text("a file, not a folder")
    code, _, err = cli(capsys, argv)
    assert code == 2
    assert_one_line_error(err, fragment)


@pytest.mark.slow
def test_two_real_shards_merged_are_the_serial_run_on_moto(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    quick = ["--scenario", "cancel-wave-1", "--scenario", "drill-launch-failure", "--no-calibrate", "--jobs", "1"]
    serial_code, _, _ = cli(capsys, ["run", *quick, "--out", "serial"])
    shard_codes = [cli(capsys, ["run", *quick, "--shard", f"{k}/2", "--out", f"s{k}"])[0] for k in (1, 2)]
    assert [len(report(tmp_path / f"s{k}")["scenarios"]) for k in (1, 2)] == [1, 1]
    code, _, _ = cli(capsys, ["merge", "merged", "s1/report.json", "s2/report.json"])
    assert code == serial_code == max(shard_codes)
    assert without_timings(report(tmp_path / "merged")) == without_timings(report(tmp_path / "serial"))
