"""The drs-parity command line: subcommand registry, scenario listing/validation, one-line user errors."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import pytest

from drs_parity.cli import registry
from drs_parity.cli.common import Subcommand
from drs_parity.cli.main import main
from drs_parity.world.world import YOUNG_GC_THRESHOLD


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("drs-parity: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_a_command_runs_with_the_young_generation_collected_seldom_and_leaves_the_collector_as_it_was(
        monkeypatch: pytest.MonkeyPatch) -> None:
    before, seen = gc.get_threshold(), []
    command = Subcommand("probe", "records the collector's thresholds", lambda parser: None,
                         lambda args: seen.append(gc.get_threshold()) or 0)
    monkeypatch.setattr(registry, "SUBCOMMANDS", [command])
    assert main(["probe"]) == 0
    assert seen == [(YOUNG_GC_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def test_scenarios_lists_names_with_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios")
    assert code == 0
    assert any(line.startswith("two-wave-drill ") and "every server launches" in line for line in out.splitlines())


def test_scenarios_validate_passes_for_shipped_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios", "--validate")
    assert code == 0
    assert "ok       pause-resume" in out and "scenarios valid" in out


def test_scenarios_validate_fails_on_a_bad_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "bad.yaml").write_text("name: bad\nsteps: []\n")
    monkeypatch.setenv("DRS_PARITY_FIXTURES", str(tmp_path))
    code, out, _ = run(capsys, "scenarios", "--validate")
    assert code == 1
    assert "invalid" in out and "bad.yaml" in out and "0 of 1 scenarios valid" in out


def test_unknown_scenario_is_exit_2_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "drs-emulator", "--port", "1", "--scenario", "no-such-scenario")
    assert code == 2 and out == ""
    assert_one_line_error(err, "unknown scenario 'no-such-scenario'", "two-wave-drill")


@pytest.mark.parametrize("exists", [False, True])
def test_a_fixtures_folder_with_nothing_in_it_is_named_with_the_variable_that_chose_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool) -> None:
    folder = tmp_path / "my-fixtures"
    if exists:
        folder.mkdir()
    monkeypatch.setenv("DRS_PARITY_FIXTURES", str(folder))
    code, _, err = run(capsys, "run", "--no-calibrate")
    assert code == 2
    assert_one_line_error(err, "unknown system 'monolithic'", f"none in {folder / 'systems'}",
                          "from $DRS_PARITY_FIXTURES")
    assert ("which is not a folder" in err) is not exists


def test_missing_scenario_file_is_exit_2_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "drs-emulator", "--port", "1", "--scenario", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert_one_line_error(err, "absent.yaml: no such file")


def test_missing_system_file_is_exit_2_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "side", "--system", str(tmp_path / "gone.yaml"), "--scenario", "two-wave-drill")
    assert code == 2
    assert_one_line_error(err, "gone.yaml: no such file")


def test_unknown_backend_is_exit_2_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "smoke", "--backend", "azure")
    assert code == 2
    assert_one_line_error(err, "unknown backend 'azure'", "moto-server")


def test_usage_mistakes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "side", "--system", "monolithic")
    assert code == 2
    assert_one_line_error(err, "--scenario")
    code, _, err = run(capsys)
    assert code == 2
    assert_one_line_error(err, "a command is required")
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert_one_line_error(err, "invalid choice: 'frobnicate'")


def test_subcommand_registry_accepts_new_commands(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--times", type=int, default=1)

    def echo(args: argparse.Namespace) -> int:
        print("hi " * args.times)
        return 7

    echo_command = Subcommand("echo", "repeat a word", arguments, echo)
    monkeypatch.setattr(registry, "SUBCOMMANDS", (*registry.SUBCOMMANDS, echo_command))
    code, out, _ = run(capsys, "echo", "--times", "2")
    assert (code, out.strip()) == (7, "hi hi")


def test_files_that_are_not_utf8_text_are_exit_2_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    for argv in (("side", "--system", "monolithic", "--scenario", str(binary)),
                 ("side", "--system", str(binary), "--scenario", "two-wave-drill"),
                 ("run", "--rules", str(binary)),
                 ("doctor", "--regression", str(binary))):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert_one_line_error(err, "binary.yaml: not UTF-8 text")


def test_a_malformed_timeline_is_exit_2_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.json"
    timeline.write_text('{"steps": [{"logs": [5]}]}')
    code, _, err = run(capsys, "doctor", "--timeline", str(timeline))
    assert code == 2
    assert_one_line_error(err, "timeline.json is not a well-formed timeline")


def test_a_regression_on_another_system_given_by_path_is_exit_2_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    from drs_parity.fixtures.system import resolve_system_path

    code, _, err = run(capsys, "doctor", "--system", str(resolve_system_path("monolithic")),
                       "--regression", "poller-name-wrong")
    assert code == 2
    assert_one_line_error(err, "regression poller-name-wrong applies to decomposed, not ")


def test_an_unwritable_report_folder_is_refused_before_the_run(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    occupied = tmp_path / "report"
    occupied.write_text("a file, not a folder")
    assert main(["run", "--scenario", "two-wave-drill", "--out", str(occupied)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("drs-parity: error: cannot write the report to") and "\n" not in err
    assert not (tmp_path / "report.md").exists()
