"""The benchmark curve of issue 13: side runs as plans grow and drills lengthen, the parity gate, each next to its goal.

    python bench/scale_curve.py [--servers 10 100 200 500 1000] [--hours 0.5 4 12] [--every 1 60]
                                [--sides monolithic decomposed]
                                [--backend moto] [--gate-backends moto moto-server] [--quick]
                                [--no-parity] [--no-gate]

Sections (each figure is printed next to its goal, with "met" or "not met"; nothing is asserted):
- plans of N servers (5 waves or fewer, never more than 200 a wave), one side per cell: start, 3 minutes, then until
  the execution is final; and drills of H hours of virtual time (the thirty-minute drill's plan, polling for up to
  100 minutes, then idle), captured every minute and every hour (--every): wall and CPU seconds of the side run,
  and the peak memory of its process;
- the parity run of the largest plan (`drs-parity run --scenario FILE --no-calibrate --jobs 1`): wall, CPU, peak
  memory, and the share of each stage (deploy, run, console reads, capture, normalise, doctor, diff, report) from
  timers around the functions that do them;
- the gate: `drs-parity run` on the reference matrix, uncalibrated, calibrated from an empty noise cache, and
  calibrated again (noise reused), per backend, with the calibrated-to-uncalibrated ratios.

Every cell runs in a fresh child process: its peak memory is that process's RSS high-water mark (os.wait4), and it
pays what a user's first run pays (imports, botocore's service models). The scenarios are synthesised from the
scenario model into a temporary folder (bench/synth_scenarios.py). The load average is printed at the start and the
end: on a busy machine wall times grow; CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from stage_timers import STAGES, install_stage_timers, stage_shares  # this folder is the script's sys.path[0]
from synth_scenarios import drill_scenario, plan_scenario, write_scenario

ROOT = Path(__file__).resolve().parent.parent

SIDES = ("monolithic", "decomposed")
SERVERS = (10, 100, 200, 500, 1000)
HOURS = (0.5, 4.0, 12.0)
EVERY = (1, 60)  # minutes between a drill's captures: every minute (the 30-minute drill's way), every hour
QUICK_SERVERS, QUICK_HOURS = (10, 100), (0.5,)
CLI = ("-c", "import sys; from drs_parity.cli.main import main; sys.exit(main())")


# -- the goals of issue 13 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Goal:
    text: str
    limit: float

    def verdict(self, value: float) -> str:
        return "met" if value <= self.limit else "not met"


GATE_SECONDS = {"moto": Goal("<= 20 s", 20.0), "moto-server": Goal("<= 60 s", 60.0)}
CALIBRATION = Goal("<= 1.25x", 1.25)
PARITY_SECONDS, PARITY_MB = Goal("<= 30 s", 30.0), Goal("<= 500 MB", 500.0)  # the 1,000-server parity run
NORMALISE_DIFF = Goal("<= 1 s", 1.0)  # normalising and diffing two 1,000-server timelines
DRILL_SECONDS = Goal("<= 10 s", 10.0)  # a 12-hour drill, per side
GOAL_SERVERS, GOAL_HOURS = 1000, 12.0


# -- a measured child process -----------------------------------------------------------------------------------------
@dataclass
class Measured:
    wall: float  # seconds around the child, measured here
    cpu: float  # user + system seconds of the child and the processes it waited for
    peak_mb: float  # the highest RSS of the child or of any process it waited for
    exit_code: int
    answer: dict[str, Any] = field(default_factory=dict)  # the child's JSON line, when it prints one
    error: str = ""


def measured(command: Sequence[str], env: dict[str, str] | None = None) -> Measured:
    """Run `command` to its end; its wall time, CPU time and peak memory, from wait4 (no other process is reaped)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
        problem = err.read().decode(errors="replace").strip().splitlines()
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    answer = _json_line(lines[-1]) if lines else {}
    return Measured(wall, usage.ru_utime + usage.ru_stime, peak, process.returncode, answer,
                    problem[-1] if problem else "")


def _json_line(line: str) -> dict[str, Any]:
    try:
        answer = json.loads(line)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def child_env(cache: Path | None = None) -> dict[str, str]:
    """The environment of a child: moto's server on a port of its own, the noise cache where asked."""
    from drs_parity.world.backends import MOTO_PORT_ENV, free_port

    env = {**os.environ, MOTO_PORT_ENV: str(free_port())}
    if cache is not None:
        env["DRS_PARITY_CACHE"] = str(cache)
    return env


# -- the children -----------------------------------------------------------------------------------------------------
WARM_UP = ROOT / "fixtures" / "scenarios" / "two-wave-drill.yaml"  # what a gate's earlier scenarios already paid for


