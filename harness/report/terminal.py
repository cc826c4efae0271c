"""What `drs-parity run` shows on a terminal: a progress line per scenario, then the summary and verdict."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from drs_parity.compare.divergence import DIVERGENCE
from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.report.blocks import summary_rows
from drs_parity.report.markdown import markdown_table
from drs_parity.report.runtime_failures import failure_line, one_line
from drs_parity.report.texts import STATUS_MARK, chain_line, headline, verdict_line

ERROR_LIMIT = 300  # characters of an errored scenario's reason (a refused request and its answer fit)
# An error's trailing note in brackets, such as `[the timeline so far (3 steps): PATH]`: kept whole, never cut.
TRAILING_NOTE = re.compile(r"^(?P<reason>.*?)(?P<note> \[[^\[\]]*\])?$", re.DOTALL)


def error_line(error: str) -> str:
    """Why a scenario errored, on one line: the reason cut like any message, its trailing note (where the timeline
    so far is) whole."""
    match = TRAILING_NOTE.match(" ".join(error.split()))
    assert match is not None, "the pattern matches any text"
    return one_line(match["reason"], ERROR_LIMIT) + (match["note"] or "")


def summary_table(result: ParityResult) -> str:
    """The summary table as Markdown (also what `drs-parity run` prints)."""
    return markdown_table(*summary_rows(result))


def terminal_summary(result: ParityResult) -> str:
    """What `drs-parity run` prints: summary table, why each erroring scenario errored, each scenario's Lambda runtime
    failures, each divergent scenario's chain and first divergence, verdict."""
    lines = [summary_table(result), ""]
    errors = [f"{s.scenario}: error: {error_line(s.error)}" for s in result.scenarios if s.error]
    failures = [line for s in result.scenarios if (line := failure_line(s, result.left, result.right))]
    for block in (errors, failures):
        lines += [*block, ""] if block else []
    for s in result.scenarios:
        if s.status == DIVERGENCE:
            lines += [f"{s.scenario}: {chain_line(s, result.left, result.right)}",
                      f"{s.scenario}: {headline(s, result.left, result.right)}", ""]
    return "\n".join([*lines, verdict_line(result)])


# -- progress --------------------------------------------------------------------------------------------------------
class Progress:
    """One line per scenario: on a terminal a `running` line rewritten in place when it finishes; elsewhere (a CI
    log) a plain line as each scenario finishes (name, status, seconds), nothing rewritten."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, tty: bool | None = None) -> None:
        """Writes to `stream` (stdout on a terminal, else stderr: `--format json > file` stays JSON); `enabled`
        (default on) turns it off; `tty` (default: whether `stream` is a terminal) chooses the line rewritten in place."""
        self.stream = stream or (sys.stdout if sys.stdout.isatty() else sys.stderr)
        self.enabled = True if enabled is None else enabled
        self.tty = self.stream.isatty() if tty is None else tty

    def start(self, scenario: str) -> None:
        """On a terminal, the scenario's `running` line."""
        if self.enabled and self.tty:
            self.stream.write(f"  {scenario} … running")
            self.stream.flush()

    def done(self, result: ScenarioResult) -> None:
        """On a terminal the line rewritten with the scenario's status; elsewhere a new line."""
        if not self.enabled:
            return
        detail = error_line(result.error) if result.error else f"{len(result.active)} divergence(s)"
        line = f"{result.scenario} {STATUS_MARK[result.status]} ({detail}, {result.seconds:.1f}s)"
        self.stream.write(f"\r\x1b[K  {line}\n" if self.tty else f"drs-parity: {line}\n")
        self.stream.flush()
