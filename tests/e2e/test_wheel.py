"""The built wheel, installed in a fresh virtualenv, runs the tool and its pytest plugin from any folder."""

from __future__ import annotations

import re
import shlex

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a wheel build never needs: VCS data, caches, earlier builds and reports.
NOT_SOURCES = shutil.ignore_patterns(".git", ".tox", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".import_linter_cache", "parity-report", "reports")
# Variables that would point the installed tool back at the checkout or steer the inner pytest.
LEAKY_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DRS_PARITY_FIXTURES", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
             "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")
SCENARIO = "two-wave-drill"


@dataclass(frozen=True)
class Installed:
    """The wheel and the virtualenv it is installed in."""

    wheel: Path
    venv: Path
    site_packages: Path
    outside: Path  # a folder outside the checkout to run commands from

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """One of the venv's commands (python, drs-parity), as a shell with the venv activated would run it."""
        env = {key: value for key, value in os.environ.items() if key not in LEAKY_ENV}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.venv)
        return subprocess.run([str(self.venv / "bin" / tool), *args], cwd=cwd or self.outside, env=env,
                              capture_output=True, text=True, timeout=300)


def call(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(into: Path) -> Path:
    """Build from a copy of the checkout: an in-tree build would leave build/ and *.egg-info in it."""
    source = into / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCES)
    # No build isolation and no index: the test extra brings setuptools, so this works offline.
    call(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", into / "dist", source)
    (wheel,) = (into / "dist").glob("drs_parity-*.whl")
    return wheel


def make_venv(venv: Path, wheel: Path) -> Path:
    """A venv with only the wheel installed, seeing this environment's other packages but not its drs_parity."""
    call(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # pip installs into the new venv from here; done before the link below, so this env's drs-parity is not seen.
    call(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    site = Path(call(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    # Folders listed in a .pth are added to the path but their own .pth files are not run, so this
    # environment's dependencies become importable while its editable drs_parity finder stays out.
    ours = dict.fromkeys(sysconfig.get_path(kind) for kind in ("purelib", "platlib"))
    (site / "zz_test_environment.pth").write_text("".join(f"{folder}\n" for folder in ours))
    return site


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(work)
    venv = work / "venv"
    site = make_venv(venv, wheel)
    outside = work / "elsewhere"
    outside.mkdir()
    assert not outside.is_relative_to(REPO)
    return Installed(wheel, venv, site, outside)


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def recorded_names(wheel: Path) -> set[str]:
    """The paths the wheel's RECORD lists (what pip installs)."""
    with zipfile.ZipFile(wheel) as archive:
        (record,) = (name for name in archive.namelist() if name.endswith(".dist-info/RECORD"))
        return {line.split(",")[0] for line in archive.read(record).decode().splitlines() if line}


def expected_names() -> set[str]:
    """Every harness module and the bundled data the tool reads, as the wheel must name them."""
    harness = REPO / "harness"
    modules = {f"drs_parity/{path.relative_to(harness).as_posix()}" for path in harness.rglob("*.py")
               if "reference" not in path.relative_to(harness).parts and "__pycache__" not in path.parts}
    data = {f"drs_parity/reference/{path.relative_to(REPO).as_posix()}"
            for pattern in ("fixtures/scenarios/*.yaml", "fixtures/systems/*.yaml", "fixtures/regressions/*.yaml",
                            "monolithic/template.yaml", "decomposed/template.yaml",
                            "monolithic/**/*.py", "decomposed/**/*.py")
            for path in REPO.glob(pattern) if "__pycache__" not in path.parts}
    return modules | data


def test_wheel_installs_exactly_one_import_package(installed: Installed) -> None:
    names = recorded_names(installed.wheel)
    assert names <= wheel_names(installed.wheel)
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"drs_parity"}
    with zipfile.ZipFile(installed.wheel) as archive:
        tops_txt = [name for name in archive.namelist() if name.endswith(".dist-info/top_level.txt")]
        assert all(archive.read(name).decode().split() == ["drs_parity"] for name in tops_txt)


def test_wheel_carries_every_module_and_the_bundled_data(installed: Installed) -> None:
    expected = expected_names()
    for must in ("drs_parity/reference/monolithic/template.yaml", "drs_parity/reference/decomposed/template.yaml",
                 f"drs_parity/reference/fixtures/scenarios/{SCENARIO}.yaml",
                 "drs_parity/reference/fixtures/systems/monolithic.yaml",
                 "drs_parity/reference/fixtures/systems/decomposed.yaml"):
        assert must in expected
    assert any(name.startswith("drs_parity/reference/fixtures/regressions/") for name in expected)
    assert sorted(expected - recorded_names(installed.wheel)) == []


def test_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    probe = ("import importlib.util, drs_parity\n"
             "from drs_parity.fixtures.library import reference_dir\n"
             "print(drs_parity.__file__)\nprint(reference_dir())\n"
             "for name in ('harness', 'monolithic', 'decomposed', 'fixtures', 'tests'):\n"
             "    spec = importlib.util.find_spec(name)\n"
             "    print(spec and (spec.origin or list(spec.submodule_search_locations)))\n")
    done = installed.run("python", "-c", probe)
    assert done.returncode == 0, done.stderr
    module, reference, *others = done.stdout.splitlines()
    assert Path(module).parent == installed.site_packages / "drs_parity"
    assert Path(reference) == installed.site_packages / "drs_parity" / "reference"
    assert [other for other in others if str(REPO) in other] == []  # nothing importable from the checkout


def test_run_from_another_folder_writes_its_report_there(installed: Installed) -> None:
    done = installed.run("drs-parity", "run", "--scenario", SCENARIO, "--no-calibrate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drs-parity: PARITY (monolithic vs decomposed on moto): 1 parity" in done.stdout
    report = installed.outside / "parity-report"
    assert sorted(path.name for path in report.iterdir()) == ["junit.xml", "report.html", "report.json",
                                                              "report.md"]


def test_doctor_finds_a_healthy_chain(installed: Installed) -> None:
    done = installed.run("drs-parity", "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the polling chain is healthy" in done.stdout


def test_pytest_plugin_collects_and_passes_scenario_items(installed: Installed, tmp_path: Path) -> None:
    project = tmp_path / "scratch-project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\ndrs_parity_calibrate = false\n")
    # `python -m pytest`: pytest comes from the test environment, whose own `pytest` script runs its own python.
    done = installed.run("python", "-m", "pytest", "--drs-parity",
                         "--drs-parity-scenario", SCENARIO, "-v", "-p", "no:cacheprovider", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"drs-parity[{SCENARIO}] PASSED" in done.stdout
    assert " 1 passed" in done.stdout


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_ci_command() -> list[str]:
    """The `commands =` line of the README's tox recipe for a user's project, as written."""
    match = re.search(r"\[testenv:parity\]\ndeps = drs-parity\ncommands = (drs-parity run [^\n]+)", README.read_text())
    assert match, "the README's CI recipe is gone"
    return shlex.split(match.group(1))


def test_the_readmes_ci_recipe_runs_as_written(installed: Installed, tmp_path: Path) -> None:
    project = tmp_path / "user-project"
    (project / "systems").mkdir(parents=True)
    probe = "from drs_parity.fixtures.library import reference_dir; print(reference_dir())"
    reference = Path(installed.run("python", "-c", probe).stdout.strip())
    description = (reference / "fixtures" / "systems" / "decomposed.yaml").read_text()
    description = description.replace("../../decomposed/template.yaml", str(reference / "decomposed" / "template.yaml"))
    (project / "systems" / "mine.yaml").write_text(description.replace("name: decomposed", "name: mine"))
    (project / "parity-rules.yaml").write_text("rules: []\n")
    command = [part.replace("{toxworkdir}", str(tmp_path / "tox")) for part in readme_ci_command()]
    done = installed.run(*command, "--scenario", SCENARIO, "--no-calibrate", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drs-parity: PARITY (monolithic vs mine on moto)" in done.stdout
    assert (tmp_path / "tox" / "parity.xml").is_file()


def test_the_pytest_plugin_spreads_scenarios_over_xdist_workers(installed: Installed, tmp_path: Path) -> None:
    project = tmp_path / "xdist-project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\ndrs_parity_calibrate = false\n")
    done = installed.run("python", "-m", "pytest", "--drs-parity", "-n", "2", "-p", "no:cacheprovider",
                         "--drs-parity-scenario", SCENARIO, "--drs-parity-scenario", "cancel-wave-1", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 workers" in done.stdout and " 2 passed" in done.stdout