def child_side(system: str, scenario_file: str, backend: str) -> None:
    """In a fresh process: a warm-up side run (the process's one-off costs: botocore's and moto's models, the first
    deploy), then the measured side run; its wall and CPU seconds, steps and unmet expectations as a JSON line."""
    from drs_parity.fixtures.scenario import load_scenario
    from drs_parity.run.driver import check_expectations, run_side

    warm_up = time.perf_counter()
    run_side(system, load_scenario(str(WARM_UP)), backend)
    warm_up = time.perf_counter() - warm_up
    scenario = load_scenario(scenario_file)
    wall, cpu = time.perf_counter(), time.process_time()
    timeline = run_side(system, scenario, backend)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stopped = timeline.stopped.reason if timeline.stopped is not None else None
    problems = ([stopped] if stopped else []) + check_expectations(scenario, timeline)
    print(json.dumps({"wall": wall, "cpu": cpu, "steps": len(timeline.steps), "problems": problems,
                      "warmUp": warm_up}))


def child_parity(scenario_file: str, backend: str, out: str) -> None:
    """In a fresh process: `drs-parity run` of one scenario, uncalibrated and serial, with stage timers."""
    from drs_parity.cli.main import main

    timers = install_stage_timers()
    started = time.perf_counter()
    exit_code = main(["run", "--scenario", scenario_file, "--backend", backend, "--no-calibrate", "--jobs", "1",
                      "--out", out])
    print(json.dumps({"wall": time.perf_counter() - started, "exit": exit_code, "stages": dict(timers.seconds),
                      "missing": timers.missing}))


# -- printing ---------------------------------------------------------------------------------------------------------
def title(text: str) -> None:
    print(f"\n== {text}", flush=True)


