"""What one side's run shows the fault matrix: final statuses, StartRecovery calls per wave, server statuses lost."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from drs_parity.compare.tracks import EXECUTION_TABLE
from drs_parity.diagnose.wave_starts import is_wave_start, started_wave
from drs_parity.fixtures.vocabulary import ChainVocabulary

UNFINISHED_LAUNCHES = frozenset({"PENDING", "IN_PROGRESS"})  # DRS's launch statuses of a server not done yet
FAILED_WAVE = "FAILED"  # the contract's: a wave fails with its first failed server, its others as last polled

Outcome = list[dict[str, Any]]  # per execution, in order of appearance: status, wave statuses, server statuses


@dataclass(frozen=True)
class SideRun:
    """One run of one side as the matrix judges it; small and picklable, since it crosses process boundaries."""

    outcome: Outcome = field(default_factory=list)
    starts: dict[str, int] = field(default_factory=dict)  # "execution N wave W" -> successful StartRecovery calls
    lost: list[str] = field(default_factory=list)  # finished waves whose servers have no final status
    stopped: str | None = None  # where the system refused what the scenario needs
    error: str | None = None  # the run itself failed (a harness or configuration error)
    facts: dict[str, Any] = field(default_factory=dict)  # a baseline's facts (fault_cases.side_facts)
    trace: str = ""  # a digest of what ran: equal with and without a fault means the fault never took effect

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "starts": self.starts, "lost": self.lost, "stopped": self.stopped,
                "error": self.error}


class _Words:
    """The side's field names for what the matrix reads (the contract's unless its `chain:` renames them)."""

    def __init__(self, vocabulary: ChainVocabulary) -> None:
        self.vocabulary = vocabulary

    def __call__(self, level: str, name: str) -> str:
        return self.vocabulary.fields(level, name) or name


def summarise(timeline: Mapping[str, Any], vocabulary: ChainVocabulary) -> SideRun:
    """A captured timeline (its dict form) as the matrix judges it."""
    words = _Words(vocabulary)
    steps = [step for step in timeline.get("steps") or [] if isinstance(step, Mapping)]
    numbers = _execution_numbers(steps, words)
    last = _execution_table(steps[-1]) if steps else []
    executions = [item for item in last if _is_execution(item, words)]
    servers = _server_items(last, words)
    outcome = [_execution_outcome(item, servers, words, vocabulary) for item in _in_order(executions, numbers, words)]
    stopped = timeline.get("stopped")
    return SideRun(outcome=outcome, starts=_starts(steps, numbers), lost=list(_lost(outcome, vocabulary)),
                   stopped=f"stopped at step {stopped.get('step')}: {stopped.get('reason')}" if stopped else None)


def _execution_table(step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in (step.get("tables") or {}).get(EXECUTION_TABLE) or [] if isinstance(item, Mapping)]


def _is_execution(item: Mapping[str, Any], words: _Words) -> bool:
    """An execution item (the contract's server items beside it have neither status nor waves)."""
    return words("execution", "status") in item or words("execution", "waves") in item


def _execution_numbers(steps: list[Mapping[str, Any]], words: _Words) -> dict[str, int]:
    """Execution id -> N, in order of first appearance, so runs with different generated ids compare."""
    numbers: dict[str, int] = {}
    for step in steps:
        for item in _execution_table(step):
            if _is_execution(item, words):
                numbers.setdefault(str(item.get(words("execution", "executionId"))), len(numbers) + 1)
    return numbers


def _in_order(items: list[Mapping[str, Any]], numbers: dict[str, int], words: _Words) -> list[Mapping[str, Any]]:
    return sorted(items, key=lambda item: numbers.get(str(item.get(words("execution", "executionId"))), 0))


def _server_items(items: list[Mapping[str, Any]], words: _Words) -> dict[tuple[str, int, str], str]:
    """(execution id, wave number, source server) -> launch status, from the contract's server items."""
    found = {}
    for item in items:
        server = item.get(words("server", "sourceServerId"))
        if server is not None and not _is_execution(item, words) and item.get("waveNumber") is not None:
            key = (str(item.get(words("execution", "executionId"))), int(item["waveNumber"]), str(server))
            found[key] = str(item.get(words("server", "launchStatus")))
    return found


def _execution_outcome(item: Mapping[str, Any], servers: dict[tuple[str, int, str], str], words: _Words,
                       vocabulary: ChainVocabulary) -> dict[str, Any]:
    """Status, each wave's status and job, and every server status (inline or in its own item) of one execution."""
    execution_id = str(item.get(words("execution", "executionId")))
    waves = [wave for wave in item.get(words("execution", "waves")) or [] if isinstance(wave, Mapping)]
    statuses: dict[str, str] = {}
    for number, wave in enumerate(waves):
        for server in wave.get(words("wave", "serverStatuses")) or []:
            if isinstance(server, Mapping):
                statuses[f"{number}/{server.get(words('server', 'sourceServerId'))}"] = str(
                    server.get(words("server", "launchStatus")))
    statuses.update({f"{wave}/{server}": status for (owner, wave, server), status in servers.items()
                     if owner == execution_id})
    return {"status": str(item.get(words("execution", "status"))),
            "waves": [str(wave.get(words("wave", "status"))) for wave in waves],
            "started": [bool(wave.get(words("wave", "jobId"))) for wave in waves],
            "serverIds": [sorted(str(server) for server in wave.get(words("wave", "serverIds")) or [])
                          for wave in waves],
            "servers": dict(sorted(statuses.items()))}


def _calls(steps: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for step in steps:
        yield from (call for call in step.get("calls") or [] if isinstance(call, Mapping))


def _starts(steps: list[Mapping[str, Any]], numbers: dict[str, int]) -> dict[str, int]:
    """Successful StartRecovery calls per wave: by the contract's tags, else by the servers the job recovers."""
    starts: dict[str, int] = {}
    for call in filter(is_wave_start, _calls(steps)):
        started = started_wave(call.get("params") or {})
        if started.execution is not None and started.wave is not None:
            wave = f"execution {numbers.get(started.execution, '?')} wave {started.part}"
        else:
            wave = f"servers {', '.join(started.servers)}"
        starts[wave] = starts.get(wave, 0) + 1
    return starts


def _lost(outcome: Outcome, vocabulary: ChainVocabulary) -> Iterator[str]:
    """Every server of a wave that DRS ran and that is over needs its status: a final one when the wave completed;
    any when it failed (a wave fails with its first failed server, the others' statuses as last polled). One
    missing, or unfinished in a completed wave, is a write the run lost."""
    ended = set(vocabulary.final_wave_statuses) - {"CANCELLED"}
    for number, execution in enumerate(outcome, start=1):
        for wave, (status, started) in enumerate(zip(execution["waves"], execution["started"])):
            if status not in ended or not started:
                continue
            for server in execution["serverIds"][wave]:
                launch = execution["servers"].get(f"{wave}/{server}")
                if launch is None or (launch in UNFINISHED_LAUNCHES and status != FAILED_WAVE):
                    yield f"execution {number} wave {wave} is {status} but server {server} has status {launch}"


def run_trace(invocations: Iterable[Any]) -> str:
    """A digest of every invocation (when, what, which attempt, how it ended, the back-off it slept) and of each one's
    calls and their errors: a fault that took effect changes it, even one botocore's retries absorbed."""
    digest = hashlib.sha256()
    for invocation in invocations:
        calls = [(call.get("service"), call.get("operation"), call.get("error")) for call in invocation.calls]
        digest.update(json.dumps([invocation.started, invocation.function, invocation.trigger, invocation.attempt,
                                  invocation.duplicate, (invocation.error or {}).get("type"), invocation.slept,
                                  calls], default=str).encode())
    return digest.hexdigest()


# -- comparing a run with its baseline --------------------------------------------------------------------------------
def differences(baseline: Outcome, faulted: Outcome, baseline_name: str = "without the fault") -> list[str]:
    """How the faulted run's final statuses differ from `baseline`'s (by default the run without the fault),
    first difference first."""
    found = []
    for number in range(1, max(len(baseline), len(faulted)) + 1):
        before = baseline[number - 1] if number <= len(baseline) else None
        after = faulted[number - 1] if number <= len(faulted) else None
        if before is None or after is None:
            found.append(f"execution {number} {'missing' if after is None else 'not there ' + baseline_name}")
            continue
        found.extend(_execution_differences(number, before, after, baseline_name))
    return found


def _execution_differences(number: int, before: Mapping[str, Any], after: Mapping[str, Any],
                           baseline_name: str) -> Iterator[str]:
    if after["status"] != before["status"]:
        yield f"execution {number} ended {after['status']}, {before['status']} {baseline_name}"
    for wave, (was, now) in enumerate(_padded(before["waves"], after["waves"])):
        if was != now:
            yield f"execution {number} wave {wave} is {now}, {was} {baseline_name}"
    for server, (was, now) in _paired(before["servers"], after["servers"]):
        # unfinished without the fault: a server its failed wave stopped polling; the run with it may have seen more
        if was != now and not (was in UNFINISHED_LAUNCHES and now is not None):
            yield f"execution {number} server {server} is {now}, {was} {baseline_name}"


def _padded(first: list[str], second: list[str]) -> Iterable[tuple[str | None, str | None]]:
    length = max(len(first), len(second))
    return zip(first + [None] * (length - len(first)), second + [None] * (length - len(second)))


def _paired(first: Mapping[str, str], second: Mapping[str, str]) -> Iterable[tuple[str, tuple[Any, Any]]]:
    return ((key, (first.get(key), second.get(key))) for key in sorted({*first, *second}))
