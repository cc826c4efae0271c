"""Wall-time figures of side runs: the scenario matrix, the 30-minute drill, the parity matrix, calls per poll.

    python bench/run_bench.py [--runs 3] [--backends moto moto-server] [--scenarios NAME ...] [--sides ...]
                              [--parity] [--no-matrix] [--no-drill] [--calls-per-poll 10 200]

Figures only, nothing is asserted. Each figure is wall seconds and this process's CPU seconds (moto's server runs
in a thread of this process, so its work is counted too); on a busy machine wall exceeds CPU, CPU is the steadier
figure. `first` is the first run of a cell in this process (the very first one also loads botocore's service
models), `steady` the median (and fastest) of the next --runs runs. The 30-minute drill is also run in a fresh
interpreter per backend and side, so its first run is a true cold start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DRILL = "thirty-minute-drill"
SIDES = ("monolithic", "decomposed")
BACKENDS = ("moto", "moto-server")


@dataclass
class Sample:
    wall: float
    cpu: float


@dataclass
class Figures:
    """One cell: its first run and its steady-state runs."""

    first: Sample
    steady: list[Sample] = field(default_factory=list)

    def steady_median(self, attribute: str) -> float | None:
        return statistics.median(getattr(s, attribute) for s in self.steady) if self.steady else None

    def steady_min(self) -> float | None:
        return min(s.wall for s in self.steady) if self.steady else None


def timed(action: Callable[[], Any]) -> Sample:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu)


def measure(side: str, scenario: str, backend: str, runs: int) -> Figures:
    """The first run of one scenario on one side and backend, then `runs` more."""
    from drs_parity.run.driver import run_side

    def run() -> None:
        run_side(side, scenario, backend)

    figures = Figures(first=timed(run))
    figures.steady = [timed(run) for _ in range(runs)]
    return figures


# -- printing -------------------------------------------------------------------------------------------------------
HEADER = (f"{'scenario':<24} {'side':<11} {'backend':<12} {'first wall':>10} {'first cpu':>9} "
          f"{'steady wall':>11} {'min wall':>8} {'steady cpu':>10}")


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def row(scenario: str, side: str, backend: str, figures: Figures) -> str:
    return (f"{scenario:<24} {side:<11} {backend:<12} {seconds(figures.first.wall):>10} "
            f"{seconds(figures.first.cpu):>9} {seconds(figures.steady_median('wall')):>11} "
            f"{seconds(figures.steady_min()):>8} {seconds(figures.steady_median('cpu')):>10}")


def title(text: str) -> None:
    print(f"\n== {text}", flush=True)


# -- sections -------------------------------------------------------------------------------------------------------
def scenario_matrix(scenarios: list[str], sides: list[str], backends: list[str], runs: int) -> None:
    title(f"side runs, seconds (steady: median of {runs} runs after the first, in this process)")
    print(HEADER, flush=True)
    for scenario in scenarios:
        for side in sides:
            for backend in backends:
                print(row(scenario, side, backend, measure(side, scenario, backend, runs)), flush=True)


def drill_in_fresh_interpreters(sides: list[str], backends: list[str], runs: int) -> None:
    title(f"{DRILL}: a fresh interpreter per backend and side (import, cold first run, {runs} steady runs)")
    print(f"{'import':>6}  " + HEADER, flush=True)
    for backend in backends:
        for side in sides:
            command = [sys.executable, __file__, "--child-drill", side, backend, "--runs", str(runs)]
            answer = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            figures = Figures(Sample(**answer["first"]), [Sample(**s) for s in answer["steady"]])
            print(f"{answer['import']:>6.2f}  " + row(DRILL, side, backend, figures), flush=True)


def child_drill(side: str, backend: str, runs: int) -> None:
    """In a fresh interpreter: import the driver and the world, then run the drill; figures to stdout as JSON."""
    imported = timed(lambda: (__import__("drs_parity.run.driver"), __import__("drs_parity.world.world")))
    figures = measure(side, DRILL, backend, runs)
    print(json.dumps({"import": imported.wall, "first": asdict(figures.first),
                      "steady": [asdict(sample) for sample in figures.steady]}))


PARITY_RUNS = (("uncalibrated", False), ("calibrated, each side run twice", True),
               ("calibrated, noise reused", True))
CALIBRATION_GOAL = 1.25  # issue 13: a calibrated run costs at most 1.25x an uncalibrated one


def parity_matrix(scenarios: list[str], backends: list[str], jobs: int) -> None:
    """run_parity over the scenarios: uncalibrated, calibrated from nothing, calibrated reusing that noise."""
    from drs_parity.fixtures.scenario import load_scenarios
    from drs_parity.fixtures.system import load_system
    from drs_parity.gate.noise_cache import NoiseCache
    from drs_parity.gate.parity import run_parity

    left, right = load_system(SIDES[0]), load_system(SIDES[1])
    for backend in backends:
        cache, walls = NoiseCache(), {}  # in memory: the third run reuses what the second found
        for label, calibrate in PARITY_RUNS:
            title(f"parity matrix on {backend}, {label}, --jobs {jobs}")
            result = run_parity(left, right, load_scenarios(scenarios), backend, calibrate=calibrate, jobs=jobs,
                                noise_cache=cache)
            for outcome in result.scenarios:
                timings = "  ".join(f"{name} {value:.2f}" for name, value in outcome.timings.items())
                print(f"  {outcome.scenario:<24} {timings}")
            walls[label] = result.seconds
            print(f"  total {result.seconds:.2f}s, exit code {result.exit_code}", flush=True)
        for label, _ in PARITY_RUNS[1:]:
            print(f"  {label} / uncalibrated: {walls[label] / walls['uncalibrated']:.2f}x "
                  f"(goal <= {CALIBRATION_GOAL}x)", flush=True)


def calls_per_poll(sides: list[str], servers: list[int]) -> None:
    """bench/calls_per_poll.py as its own command (its command line is its interface)."""
    for side in sides:
        title(f"AWS calls per poll: {side}")
        command = [sys.executable, str(ROOT / "bench" / "calls_per_poll.py"), "--system", side,
                   "--servers", *map(str, servers)]
        print(subprocess.run(command, check=True, capture_output=True, text=True).stdout, end="", flush=True)


# -- command line ---------------------------------------------------------------------------------------------------
def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="steady-state runs per cell after the first (default 3)")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--sides", nargs="+", default=list(SIDES))
    parser.add_argument("--scenarios", nargs="+", metavar="NAME", help="default: every shipped scenario")
    parser.add_argument("--no-matrix", dest="matrix", action="store_false", help="skip the scenario matrix")
    parser.add_argument("--no-drill", dest="drill", action="store_false",
                        help="skip the drill in fresh interpreters")
    parser.add_argument("--parity", action="store_true", help="also time run_parity over the scenarios")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes of the parity matrix (default 1)")
    parser.add_argument("--calls-per-poll", type=int, nargs="*", default=[10, 200], metavar="SERVERS",
                        help="servers per wave for bench/calls_per_poll.py (default 10 200; none to skip)")
    parser.add_argument("--child-drill", nargs=2, metavar=("SIDE", "BACKEND"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.child_drill:  # its parent chose moto's server port (the environment is inherited)
        child_drill(*args.child_drill, runs=args.runs)
        return 0
    # moto's server on a free port: 4566 may belong to a LocalStack or another run on this machine
    from drs_parity.fixtures.scenario import list_scenarios
    from drs_parity.world.backends import MOTO_PORT_ENV, free_port

    os.environ.setdefault(MOTO_PORT_ENV, str(free_port()))

    scenarios = args.scenarios or list_scenarios()
    if args.drill:
        drill_in_fresh_interpreters(args.sides, args.backends, args.runs)
    if args.matrix:
        scenario_matrix(scenarios, args.sides, args.backends, args.runs)
    if args.parity:
        parity_matrix(scenarios, args.backends, args.jobs)
    if args.calls_per_poll:
        calls_per_poll(args.sides, args.calls_per_poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
