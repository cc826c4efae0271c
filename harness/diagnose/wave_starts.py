"""Waves started more than once: one execution's successful StartRecovery calls by wave, and what made each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from drs_parity.diagnose.diagnosis import FAIL, PASS, Evidence
from drs_parity.diagnose.timeline import TimelineView

START_RECOVERY = ("drs", "StartRecovery")
# The contract's StartRecovery tags: which execution and wave a DRS job belongs to (CONTRACT.md "Starting a wave"),
# and which chunk of the wave's servers (a wave of more than 200 servers is started as one job per chunk).
EXECUTION_TAG, WAVE_TAG = "drs-orchestration:executionId", "drs-orchestration:wave"
CHUNK_TAG = "drs-orchestration:chunk"


@dataclass(frozen=True)
class StartedWave:
    """What one StartRecovery call asked for: the execution, wave and chunk its tags name (None: untagged), and its
    servers."""

    execution: str | None
    wave: str | None
    chunk: str | None
    servers: tuple[str, ...]

    @property
    def part(self) -> str:
        """The wave, and its chunk when it is one of several (chunk 0 of a one-job wave reads as the wave)."""
        return f"{self.wave} chunk {self.chunk}" if self.chunk not in (None, "0") else str(self.wave)


def started_wave(params: Mapping[str, Any]) -> StartedWave:
    """The wave a StartRecovery call's params start, as the contract's tags and its source servers say."""
    tags = params.get("tags") or {}
    servers = _sorted_ids(server.get("sourceServerID") for server in params.get("sourceServers") or ())
    execution, wave, chunk = (tags.get(tag) for tag in (EXECUTION_TAG, WAVE_TAG, CHUNK_TAG))
    return StartedWave(*(None if value is None else str(value) for value in (execution, wave, chunk)), servers)


def is_wave_start(call: Mapping[str, Any]) -> bool:
    """A StartRecovery call that succeeded: DRS started a job."""
    return (call.get("service"), call.get("operation")) == START_RECOVERY and not call.get("error")


@dataclass(frozen=True)
class WaveStart:
    """One successful StartRecovery, when it was made and by what (the invocation, as far as the source tells)."""

    started: StartedWave
    time: float  # virtual time: the invocation's start (live evidence), else the end of the step that captured it
    made_by: str
    step: int | None = None  # the position of the step that captured it (from a timeline)


# -- where the starts come from: live evidence (each call's invocation), else the timeline (each call's step) --------
def _live_starts(records: list[Mapping[str, Any]]) -> Iterator[WaveStart]:
    for record in records:
        retry = f", attempt {record['attempt']}" if int(record.get("attempt") or 1) > 1 else ""
        duplicate = ", duplicate delivery" if record.get("duplicate") else ""
        made_by = (f"{record.get('function')} ({record.get('trigger')}, request {record.get('requestId')}{retry}"
                   f"{duplicate})")
        yield WaveStart(started_wave(record.get("params") or {}), float(record["time"]), made_by)


def _timeline_starts(view: TimelineView) -> Iterator[WaveStart]:
    for position, step in enumerate(view.steps):
        for call in (call for call in step.get("calls") or () if is_wave_start(call)):
            function = call.get("function")
            runs = [_run_kind(run) for run in step.get("invocations") or () if run.get("function") == function]
            made_by = f"{function} during step {step.get('index')} ({step.get('name')}; its runs: {', '.join(runs)})"
            yield WaveStart(started_wave(call.get("params") or {}), float(step.get("time", 0)), made_by, position)


def _run_kind(run: Mapping[str, Any]) -> str:
    """An invocation's trigger, with Lambda's retry attempt or second delivery when it was one."""
    attempt = int(run.get("attempt") or 1)
    return str(run.get("trigger")) + (f" attempt {attempt}" if attempt > 1 else "") + (
        " duplicate" if run.get("duplicate") else "")


# -- which wave of this execution a start started ---------------------------------------------------------------
class _ExecutionWaves:
    """The current execution's waves (their servers) and the steps and virtual time it was active in: what an
    untagged start is matched with."""

    def __init__(self, view: TimelineView) -> None:
        self.execution_id = view.execution_id
        history = view.item_history()
        waves = view.waves_of(history[-1][1]) if history else []
        self.servers = [(str(number), frozenset(_sorted_ids(view.value(wave, "wave", "serverIds"))))
                        for number, wave in enumerate(waves) if isinstance(wave, Mapping)]
        active = self._active_steps(view, history)
        self.positions = (active[0][0], active[-1][0]) if active else (len(view.steps), -1)
        self.times = (float(active[0][1].get("time", 0)), float(active[-1][1].get("time", 0))) if active else (0, -1)

    @staticmethod
    def _active_steps(view: TimelineView, history: list[tuple[Mapping[str, Any], dict[str, Any]]]
                      ) -> list[tuple[int, Mapping[str, Any]]]:
        """(position, step) from the step the item first appears in to the one it became final in, else the last."""
        statuses = {id(step): view.value(item, "execution", "status") for step, item in history}
        active: list[tuple[int, Mapping[str, Any]]] = []
        for position, step in enumerate(view.steps):
            if id(step) in statuses or active:
                active.append((position, step))
            if statuses.get(id(step)) in view.words.final_statuses:
                break
        return active

    def active_at(self, start: WaveStart) -> bool:
        """Whether this execution was active when the call was made: by its step, else by its time."""
        if start.step is not None:
            return self.positions[0] <= start.step <= self.positions[1]
        return self.times[0] <= start.time <= self.times[1]

    def part_of(self, start: WaveStart) -> str | None:
        """The wave (and chunk) it started: by its tags, else, while this execution was active, the wave whose servers
        include its servers (and those servers, a chunk of a wave without tags)."""
        started = start.started
        if started.execution is not None and started.wave is not None:
            return started.part if started.execution == self.execution_id else None
        if not self.active_at(start) or not started.servers:
            return None
        asked = set(started.servers)
        wave = next(((number, servers) for number, servers in self.servers if asked <= servers), None)
        if wave is None:
            return None
        return wave[0] if asked == wave[1] else f"{wave[0]} servers {', '.join(started.servers)}"


# -- the link ---------------------------------------------------------------------------------------------------------
def check_wave_started_once(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """No wave of the execution was started twice: one successful StartRecovery per wave, matched by the contract's
    tags (else by the wave's servers); each start of a wave started twice named with its time and invocation."""
    live = evidence.wave_starts if evidence is not None else None
    starts = list(_live_starts(live) if live is not None else _timeline_starts(view))
    waves = _ExecutionWaves(view)
    by_wave: dict[str, list[WaveStart]] = {}
    for start in starts:
        part = waves.part_of(start)
        if part is not None:
            by_wave.setdefault(part, []).append(start)
    twice = {wave: found for wave, found in by_wave.items() if len(found) > 1}
    if twice:
        return FAIL, "; ".join(_started_twice(view, wave, twice[wave]) for wave in sorted(twice, key=_wave_order))
    if not by_wave:
        return PASS, "no wave of this execution was started (no successful StartRecovery)"
    parts = sorted(by_wave, key=_wave_order)
    if len(parts) == 1:
        return PASS, f"wave {parts[0]} started once"
    return PASS, f"waves {', '.join(parts)} started once each"


def _started_twice(view: TimelineView, wave: str, starts: list[WaveStart]) -> str:
    calls = ", ".join(f"at t+{int(start.time - view.start)}s by {start.made_by}" for start in starts)
    return f"wave {wave} started {len(starts)} times: StartRecovery {calls}"


def _sorted_ids(ids: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(sorted(str(each) for each in ids or ()))


def _wave_order(part: str) -> tuple[int, str]:
    wave = part.split(" ", 1)[0]
    return (int(wave) if wave.isdigit() else -1, part)
