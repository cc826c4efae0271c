"""Both sides' execution and wave statuses over the steps as an inline SVG: one swimlane per side, steps aligned."""

from __future__ import annotations

import hashlib
from html import escape
from typing import Iterable

from drs_parity.compare.tracks import Track
from drs_parity.gate.results import ScenarioResult

ROW_HEIGHT, LABEL_WIDTH, GAP = 20, 150, 14  # pixels
STEP_WIDTHS, LANE_WIDTH = (46, 130), 900  # a step's width: the lanes fill LANE_WIDTH within these bounds
NAME_HEIGHT = 110  # room under the lanes for the step names, written at a slant
STATUS_COLOURS = {"PENDING": "#c9ccd1", "STARTED": "#9ec5fe", "IN_PROGRESS": "#6ea8fe", "POLLING": "#3d8bfd",
                  "RUNNING": "#3d8bfd", "PAUSED": "#ffda6a", "CANCELLING": "#fd9843", "CANCELLED": "#fd7e14",
                  "COMPLETED": "#75b798", "SUCCEEDED": "#75b798", "PARTIAL": "#a3cfbb", "FAILED": "#ea868f",
                  "TIMED_OUT": "#dc3545", "None": "#ffffff"}
PALETTE = ("#b197fc", "#63e6be", "#ffa8a8", "#ffd43b", "#74c0fc", "#e599f7", "#a9e34b", "#ff922b")
Row = tuple[str, list[str | None]]  # a lane's row: its label and the status at each step (None: no such record)


def tracks_of(result: ScenarioResult) -> list[Track]:
    """The result's status tracks, left then right, as far as the sides ran ([] when not recorded)."""
    return list(result.tracks)


