"""What `drs-parity run` shows on a terminal: a progress line per scenario, then the summary and verdict."""

from __future__ import annotations

import sys
from typing import TextIO

from drs_parity.gate.results import ParityResult, ScenarioResult
from drs_parity.report.blocks import summary_rows
from drs_parity.report.markdown import markdown_table
from drs_parity.report.texts import STATUS_MARK, chain_line, headline, verdict_line


def summary_table(result: ParityResult) -> str:
    """The summary table as Markdown (also what `drs-parity run` prints)."""
    return markdown_table(*summary_rows(result))


def terminal_summary(result: ParityResult) -> str:
    """What `drs-parity run` prints: summary table, each divergent scenario's chain and first divergence, verdict."""
    lines = [summary_table(result), ""]
    for s in result.scenarios:
        if s.status == "divergence":
            lines += [f"{s.scenario}: {chain_line(s, result.left, result.right)}",
                      f"{s.scenario}: {headline(s, result.left, result.right)}", ""]
    return "\n".join([*lines, verdict_line(result)])


# -- progress --------------------------------------------------------------------------------------------------------
class Progress:
    """One line per scenario on a terminal, rewritten in place when it finishes; silent when not a TTY."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        """Writes to `stream` (stdout); enabled on a TTY unless told."""
        self.stream = stream or sys.stdout
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def start(self, scenario: str) -> None:
        """The scenario's `running` line."""
        if self.enabled:
            self.stream.write(f"  {scenario} … running")
            self.stream.flush()

    def done(self, result: ScenarioResult) -> None:
        """The line rewritten with the scenario's status."""
        if self.enabled:
            detail = result.error or f"{len(result.active)} divergence(s)"
            self.stream.write(f"\r\x1b[K  {result.scenario} {STATUS_MARK[result.status]} "
                              f"({detail}, {result.seconds:.1f}s)\n")
            self.stream.flush()
