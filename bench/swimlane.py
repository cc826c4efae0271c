"""The swimlane picture of a catalogue entry: a parity run's report.html, screenshot to a PNG by headless Chromium.

    python bench/swimlane.py --scenario two-wave-drill --right-regression poller-name-wrong \
        --out /tmp/swimlane-report --png docs/swimlane.png

Runs `drs-parity run` the same way (moto, no calibration, IAM enforced), with every side's status track recorded
as gate/parity.py records it, writes the reports to --out and, with --png, screenshots report.html
(`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drs_parity.compare.rules import RuleSet  # noqa: E402
from drs_parity.compare.tracks import side_track  # noqa: E402
from drs_parity.fixtures.regressions import load_regression, regressed_system  # noqa: E402
from drs_parity.fixtures.scenario import load_scenarios  # noqa: E402
from drs_parity.fixtures.system import load_system  # noqa: E402
from drs_parity.gate.parity import run_parity  # noqa: E402
from drs_parity.gate.regressions import side_runner  # noqa: E402
from drs_parity.gate.results import ParityResult  # noqa: E402
from drs_parity.report.files import write_reports  # noqa: E402
from drs_parity.run.capture import Timeline  # noqa: E402

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--hide-scrollbars")


def recorded_run(scenario: str, regression: str | None) -> ParityResult:
    """The parity run of one scenario, each side's status track kept on its result."""
    tracks: dict[str, list[Any]] = {}
    entry = load_regression(regression) if regression else None
    with regressed_system(entry) if entry else contextlib.nullcontext() as variant:
        base = side_runner(variant)

        def runner(system: Any, scenario: Any, **options: Any) -> Timeline:
            timeline = base(system, scenario, **options)
            tracks.setdefault(scenario.name, []).append(side_track(timeline.to_dict()))
            return timeline

        right = variant.system if variant is not None else load_system("decomposed")
        result = run_parity(load_system("monolithic"), right, load_scenarios([scenario]), "moto", RuleSet(),
                            calibrate=False, runner=runner)
    for outcome in result.scenarios:
        if not getattr(outcome, "tracks", None):
            outcome.tracks = tracks.get(outcome.scenario, [])[:2]
    return result


def screenshot(page: Path, png: Path, size: str) -> None:
    """report.html as a PNG of `size` (WIDTHxHEIGHT), by headless Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("swimlane: no chromium on PATH (apt-get install -y chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--screenshot={png.resolve()}", f"--window-size={size}",
                    page.resolve().as_uri()], check=True, capture_output=True, timeout=120)


def main() -> int:
    """Run, write the reports, screenshot them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="two-wave-drill")
    parser.add_argument("--right-regression", default="poller-name-wrong", metavar="NAME")
    parser.add_argument("--out", type=Path, default=Path("/tmp/swimlane-report"))
    parser.add_argument("--png", type=Path, metavar="FILE", help="screenshot of report.html (e.g. docs/swimlane.png)")
    parser.add_argument("--window-size", default="1400,900", metavar="W,H")
    args = parser.parse_args()
    result = recorded_run(args.scenario, args.right_regression or None)
    paths = write_reports(result, args.out)
    print(f"swimlane: {result.verdict} — {paths['html']}")
    if args.png:
        screenshot(paths["html"], args.png, args.window_size)
        print(f"swimlane: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
