"""The timeline drawn as inline SVG: a lane per stage (live versions as bars, attempts
hatched, marks with distinct shapes so they read without colour), an approvals lane, a
time axis and the legend. No script, nothing fetched; every value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from pipeline_scripts.history.markup import RESULT_LABELS, esc, utc, when
from pipeline_scripts.history.rows import HistoryRow
from pipeline_scripts.history.timeline import Lane, Mark, Segment

#: Version colours: dark enough for white labels, none of them the red or orange of
#: the failure and rollback marks.
_PALETTE: Final = (
    "#2459c9",
    "#0f7a5c",
    "#7b3fc4",
    "#0b6e8a",
    "#8a5a12",
    "#a3356f",
    "#4a5565",
    "#3d7a1f",
)
_FAILED: Final = "#b42318"
_ROLLED_BACK: Final = "#c4520c"
_MUTED: Final = "#5b6472"

# Timeline geometry (SVG user units; the SVG scales to the page width).
_WIDTH: Final = 1100
_LEFT: Final = 150
_RIGHT: Final = 24
_AXIS: Final = 34
_LANE: Final = 58
_BAR: Final = 26
_TICK_STEPS: Final = tuple(
    timedelta(minutes=m)
    for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 43200)
)


def _colour(version: int) -> str:
    return _PALETTE[(version - 1) % len(_PALETTE)]


#: a quarter of the data's span when that is longer).
_NOW_REACH: Final = timedelta(hours=6)


class Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        span = max(end - start, timedelta(minutes=10))
        pad = span * 0.03
        self.start = start - pad
        self.end = end + pad
        self._seconds = (self.end - self.start).total_seconds()

    @classmethod
    def for_data(cls, moments: Sequence[datetime], now: datetime) -> Scale:
        """The data's own time range, reaching to ``now`` only when now is close to it:
        a history read long after its last event (a sandbox's virtual January read in
        November) would otherwise be a sliver at the left of the timeline."""
        first, last = min(moments), max(moments)
        reach = max((last - first) / 4, _NOW_REACH)
        return cls(first, now if last <= now <= last + reach else last)

    def contains(self, moment: datetime) -> bool:
        return self.start <= utc(moment) <= self.end

    def x(self, moment: datetime) -> float:
        """The horizontal position of ``moment``; one beyond the range sits at its edge
        (a version still live runs to the right end)."""
        fraction = (utc(moment) - self.start).total_seconds() / self._seconds
        fraction = min(max(fraction, 0.0), 1.0)
        return round(_LEFT + fraction * (_WIDTH - _LEFT - _RIGHT), 1)

    def ticks(self) -> tuple[list[datetime], timedelta]:
        span = self.end - self.start
        step = next((s for s in _TICK_STEPS if span / s <= 8), _TICK_STEPS[-1])
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        first = epoch + step * -(-(self.start - epoch) // step)
        ticks = []
        moment = first
        while moment <= self.end:
            ticks.append(moment)
            moment += step
        return ticks, step


def _tick_label(moment: datetime, step: timedelta, previous: datetime | None) -> str:
    if step >= timedelta(days=1):
        return moment.strftime("%b %d")
    if previous is None or previous.date() != moment.date():
        return moment.strftime("%b %d %H:%M")
    return moment.strftime("%H:%M")


def _segment_title(lane: str, segment: Segment, now: datetime) -> str:
    row = segment.row
    execution = f", execution {row.execution_id}" if row and row.execution_id else ""
    if segment.kind == "live":
        until = "now" if segment.end == now else when(segment.end)
        return f"{lane}: v{segment.version} live from {when(segment.start)} to {until}{execution}"
    label = RESULT_LABELS[segment.kind].lower()
    reason = f": {row.reason}" if row and row.reason else ""
    return (
        f"{lane}: v{segment.version} {label}, {when(segment.start)} to {when(segment.end)}"
        f"{execution}{reason}"
    )


def _mark_shape(result: str, x: float, y: float) -> str:
    """Distinct shapes, so that the marks read without colour too."""
    if result == "failed":
        return (
            f'<circle cx="{x}" cy="{y}" r="8" fill="{_FAILED}" stroke="#fff" stroke-width="1.5"/>'
            f'<path d="M{x - 3.5} {y - 3.5}L{x + 3.5} {y + 3.5}M{x + 3.5} {y - 3.5}'
            f'L{x - 3.5} {y + 3.5}" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>'
        )
    if result == "rolled-back":
        return (
            f'<rect x="{x - 9}" y="{y - 8}" width="18" height="16" rx="3" fill="{_ROLLED_BACK}" '
            f'stroke="#fff" stroke-width="1.5"/>'
            f'<path d="M{x} {y - 4.5}L{x - 5.5} {y}L{x} {y + 4.5}ZM{x + 5.5} {y - 4.5}'
            f'L{x} {y}L{x + 5.5} {y + 4.5}Z" fill="#fff"/>'
        )
    if result == "gate-rejected":
        return (
            f'<circle cx="{x}" cy="{y}" r="8" fill="#fff" stroke="{_FAILED}" stroke-width="2.5"/>'
            f'<path d="M{x - 5} {y + 5}L{x + 5} {y - 5}" stroke="{_FAILED}" stroke-width="2.5"/>'
        )
    if result == "superseded":
        return (
            f'<path d="M{x} {y - 8}L{x + 8} {y}L{x} {y + 8}L{x - 8} {y}Z" fill="{_MUTED}" '
            f'stroke="#fff" stroke-width="1.5"/>'
        )
    if result == "stopped":
        return (
            f'<rect x="{x - 7}" y="{y - 7}" width="14" height="14" fill="#1f2937" '
            f'stroke="#fff" stroke-width="1.5"/>'
        )
    return (
        f'<circle cx="{x}" cy="{y}" r="6" fill="#fff" stroke="{_MUTED}" stroke-width="2" '
        f'stroke-dasharray="2 2"/>'
    )


def _mark_title(lane: str, mark: Mark) -> str:
    row = mark.row
    parts = [f"{lane}: v{row.version} {RESULT_LABELS[mark.result].lower()} at {when(mark.at)}"]
    if row.reason:
        parts.append(row.reason)
    if row.rollback_target:
        parts.append(f"back to {row.rollback_target.describe()}")
    return " — ".join(parts)


def timeline_svg(
    lanes: list[Lane], approvals: list[HistoryRow], scale: Scale, now: datetime
) -> str:
    all_lanes = ["approvals", *(lane.stage for lane in lanes)]
    height = _AXIS + _LANE * len(all_lanes) + 8
    out: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-labelledby="timeline-title" aria-describedby="timeline-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="timeline-title">Which version was live in each stage, over time</title>',
        f'<desc id="timeline-desc">{esc(_timeline_summary(lanes))}</desc>',
        "<defs>",
        '<pattern id="hatch" width="7" height="7" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="7" height="7" fill="#fff" fill-opacity="0.55"/>'
        '<line x1="0" y1="0" x2="0" y2="7" stroke="#fff" stroke-width="3"/></pattern>',
        "</defs>",
    ]
    ticks, step = scale.ticks()
    previous: datetime | None = None
    for tick in ticks:
        x = scale.x(tick)
        out.append(
            f'<line class="grid" x1="{x}" y1="{_AXIS - 6}" x2="{x}" y2="{height - 8}"/>'
            f'<text class="tick" x="{x}" y="{_AXIS - 12}" text-anchor="middle">'
            f"{esc(_tick_label(tick, step, previous))}</text>"
        )
        previous = tick
    for index, name in enumerate(all_lanes):
        top = _AXIS + index * _LANE
        middle = top + _LANE / 2
        out.append(
            f'<rect class="lane{" alt" if index % 2 else ""}" x="0" y="{top}" '
            f'width="{_WIDTH}" height="{_LANE}"/>'
            f'<text class="lane-label" x="12" y="{middle + 5}">{esc(name)}</text>'
        )
        if index == 0:
            out.extend(_approval_marks(approvals, scale, middle))
            continue
        lane = lanes[index - 1]
        bar_top = middle - _BAR / 2
        for segment in lane.live:
            out.append(_bar(lane.stage, segment, scale, bar_top, attempt=False, now=now))
        for segment in lane.attempts:
            out.append(_bar(lane.stage, segment, scale, bar_top, attempt=True, now=now))
        for mark in lane.marks:
            out.append(
                f'<g class="mark mark-{mark.result}"><title>{esc(_mark_title(lane.stage, mark))}'
                f"</title>{_mark_shape(mark.result, scale.x(mark.at), bar_top - 2)}</g>"
            )
    if scale.contains(now):
        now_x = scale.x(now)
        out.append(
            f'<line class="now" x1="{now_x}" y1="{_AXIS - 6}" x2="{now_x}" y2="{height - 8}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def _bar(
    stage: str, segment: Segment, scale: Scale, top: float, *, attempt: bool, now: datetime
) -> str:
    x1 = scale.x(segment.start)
    x2 = max(scale.x(segment.end), x1 + 4)
    width = round(x2 - x1, 1)
    colour = _colour(segment.version)
    label = f"v{segment.version}"
    classes = f"bar bar-{segment.kind}"
    parts = [
        f'<g class="{classes}" data-version="{segment.version}" data-stage="{esc(stage)}">',
        f"<title>{esc(_segment_title(stage, segment, now))}</title>",
        f'<rect x="{x1}" y="{top}" width="{width}" height="{_BAR}" rx="4" fill="{colour}"/>',
    ]
    if attempt:
        outline = {"failed": _FAILED, "rolled-back": _ROLLED_BACK}.get(segment.kind, _MUTED)
        dash = ' stroke-dasharray="4 3"' if segment.kind == "in-progress" else ""
        parts.append(
            f'<rect x="{x1}" y="{top}" width="{width}" height="{_BAR}" rx="4" fill="url(#hatch)" '
            f'stroke="{outline}" stroke-width="2"'
            f"{dash}/>"
        )
    if width >= 30:
        fill = "#111827" if attempt else "#fff"
        parts.append(
            f'<text class="bar-label" x="{round(x1 + width / 2, 1)}" y="{top + _BAR / 2 + 5}" '
            f'text-anchor="middle" fill="{fill}">{label}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _approval_marks(approvals: list[HistoryRow], scale: Scale, middle: float) -> list[str]:
    out = []
    for row in approvals:
        if row.approval_time is None:
            continue
        x = scale.x(row.approval_time)
        who = f" by {row.approver}" if row.approver else ""
        what = "rejected" if row.trigger == "rejection-rollback" else "approved"
        if row.result == "gate-rejected":
            out.append(
                f'<g class="mark mark-gate-rejected"><title>'
                f"{esc(f'v{row.version} {what}{who} at ')}{esc(when(row.approval_time))}, "
                f"refused by a gate: {esc(row.reason or '')}</title>"
                f"{_mark_shape('gate-rejected', x, middle - 6)}"
                f'<text class="approval-label" x="{x}" y="{middle + 20}" text-anchor="middle">'
                f"v{row.version}</text></g>"
            )
            continue
        colour = _colour(row.version) if what == "approved" else _FAILED
        out.append(
            f'<g class="approval approval-{what}"><title>'
            f"{esc(f'v{row.version} {what}{who} at {when(row.approval_time)}')}</title>"
            f'<line x1="{x}" y1="{middle - 14}" x2="{x}" y2="{middle + 4}" stroke="{colour}" '
            f'stroke-width="2"/>'
            f'<path d="M{x} {middle - 16}l6 6l-6 6l-6 -6z" fill="{colour}" stroke="#fff"/>'
            f'<text class="approval-label" x="{x}" y="{middle + 20}" text-anchor="middle">'
            f"v{row.version}{' ✗' if what == 'rejected' else ''}</text></g>"
        )
    return out


def _timeline_summary(lanes: list[Lane]) -> str:
    parts = []
    for lane in lanes:
        spans = (
            ", ".join(f"v{s.version} from {when(s.start)}" for s in lane.live) or "no version live"
        )
        problems = [
            f"v{m.row.version} {RESULT_LABELS[m.result].lower()} at {when(m.at)}"
            for m in lane.marks
            if m.result in ("failed", "rolled-back")
        ]
        extra = f"; {'; '.join(problems)}" if problems else ""
        parts.append(f"{lane.stage}: {spans}{extra}.")
    return " ".join(parts)


LEGEND: Final = (
    '<ul class="legend" aria-label="Legend">'
    '<li><svg viewBox="0 0 34 18" aria-hidden="true"><rect x="1" y="2" width="32" height="14" '
    f'rx="3" fill="{_PALETTE[0]}"/></svg>Live version (one colour per version, labelled vN)</li>'
    '<li><svg viewBox="0 0 34 18" aria-hidden="true"><rect x="1" y="2" width="32" height="14" '
    f'rx="3" fill="{_PALETTE[1]}"/><rect x="1" y="2" width="32" height="14" rx="3" '
    f'fill="url(#hatch)" stroke="{_MUTED}" stroke-width="2"/></svg>Attempt that did not stay '
    "live (hatched)</li>"
    f'<li><svg viewBox="-10 -10 20 20" aria-hidden="true">{_mark_shape("failed", 0, 0)}</svg>'
    "Failed</li>"
    f'<li><svg viewBox="-10 -10 20 20" aria-hidden="true">{_mark_shape("rolled-back", 0, 0)}'
    "</svg>Rolled back</li>"
    f'<li><svg viewBox="-10 -10 20 20" aria-hidden="true">{_mark_shape("superseded", 0, 0)}'
    "</svg>Superseded</li>"
    f'<li><svg viewBox="-10 -10 20 20" aria-hidden="true">{_mark_shape("stopped", 0, 0)}'
    "</svg>Stopped</li>"
    f'<li><svg viewBox="-10 -10 20 20" aria-hidden="true">{_mark_shape("gate-rejected", 0, 0)}'
    "</svg>Refused by a gate</li>"
    '<li><svg viewBox="-10 -10 20 20" aria-hidden="true"><path d="M0 -8l6 6l-6 6l-6 -6z" '
    f'fill="{_PALETTE[2]}"/></svg>Approval (red: rejection)</li>'
    "</ul>"
)
