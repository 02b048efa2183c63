"""``greenlight history --format html``: one self-contained page an auditor can open anywhere.

The page holds a timeline per stage (which version was live when, with failures and
rollbacks marked) and the full history table below it. Everything is inline: the CSS,
the SVG timeline (drawn here, so the page needs no script), no fonts, images or links
to fetch. Every value from the rows is escaped: approval descriptions are free text.

How the timeline reads the rows of one stage, oldest first:

* ``deployed`` makes its version live from the row's start (a rollback execution makes
  the version in ``rollback_target`` live, when it names one as ``v<N>``);
* ``rolled-back`` shows the attempt, hatched, and then the version named by
  ``rollback_target`` (or else the one live before) is live again from its end;
* ``failed``, ``superseded``, ``stopped`` and ``in-progress`` show the attempt over
  whatever stayed live; ``skipped`` and ``gate-rejected`` are marks only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Final

from pipeline_scripts.history_model import ROLLBACK_TRIGGERS, HistoryRow, short_identity
from pipeline_scripts.history_summary import HistorySummary
from pipeline_scripts.history_summary_html import SUMMARY_CSS, summary_section

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

_RESULT_LABELS: Final = {
    "deployed": "Deployed",
    "failed": "Failed",
    "rolled-back": "Rolled back",
    "superseded": "Superseded",
    "stopped": "Stopped",
    "in-progress": "In progress",
    "skipped": "Skipped",
    "gate-rejected": "Gate rejected",
}
_ATTEMPT_RESULTS: Final = frozenset(
    {"failed", "rolled-back", "superseded", "stopped", "in-progress"}
)
_MARKED_RESULTS: Final = frozenset(
    {"failed", "rolled-back", "superseded", "stopped", "gate-rejected", "skipped"}
)

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


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def _colour(version: int) -> str:
    return _PALETTE[(version - 1) % len(_PALETTE)]


def _row_time(row: HistoryRow) -> datetime | None:
    moment = row.started or row.ended or row.approval_time
    return _utc(moment) if moment else None


@dataclass
class _Segment:
    version: int
    start: datetime
    end: datetime
    kind: str  # "live" or a result of _ATTEMPT_RESULTS
    row: HistoryRow | None


@dataclass
class _Mark:
    at: datetime
    result: str
    row: HistoryRow


@dataclass
class _Lane:
    stage: str
    live: list[_Segment] = field(default_factory=list)
    attempts: list[_Segment] = field(default_factory=list)
    marks: list[_Mark] = field(default_factory=list)

    @property
    def live_now(self) -> _Segment | None:
        return self.live[-1] if self.live else None


def _target_version(row: HistoryRow) -> int | None:
    return row.rollback_target.version if row.rollback_target else None


def _build_lane(stage: str, rows: Sequence[HistoryRow], now: datetime) -> _Lane:
    lane = _Lane(stage)
    current: _Segment | None = None

    def go_live(version: int, at: datetime, row: HistoryRow) -> None:
        nonlocal current
        if current is not None:
            if current.version == version:
                return
            current.end = at
        current = _Segment(version, at, now, "live", row)
        lane.live.append(current)

    for row in rows:
        start = _row_time(row)
        if start is None:
            continue
        end = _utc(row.ended) if row.ended else (now if row.result == "in-progress" else start)
        target = _target_version(row)
        if row.result == "deployed":
            rollback = row.trigger in ROLLBACK_TRIGGERS and target is not None
            go_live(target if rollback and target else row.version, start, row)
        elif row.result in _ATTEMPT_RESULTS:
            lane.attempts.append(_Segment(row.version, start, end, row.result, row))
            if row.result == "rolled-back" and target is not None:
                go_live(target, end, row)
        if row.result in _MARKED_RESULTS:
            lane.marks.append(_Mark(end, row.result, row))
    return lane


def _ordered_stages(rows: Sequence[HistoryRow], stages: Sequence[str] | None) -> list[str]:
    seen = list(stages or ())
    for row in sorted(rows, key=lambda r: _row_time(r) or datetime.max.replace(tzinfo=UTC)):
        if row.stage and row.stage not in seen:
            seen.append(row.stage)
    return seen


#: How far past the last event "now" may be and still be drawn on the timeline (at least;
#: a quarter of the data's span when that is longer).
_NOW_REACH: Final = timedelta(hours=6)


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        span = max(end - start, timedelta(minutes=10))
        pad = span * 0.03
        self.start = start - pad
        self.end = end + pad
        self._seconds = (self.end - self.start).total_seconds()

    @classmethod
    def for_data(cls, moments: Sequence[datetime], now: datetime) -> _Scale:
        """The data's own time range, reaching to ``now`` only when now is close to it:
        a history read long after its last event (a sandbox's virtual January read in
        November) would otherwise be a sliver at the left of the timeline."""
        first, last = min(moments), max(moments)
        reach = max((last - first) / 4, _NOW_REACH)
        return cls(first, now if last <= now <= last + reach else last)

    def contains(self, moment: datetime) -> bool:
        return self.start <= _utc(moment) <= self.end

    def x(self, moment: datetime) -> float:
        """The horizontal position of ``moment``; one beyond the range sits at its edge
        (a version still live runs to the right end)."""
        fraction = (_utc(moment) - self.start).total_seconds() / self._seconds
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


def _segment_title(lane: str, segment: _Segment, now: datetime) -> str:
    row = segment.row
    execution = f", execution {row.execution_id}" if row and row.execution_id else ""
    if segment.kind == "live":
        until = "now" if segment.end == now else _when(segment.end)
        return f"{lane}: v{segment.version} live from {_when(segment.start)} to {until}{execution}"
    label = _RESULT_LABELS[segment.kind].lower()
    reason = f": {row.reason}" if row and row.reason else ""
    return (
        f"{lane}: v{segment.version} {label}, {_when(segment.start)} to {_when(segment.end)}"
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


def _mark_title(lane: str, mark: _Mark) -> str:
    row = mark.row
    parts = [f"{lane}: v{row.version} {_RESULT_LABELS[mark.result].lower()} at {_when(mark.at)}"]
    if row.reason:
        parts.append(row.reason)
    if row.rollback_target:
        parts.append(f"back to {row.rollback_target.describe()}")
    return " — ".join(parts)


def _timeline_svg(
    lanes: list[_Lane], approvals: list[HistoryRow], scale: _Scale, now: datetime
) -> str:
    all_lanes = ["approvals", *(lane.stage for lane in lanes)]
    height = _AXIS + _LANE * len(all_lanes) + 8
    out: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-labelledby="timeline-title" aria-describedby="timeline-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="timeline-title">Which version was live in each stage, over time</title>',
        f'<desc id="timeline-desc">{_e(_timeline_summary(lanes))}</desc>',
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
            f"{_e(_tick_label(tick, step, previous))}</text>"
        )
        previous = tick
    for index, name in enumerate(all_lanes):
        top = _AXIS + index * _LANE
        middle = top + _LANE / 2
        out.append(
            f'<rect class="lane{" alt" if index % 2 else ""}" x="0" y="{top}" '
            f'width="{_WIDTH}" height="{_LANE}"/>'
            f'<text class="lane-label" x="12" y="{middle + 5}">{_e(name)}</text>'
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
                f'<g class="mark mark-{mark.result}"><title>{_e(_mark_title(lane.stage, mark))}'
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
    stage: str, segment: _Segment, scale: _Scale, top: float, *, attempt: bool, now: datetime
) -> str:
    x1 = scale.x(segment.start)
    x2 = max(scale.x(segment.end), x1 + 4)
    width = round(x2 - x1, 1)
    colour = _colour(segment.version)
    label = f"v{segment.version}"
    classes = f"bar bar-{segment.kind}"
    parts = [
        f'<g class="{classes}" data-version="{segment.version}" data-stage="{_e(stage)}">',
        f"<title>{_e(_segment_title(stage, segment, now))}</title>",
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


def _approval_marks(approvals: list[HistoryRow], scale: _Scale, middle: float) -> list[str]:
    out = []
    for row in approvals:
        if row.approval_time is None:
            continue
        x = scale.x(row.approval_time)
        who = f" by {row.approver}" if row.approver else ""
        what = "rejected" if row.trigger == "rejection-rollback" else "approved"
        if row.result == "gate-rejected":
            out.append(
                f'<g class="mark mark-gate-rejected"><title>{_e(f"v{row.version} {what}{who} at ")}'
                f"{_e(_when(row.approval_time))}, refused by a gate: {_e(row.reason or '')}</title>"
                f"{_mark_shape('gate-rejected', x, middle - 6)}"
                f'<text class="approval-label" x="{x}" y="{middle + 20}" text-anchor="middle">'
                f"v{row.version}</text></g>"
            )
            continue
        colour = _colour(row.version) if what == "approved" else _FAILED
        out.append(
            f'<g class="approval approval-{what}"><title>'
            f"{_e(f'v{row.version} {what}{who} at {_when(row.approval_time)}')}</title>"
            f'<line x1="{x}" y1="{middle - 14}" x2="{x}" y2="{middle + 4}" stroke="{colour}" '
            f'stroke-width="2"/>'
            f'<path d="M{x} {middle - 16}l6 6l-6 6l-6 -6z" fill="{colour}" stroke="#fff"/>'
            f'<text class="approval-label" x="{x}" y="{middle + 20}" text-anchor="middle">'
            f"v{row.version}{' ✗' if what == 'rejected' else ''}</text></g>"
        )
    return out


def _timeline_summary(lanes: list[_Lane]) -> str:
    parts = []
    for lane in lanes:
        spans = (
            ", ".join(f"v{s.version} from {_when(s.start)}" for s in lane.live) or "no version live"
        )
        problems = [
            f"v{m.row.version} {_RESULT_LABELS[m.result].lower()} at {_when(m.at)}"
            for m in lane.marks
            if m.result in ("failed", "rolled-back")
        ]
        extra = f"; {'; '.join(problems)}" if problems else ""
        parts.append(f"{lane.stage}: {spans}{extra}.")
    return " ".join(parts)


_LEGEND: Final = (
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

_CSS: Final = """
:root { color-scheme: light; --ink: #1b2330; --muted: #5b6472; --line: #dde2ea;
  --paper: #f5f7fa; --card: #fff; --accent: #2459c9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; }
header { background: #101828; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0; font-size: 22px; font-weight: 650; letter-spacing: .2px; }
header h1 .group { color: #9ec1ff; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 20px; }
header p { margin: 4px 0 0; color: #c3cad6; font-size: 13.5px; }
main { padding: 20px 32px 40px; max-width: 1500px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 20px 18px; margin-bottom: 20px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.stats { display: flex; flex-wrap: wrap; gap: 10px; margin: 0; padding: 0; list-style: none; }
.stats li { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px;
  min-width: 150px; }
.stats .label { display: block; color: var(--muted); font-size: 12.5px; }
.stats .value { font-size: 18px; font-weight: 650; }
.stats .value .since { font-size: 12.5px; font-weight: 400; color: var(--muted); }
figure { margin: 0; }
svg.timeline { width: 100%; height: auto; display: block; }
svg.timeline .lane { fill: #fff; } svg.timeline .lane.alt { fill: #f7f9fc; }
svg.timeline .grid { stroke: #e3e7ee; stroke-width: 1; }
svg.timeline .now { stroke: #101828; stroke-width: 1.5; stroke-dasharray: 3 3; }
svg.timeline .tick { font-size: 12px; fill: var(--muted); }
svg.timeline .lane-label { font-size: 14px; font-weight: 650; fill: var(--ink); }
svg.timeline .bar-label { font-size: 12.5px; font-weight: 700; }
svg.timeline .approval-label { font-size: 11.5px; fill: var(--muted); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; list-style: none; padding: 0;
  margin: 12px 0 0; font-size: 13px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend svg { width: 22px; height: 18px; flex: none; }
.legend li:first-child svg, .legend li:nth-child(2) svg { width: 34px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
caption { text-align: left; color: var(--muted); padding: 0 0 10px; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 6px 6px;
  border-bottom: 1px solid var(--line); }
thead th { position: sticky; top: 0; background: #eef2f7; font-weight: 650; }
tbody tr:nth-child(even) { background: #fafbfd; }
td.version { font-weight: 700; white-space: nowrap; }
td.time { font-variant-numeric: tabular-nums; min-width: 82px; }
td.reason, td.description { min-width: 120px; max-width: 300px; }
td { overflow-wrap: anywhere; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  word-break: break-all; }
.badge { display: inline-block; white-space: nowrap; border-radius: 999px; padding: 1px 9px;
  font-size: 12.5px; font-weight: 650; border: 1px solid; }
.badge::before { margin-right: 4px; }
td.trigger .operator, td.trigger .why { display: block; font-size: 12px; }
td.trigger .why { color: var(--muted); }
.live-rejected, .stats .rejected { color: #fff; background: #8f1d14; border-color: #8f1d14; }
.live-rejected::before { content: "⚠"; }
.badge.live-rejected { white-space: normal; margin-top: 3px; }
.stats .rejected { font-size: 12px; font-weight: 650; padding: 1px 7px; border-radius: 999px; }
.r-deployed { color: #0b5c43; background: #e3f6ee; border-color: #a8dcc6; }
.r-deployed::before { content: "✓"; }
.r-failed { color: #8f1d14; background: #fdecea; border-color: #f3b3ad; }
.r-failed::before { content: "✕"; }
.r-rolled-back { color: #8a3a08; background: #fff1e6; border-color: #f7c79f; }
.r-rolled-back::before { content: "↺"; }
.r-superseded, .r-skipped { color: #3b4350; background: #eef0f3; border-color: #cfd4dc; }
.r-superseded::before { content: "»"; } .r-skipped::before { content: "-"; }
.r-stopped { color: #1f2937; background: #e5e7eb; border-color: #c2c7cf; }
.r-stopped::before { content: "■"; }
.r-in-progress { color: #1d4a9e; background: #e8f0ff; border-color: #b3cbf5; }
.r-in-progress::before { content: "…"; }
.r-gate-rejected { color: #8f1d14; background: #fff; border-color: #f3b3ad; }
.r-gate-rejected::before { content: "⊘"; }
.empty { color: var(--muted); }
"""

_COLUMNS: Final = (
    "Version",
    "Stage",
    "Result",
    "Trigger",
    "Reason",
    "Rollback target",
    "Started",
    "Ended",
    "Execution",
    "Approver, when",
    "Stage approver",
    "Approval description",
    "Registrant",
)


def _time_cell(moment: datetime | None) -> str:
    if moment is None:
        return '<td class="time">—</td>'
    iso = _utc(moment).isoformat()
    return (
        f'<td class="time"><time datetime="{_e(iso)}">'
        f"{_e(_utc(moment).strftime('%Y-%m-%d %H:%M'))}</time></td>"
    )


def _text_cell(value: str | None, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<td{klass}>{_e(value) if value else '—'}</td>"


def _identity_cell(who: str | None) -> str:
    """A person or role, by its short name; the full ARN in the tooltip."""
    if not who:
        return _text_cell(None)
    return f'<td title="{_e(who)}">{_e(short_identity(who))}</td>'


def _approval_cell(row: HistoryRow) -> str:
    """Who approved the version, by short name (the full ARN in the tooltip), and when."""
    if not row.approver and row.approval_time is None:
        return _text_cell(None)
    who = _e(short_identity(row.approver)) if row.approver else "—"
    when = (
        f'<br><time datetime="{_e(_utc(row.approval_time).isoformat())}">'
        f"{_e(_utc(row.approval_time).strftime('%Y-%m-%d %H:%M'))}</time>"
        if row.approval_time
        else ""
    )
    return f'<td class="time" title="{_e(row.approver or "")}">{who}{when}</td>'


def _trigger_cell(row: HistoryRow) -> str:
    """The trigger and who started it: an operator's action names who ran it and why; a
    rollback names its starter (a person's ARN, or CodePipeline). Names are short; the full
    ARN is in the tooltip, the JSON and the CSV."""
    who = row.operator or row.started_by
    if who is None:
        return _text_cell(row.trigger)
    why = f'<span class="why">{_e(row.operator_reason)}</span>' if row.operator_reason else ""
    return (
        f'<td class="trigger">{_e(row.trigger)}<span class="operator" '
        f'title="{_e(who)}">by {_e(short_identity(who))}</span>{why}</td>'
    )


def _table(rows: Sequence[HistoryRow], group: str) -> str:
    newest_first = sorted(
        rows, key=lambda r: _row_time(r) or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in _COLUMNS)
    body = []
    for row in newest_first:
        execution = (
            f'<td><code title="{_e(row.execution_id)}">{_e(row.execution_id[:8])}</code></td>'
            if row.execution_id
            else "<td>—</td>"
        )
        flag = (
            ' <span class="badge live-rejected">live, Rejected</span>' if row.live_rejected else ""
        )
        body.append(
            "<tr>"
            f'<th scope="row" class="version" title="{_e(row.model_package_arn)}">'
            f"v{row.version}</th>"
            f"{_text_cell(row.stage)}"
            f'<td><span class="badge r-{_e(row.result)}">'
            f"{_e(_RESULT_LABELS[row.result])}</span>{flag}</td>"
            f"{_trigger_cell(row)}"
            f"{_text_cell(row.reason, 'reason')}"
            f"{_text_cell(row.rollback_target.describe() if row.rollback_target else None)}"
            f"{_time_cell(row.started)}{_time_cell(row.ended)}"
            f"{execution}"
            f"{_approval_cell(row)}"
            f"{_identity_cell(row.stage_approver)}"
            f"{_text_cell(row.approval_description, 'description')}"
            f"{_identity_cell(row.registrant)}"
            "</tr>"
        )
    if not body:
        body.append(
            f'<tr><td colspan="{len(_COLUMNS)}" class="empty">No outcomes recorded.</td></tr>'
        )
    return (
        '<div class="table-wrap"><table id="history-table">'
        f"<caption>Every outcome for {_e(group)}, newest first: one row per approval, "
        "execution and stage. Times are UTC; an execution's full id is in its tooltip and "
        "in the JSON and CSV formats.</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _stats(lanes: list[_Lane], rows: Sequence[HistoryRow]) -> str:
    items = []
    for lane in lanes:
        live = lane.live_now
        value = (
            f'v{live.version} <span class="since">since {_e(_when(live.start))}</span>'
            if live
            else "nothing live"
        )
        if live and live.row is not None and live.row.live_rejected:
            value += ' <span class="rejected">Rejected since</span>'
        items.append(
            f'<li class="live" data-stage="{_e(lane.stage)}"><span class="label">Live in '
            f'{_e(lane.stage)}</span><span class="value">{value}</span></li>'
        )
    counts = (
        ("Versions", len({r.version for r in rows})),
        ("Executions", len({r.execution_id for r in rows if r.execution_id})),
        ("Rollbacks", sum(r.result == "rolled-back" for r in rows)),
        ("Failures", sum(r.result == "failed" for r in rows)),
    )
    items.extend(
        f'<li><span class="label">{label}</span><span class="value">{count}</span></li>'
        for label, count in counts
    )
    return f'<ul class="stats">{"".join(items)}</ul>'


def render_history_html(
    rows: Iterable[HistoryRow],
    *,
    group: str,
    generated_at: datetime,
    stages: Sequence[str] | None = None,
    summary: HistorySummary | None = None,
) -> str:
    """The whole page for ``group``'s history. ``stages`` orders the lanes (by default, in
    the order the stages first appear); ``summary``, when given, is charted below "Live
    now"."""
    rows = list(rows)
    now = _utc(generated_at)
    order = _ordered_stages(rows, stages)
    by_time = sorted(
        (r for r in rows if _row_time(r) is not None),
        key=lambda r: (_row_time(r), r.ended is None),
    )
    lanes = [_build_lane(stage, [r for r in by_time if r.stage == stage], now) for stage in order]
    approvals = _distinct_approvals(rows)
    moments = [m for r in rows for m in (r.approval_time, r.started, r.ended) if m is not None]
    if moments:
        scale = _Scale.for_data([_utc(m) for m in moments], now)
        timeline = (
            f"<figure>{_timeline_svg(lanes, approvals, scale, now)}"
            f"<figcaption>{_LEGEND}</figcaption></figure>"
        )
    else:
        timeline = '<p class="empty">No deployments recorded yet.</p>'
    title = f"Greenlight history — {group}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_CSS}{SUMMARY_CSS}</style></head><body>"
        f'<header><h1>Deployment history <span class="group">{_e(group)}</span></h1>'
        f"<p>Generated {_e(_when(now, seconds=True))} · {len(rows)} outcomes · "
        "approvals from the SageMaker Model Registry, outcomes from the Greenlight ledger "
        "and CodePipeline</p></header><main>"
        f'<section aria-labelledby="now-h"><h2 id="now-h">Live now</h2>{_stats(lanes, rows)}'
        "</section>"
        f"{summary_section(summary) if summary is not None else ''}"
        f'<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>{timeline}'
        "</section>"
        f'<section aria-labelledby="table-h"><h2 id="table-h">History</h2>{_table(rows, group)}'
        "</section></main></body></html>\n"
    )


def _distinct_approvals(rows: Sequence[HistoryRow]) -> list[HistoryRow]:
    """One row per decision (version, approval time): the approvals lane's marks."""
    seen: dict[tuple[int, datetime], HistoryRow] = {}
    for row in rows:
        if row.approval_time is None:
            continue
        key = (row.version, _utc(row.approval_time))
        if key not in seen or row.result == "gate-rejected":
            seen[key] = row
    return sorted(seen.values(), key=lambda r: _utc(r.approval_time or r.started or datetime.min))