def step_width(steps: int) -> int:
    """A step column's width: few steps get wide columns (their statuses readable), many get narrow ones."""
    return max(STEP_WIDTHS[0], min(STEP_WIDTHS[1], LANE_WIDTH // max(steps, 1)))


def colour(status: str) -> str:
    """A status's fill: the known ones by meaning, any other always the same colour of the palette."""
    if status in STATUS_COLOURS:
        return STATUS_COLOURS[status]
    return PALETTE[int(hashlib.sha1(status.encode()).hexdigest(), 16) % len(PALETTE)]


def lane_rows(track: Track) -> list[Row]:
    """One row per execution (in order of appearance) and one under it per wave: the status at every step."""
    executions: dict[str, int] = {}  # execution id -> most waves seen
    for step in track:
        for execution in step["executions"]:
            executions[execution["id"]] = max(executions.get(execution["id"], 0), len(execution["waves"]))
    rows: list[Row] = []
    for number, (name, waves) in enumerate(executions.items(), start=1):
        at = [next((e for e in step["executions"] if e["id"] == name), None) for step in track]
        prefix = "execution" if len(executions) == 1 else f"execution {number}"
        rows.append((prefix, [e["status"] if e else None for e in at]))
        rows += [(f"  wave {wave + 1}", [e["waves"][wave] if e and wave < len(e["waves"]) else None for e in at])
                 for wave in range(waves)]
    return rows


def runs(statuses: list[str | None]) -> Iterable[tuple[int, int, str]]:
    """Consecutive steps with the same status as (first step, step count, status); steps without one skipped."""
    start = 0
    for position in range(1, len(statuses) + 1):
        if position == len(statuses) or statuses[position] != statuses[start]:
            if statuses[start] is not None:
                yield start, position - start, str(statuses[start])
            start = position


def row_svg(row: Row, y: int, track: Track, step_px: int) -> str:
    """One row: its label, then a coloured segment per run of one status, labelled when wide enough."""
    label, statuses = row
    parts = [f'<text x="4" y="{y + 14}" class="l">{escape(label)}</text>']
    for first, count, status in runs(statuses):
        x, width = LABEL_WIDTH + first * step_px, count * step_px
        steps = f"steps {track[first]['index']}–{track[first + count - 1]['index']}" if count > 1 else \
            f"step {track[first]['index']} {track[first]['name']}"
        parts.append(f'<rect x="{x}" y="{y + 1}" width="{width - 1}" height="{ROW_HEIGHT - 2}" rx="3" '
                     f'fill="{colour(status)}" stroke="#555" stroke-width=".5"><title>{escape(label.strip())}: '
                     f'{escape(status)} ({escape(steps)})</title></rect>')
        if width >= 7 * len(status):
            parts.append(f'<text x="{x + 4}" y="{y + 14}" class="s">{escape(status)}</text>')
    return "".join(parts)


def failure_marks(track: Track, y: int, step_px: int) -> str:
    """A red cross on the side's title row at each step where a Lambda invocation failed."""
    parts = []
    for position, step in enumerate(track):
        if step["failures"]:
            texts = "; ".join(f"{f['function']}: {f['type']}: {f['message']}" for f in step["failures"])
            parts.append(f'<text x="{LABEL_WIDTH + position * step_px + step_px // 2}" y="{y + 14}" '
                         f'class="x" text-anchor="middle">✕<title>{escape(texts)}</title></text>')
    return "".join(parts)


def lane_svg(side: str, track: Track, y: int, width: int, step_px: int) -> tuple[str, int]:
    """A side's swimlane (title row, then its rows) starting at `y`; the SVG and the y under it."""
    parts = [f'<rect x="0" y="{y}" width="{width}" height="{ROW_HEIGHT}" fill="#eef1f4"/>',
             f'<text x="4" y="{y + 14}" class="t">{escape(side)}</text>', failure_marks(track, y, step_px)]
    rows = lane_rows(track) or [("(no execution)", [None] * len(track))]
    for number, row in enumerate(rows, start=1):
        parts.append(row_svg(row, y + number * ROW_HEIGHT, track, step_px))
    return "".join(parts), y + (len(rows) + 1) * ROW_HEIGHT + GAP


def step_names(track: Track, y: int, step_px: int) -> str:
    """Each step's index and name under its column, at a slant."""
    parts = []
    for position, step in enumerate(track):
        x = LABEL_WIDTH + position * step_px + step_px // 2
        parts.append(f'<text transform="translate({x},{y + 4}) rotate(35)" class="n">{step["index"]} '
                     f'{escape(short_name(str(step["name"] or "")))}</text>')
    return "".join(parts)


def short_name(name: str, limit: int = 28) -> str:
    """A step's name under its column, cut at `limit` characters."""
    return name if len(name) <= limit else name[:limit - 1] + "…"


def divergence_mark(track: Track, step_index: int | None, height: int, step_px: int) -> str:
    """A dashed red line through both lanes at the first divergent step, labelled."""
    positions = [position for position, step in enumerate(track) if step["index"] == step_index]
    if not positions:
        return ""
    x = LABEL_WIDTH + positions[0] * step_px
    return (f'<rect x="{x}" y="14" width="{step_px}" height="{height - 14}" fill="none" stroke="#d00" '
            f'stroke-width="2" stroke-dasharray="5 3"/><text x="{x}" y="11" class="d">first divergence: '
            f'step {step_index}</text>')


def swimlane_svg(result: ScenarioResult, left: str, right: str) -> str | None:
    """Both sides' swimlanes, aligned step by step, the first divergence marked; None without status tracks."""
    tracks = tracks_of(result)
    if not tracks:
        return None
    longest = max(tracks, key=len)
    step_px = step_width(len(longest))
    width = LABEL_WIDTH + step_px * len(longest) + 4
    parts, y = [], 18
    for side, track in zip((left, right), tracks):
        lane, y = lane_svg(side, track, y, width, step_px)
        parts.append(lane)
    first = result.first_step
    parts.append(divergence_mark(longest, first[0].step_index if first else None, y - GAP, step_px))
    parts.append(step_names(longest, y, step_px))
    style = ("<style>.l,.t,.s,.n,.d,.x{font:11px system-ui,sans-serif}.t{font-weight:bold}.s{font-size:10px}"
             ".d{fill:#d00;font-weight:bold}.x{fill:#d00;font-size:14px;font-weight:bold}.n{fill:#333}</style>")
    return (f'<svg class="swimlane" width="{width + NAME_HEIGHT}" height="{y + NAME_HEIGHT}" '
            f'role="img" aria-label="execution and wave statuses of {escape(left)} and {escape(right)} per step">'
            f'{style}{"".join(parts)}</svg>')


def swimlane_caption(left: str, right: str) -> str:
    """What the picture shows, under it."""
    return (f"Execution and wave statuses per step, {left} above {right}; ✕ a failed Lambda invocation "
            "(hover for the error); the dashed box is the first divergent step.")