def load_line(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average at the {when}: {one:.2f} (1 min), {five:.2f} (5 min), {fifteen:.2f} (15 min)"


def goal_cells(value: float, goal: Goal | None) -> str:
    return f"{goal.text:<10} {goal.verdict(value):<8}" if goal else f"{'-':<10} {'':<8}"


SIDE_HEADER = (f"{'cell':<22} {'side':<11} {'steps':>5} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'warm-up s':>9}  "
               f"{'goal':<10} {'verdict':<8} outcome")


def side_row(cell: str, side: str, result: Measured, goal: Goal | None) -> str:
    answer = result.answer
    if "wall" not in answer:
        return f"{cell:<22} {side:<11} failed (exit {result.exit_code}): {result.error}"
    problems = answer.get("problems") or []
    outcome = "expectations met" if not problems else f"{len(problems)} unmet: {problems[0]}"
    return (f"{cell:<22} {side:<11} {answer['steps']:>5} {answer['wall']:>7.2f} {answer['cpu']:>7.2f} "
            f"{result.peak_mb:>8.0f} {answer['warmUp']:>9.2f}  {goal_cells(answer['wall'], goal)} {outcome}")


# -- the sections -----------------------------------------------------------------------------------------------------
def side_cells(label: str, files: list[tuple[str, Path, Goal | None]], sides: Sequence[str], backend: str) -> None:
    title(f"{label}: one side per fresh process on {backend} (wall and CPU of the side run after a warm-up run of "
          f"{WARM_UP.stem} in the same process, whose wall time is `warm-up s`; peak RSS of the process)")
    print(SIDE_HEADER, flush=True)
    for cell, path, goal in files:
        for side in sides:
            result = measured([sys.executable, __file__, "--child-side", side, str(path), backend], child_env())
            print(side_row(cell, side, result, goal), flush=True)


def parity_cell(servers: int, path: Path, backend: str, folder: Path) -> None:
    title(f"parity run of {servers} servers: drs-parity run --scenario {path.name} --no-calibrate --jobs 1 "
          f"(both sides, doctor, report), on {backend}")
    result = measured([sys.executable, __file__, "--child-parity", str(path), backend, str(folder / "parity-out")],
                      child_env())
    answer = result.answer
    if "stages" not in answer:
        print(f"failed (exit {result.exit_code}): {result.error}", flush=True)
        return
    big = servers == GOAL_SERVERS
    print(f"wall {result.wall:.2f} s  {goal_cells(result.wall, PARITY_SECONDS if big else None)}")
    print(f"peak {result.peak_mb:.0f} MB  {goal_cells(result.peak_mb, PARITY_MB if big else None)}")
    print(f"CPU {result.cpu:.2f} s; exit code {answer['exit']} (0 parity, 1 divergence, 2 error)")
    if answer["exit"] != 0:  # the benchmark's folder is temporary: keep what this run found
        kept = shutil.copytree(folder / "parity-out", tempfile.mkdtemp(prefix="drs-parity-curve-divergent-"),
                               dirs_exist_ok=True)
        print(f"its report is kept in {kept}")
    shares = stage_shares(answer["stages"], answer["wall"])
    normalise_diff = shares.get("normalise", 0.0) + shares.get("diff", 0.0)
    print(f"normalise + diff {normalise_diff:.2f} s  {goal_cells(normalise_diff, NORMALISE_DIFF if big else None)}")
    print(f"{'stage':<15} {'seconds':>8} {'share':>6}")
    for stage in (*STAGES, "other"):
        seconds = shares.get(stage, 0.0)
        print(f"{stage:<15} {seconds:>8.2f} {100 * seconds / max(answer['wall'], 1e-9):>5.1f}%")
    for missing in answer.get("missing") or ():
        print(f"  (not timed: {missing} is gone; its time is in `other`)")
    sys.stdout.flush()


GATE_RUNS = (("uncalibrated", ["--no-calibrate"]), ("calibrated, empty noise cache", []),
             ("calibrated, noise reused", []))


def gate(backends: Sequence[str], folder: Path) -> None:
    """`drs-parity run` on the reference matrix as a user runs it (default --jobs: the number of cores)."""
    for backend in backends:
        title(f"the gate: drs-parity run on {backend} (the reference matrix, both sides, default --jobs)")
        print(f"{'run':<31} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}  {'goal':<10} {'verdict':<8} exit", flush=True)
        cache, walls = folder / f"noise-{backend}", {}
        for label, options in GATE_RUNS:
            command = [sys.executable, *CLI, "run", "--backend", backend, "--out", str(folder / f"gate-{backend}"),
                       *options]
            result = measured(command, child_env(cache))
            walls[label] = result.wall
            failed = result.error if result.exit_code not in (0, 1) else ""  # 1 is a divergence, not a failure
            print(f"{label:<31} {result.wall:>7.2f} {result.cpu:>7.2f} {result.peak_mb:>8.0f}  "
                  f"{goal_cells(result.wall, GATE_SECONDS.get(backend))} {result.exit_code} {failed}", flush=True)
        for label, _ in GATE_RUNS[1:]:
            ratio = walls[label] / max(walls["uncalibrated"], 1e-9)
            print(f"{label} / uncalibrated: {ratio:.2f}x  {goal_cells(ratio, CALIBRATION)}", flush=True)


# -- command line -----------------------------------------------------------------------------------------------------
def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="*", metavar="N", help=f"plan sizes (default {SERVERS})")
    parser.add_argument("--hours", type=float, nargs="*", metavar="H", help=f"drill lengths (default {HOURS})")
    parser.add_argument("--every", type=int, nargs="+", default=list(EVERY), metavar="MINUTES",
                        help=f"minutes between a drill's captured steps (default {EVERY})")
    parser.add_argument("--sides", nargs="+", default=list(SIDES), metavar="SYSTEM")
    parser.add_argument("--backend", default="moto", help="backend of the side and parity cells (default moto)")
    parser.add_argument("--gate-backends", nargs="*", default=["moto", "moto-server"], metavar="BACKEND")
    parser.add_argument("--quick", action="store_true",
                        help=f"a first look: servers {QUICK_SERVERS}, hours {QUICK_HOURS}, no gate runs")
    parser.add_argument("--no-parity", dest="parity", action="store_false",
                        help="skip the parity run of the largest plan")
    parser.add_argument("--no-gate", dest="gate", action="store_false", help="skip the gate's runs")
    parser.add_argument("--child-side", nargs=3, metavar=("SYSTEM", "FILE", "BACKEND"), help=argparse.SUPPRESS)
    parser.add_argument("--child-parity", nargs=3, metavar=("FILE", "BACKEND", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.servers is None:
        args.servers = list(QUICK_SERVERS if args.quick else SERVERS)
    if args.hours is None:
        args.hours = list(QUICK_HOURS if args.quick else HOURS)
    if args.quick:
        args.gate = False
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.child_side:
        child_side(*args.child_side)
        return 0
    if args.child_parity:
        child_parity(*args.child_parity)
        return 0
    print(f"{os.cpu_count()} cores; {load_line('start')}", flush=True)
    with tempfile.TemporaryDirectory(prefix="drs-parity-curve-") as temporary:
        folder = Path(temporary)
        plans = [(n, write_scenario(plan_scenario(n), folder)) for n in sorted(args.servers)]
        drills = [(f"{h:g} h, every {every} min", write_scenario(drill_scenario(round(h * 60), every), folder),
                   DRILL_SECONDS if h == GOAL_HOURS else None) for h in sorted(args.hours) for every in args.every]
        if plans:
            side_cells("plans of N servers", [(f"{n} servers", path, None) for n, path in plans], args.sides,
                       args.backend)
        if drills:
            side_cells("drills of H hours, captured every minute or every hour", drills, args.sides, args.backend)
        if args.parity and plans:
            parity_cell(*plans[-1], args.backend, folder)
        if args.gate and args.gate_backends:
            gate(args.gate_backends, folder)
    print(f"\n{load_line('end')} (counting this benchmark's own cells, about 1)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
