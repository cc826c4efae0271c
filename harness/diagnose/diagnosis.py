"""What the doctor reports: each link's check, the live evidence it may use, and the diagnosis with its renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drs_parity.errors import ExitCode

PASS, FAIL, SKIP = "pass", "fail", "skip"
SYMBOLS = {PASS: "✓", FAIL: "✗", SKIP: "–"}
Home = tuple[str | None, str | None]  # (account, region); account None where only a region is known


@dataclass
class Check:
    """One link's verdict: pass, fail or skip, and the evidence for it."""

    link: str
    title: str
    status: str
    evidence: str

    def line(self, number: int, width: int) -> str:
        """The check as one line of the doctor's listing."""
        return f"  {SYMBOLS[self.status]} {number:>2} {self.link:<{width}}  {self.evidence}"

    def to_dict(self) -> dict[str, str]:
        """The check's JSON form."""
        return {"link": self.link, "title": self.title, "status": self.status, "evidence": self.evidence}


@dataclass
class Evidence:
    """What only a live world can tell: the deployed execution-history table, the DRS emulator's request log, why
    state machine executions failed."""

    table: dict[str, Any] | None = None  # describe_table()["Table"]
    drs_requests: list[dict[str, Any]] = field(default_factory=list)
    drs_homes: dict[str, Home] = field(default_factory=dict)  # job or source server id -> where DRS keeps it
    iam_not_evaluated: list[dict[str, Any]] = field(default_factory=list)  # IamGuard.not_evaluated: let through
    machine_causes: dict[str, str] = field(default_factory=dict)  # state machine execution name -> its Cause
    # each successful StartRecovery with the invocation that made it (time, function by its role, requestId, trigger,
    # attempt, duplicate, params); None: not recorded, the timeline's calls are read instead
    wave_starts: list[dict[str, Any]] | None = None


@dataclass
class Diagnosis:
    """Every link's check on one side's run of one scenario, in chain order."""

    side: str
    scenario: str
    execution_id: str | None
    checks: list[Check]

    @property
    def first_broken(self) -> Check | None:
        """The first failing check: the link the chain broke at (None when healthy)."""
        return next((check for check in self.checks if check.status == FAIL), None)

    @property
    def exit_code(self) -> ExitCode:
        """DIVERGENCE when a link is broken, else OK."""
        return ExitCode.DIVERGENCE if self.first_broken else ExitCode.OK

    def render(self) -> str:
        """The doctor's terminal output: one line per check, then the first broken link (or that all held)."""
        width = max(len(check.link) for check in self.checks)
        lines = [f"drs-parity doctor: {self.side} on {self.scenario}, execution {self.execution_id or '(none)'}"]
        lines += [check.line(number, width) for number, check in enumerate(self.checks, start=1)]
        broken = self.first_broken
        lines.append("")
        lines.append(f"first broken link: {broken.link} ({broken.title}): {broken.evidence}" if broken
                     else "the polling chain is healthy: every link held")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The diagnosis's JSON form: verdict (the first broken link or `healthy`), exit code, checks."""
        broken = self.first_broken
        return {"side": self.side, "scenario": self.scenario, "executionId": self.execution_id,
                "verdict": broken.link if broken else "healthy", "exitCode": int(self.exit_code),
                "checks": [check.to_dict() for check in self.checks]}
