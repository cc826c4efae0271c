"""The results of a parity run: per scenario (divergences, noise, chains, error) and for the whole run (exit code)."""

from __future__ import annotations

from dataclasses import dataclass, field

from drs_parity.compare.divergence import ACCEPTED, DIVERGENCE, NOISE, Divergence, NoiseEntry, Rule
from drs_parity.compare.order import ordered
from drs_parity.compare.tracks import Track
from drs_parity.diagnose.diagnosis import Diagnosis
from drs_parity.errors import ExitCode
from drs_parity.gate.shard import Shard

PARITY, ERROR = "parity", "error"  # a scenario's status besides DIVERGENCE
STATUSES = (DIVERGENCE, ACCEPTED, NOISE)  # the statuses a classified divergence can have
VERDICTS = {ExitCode.OK: PARITY, ExitCode.DIVERGENCE: DIVERGENCE, ExitCode.ERROR: ERROR}


@dataclass
class ScenarioResult:
    """One scenario run on both sides: divergences (all statuses), noise, final statuses, chains, error, timings."""

    scenario: str
    divergences: list[Divergence] = field(default_factory=list)
    noise: list[NoiseEntry] = field(default_factory=list)
    left_final: str | None = None
    right_final: str | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    left_chain: Diagnosis | None = None  # the doctor on each side's timeline (normalised references)
    right_chain: Diagnosis | None = None
    tracks: list[Track] = field(default_factory=list)  # each side's status track, left then right, as far as they ran
    # The scenario's whole wall time (side runs, normalising, diffing, the doctor, calibration or its reuse); not
    # compared: no two runs share it.
    wall_seconds: float | None = field(default=None, compare=False)

    def with_status(self, status: str) -> list[Divergence]:
        """Divergences with `status` (divergence | accepted | noise), causes before effects."""
        return ordered(d for d in self.divergences if d.status == status)

    @property
    def active(self) -> list[Divergence]:
        """The divergences that decide the verdict."""
        return self.with_status(DIVERGENCE)

    @property
    def status(self) -> str:
        """parity | divergence | error."""
        if self.error:
            return ERROR
        return DIVERGENCE if self.active else PARITY

    @property
    def seconds(self) -> float:
        """The scenario's wall time from start to result; the sum of its side runs where that was not measured."""
        return self.wall_seconds if self.wall_seconds is not None else sum(self.timings.values())

    @property
    def first_step(self) -> list[Divergence]:
        """The active divergences of the earliest divergent step, causes before effects."""
        active = self.active
        return [d for d in active if d.step_index == active[0].step_index] if active else []


@dataclass
class ParityResult:
    """A whole run: the pair, the backend, every scenario, the rules that matched nothing."""

    left: str
    right: str
    backend: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    stale_rules: list[Rule] = field(default_factory=list)
    rules_source: str | None = None
    calibrated: bool = True
    seconds: float = 0.0
    strict: bool = False  # --strict: a stale rule fails the gate
    shard: Shard | None = None  # the slice of the matrix this run is (None: the whole of it)
    matrix: list[str] = field(default_factory=list)  # the whole matrix's cell names, when recorded

    @property
    def cells(self) -> list[str]:
        """The whole matrix's cell names: those recorded, else this run's own scenarios."""
        return list(self.matrix) or [result.scenario for result in self.scenarios]

    @property
    def partial(self) -> bool:
        """Whether this run is one shard of several: the others' scenarios are not in it."""
        return self.shard is not None and self.shard.count > 1

    @property
    def strict_failure(self) -> bool:
        """Whether --strict fails this run on its stale rules; a shard of several cannot tell (a rule may match in
        another shard): `drs-parity merge` decides."""
        return self.strict and bool(self.stale_rules) and not self.partial

    @property
    def exit_code(self) -> ExitCode:
        """OK parity, DIVERGENCE a divergence (or, strict, a stale rule), ERROR a harness error in any scenario."""
        statuses = {result.status for result in self.scenarios}
        if ERROR in statuses:
            return ExitCode.ERROR
        return ExitCode.DIVERGENCE if DIVERGENCE in statuses or self.strict_failure else ExitCode.OK

    @property
    def verdict(self) -> str:
        """The exit code as a word."""
        return VERDICTS[self.exit_code]

    def all_with_status(self, status: str) -> list[Divergence]:
        """Divergences with `status` over every scenario, each scenario's causes before effects."""
        return [d for result in self.scenarios for d in result.with_status(status)]
