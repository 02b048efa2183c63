"""``greenlight history --format html``: one self-contained page an auditor can open anywhere.

The page holds a timeline per stage (which version was live when, with failures and
rollbacks marked) and the full history table below it. Everything is inline: the CSS,
the SVG timeline (drawn here, so the page needs no script), no fonts, images or links
to fetch. Every value from the rows is escaped: approval descriptions are free text.
The timeline is modelled in :mod:`~pipeline_scripts.history.timeline` and drawn in
:mod:`~pipeline_scripts.history.timeline_svg`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

from pipeline_scripts.history.markup import RESULT_LABELS, esc, row_time, utc, when
from pipeline_scripts.history.rows import HistoryRow, short_identity
from pipeline_scripts.history.summary import HistorySummary
from pipeline_scripts.history.summary_html import SUMMARY_CSS, summary_section
from pipeline_scripts.history.timeline import Lane, build_lane, distinct_approvals, ordered_stages
from pipeline_scripts.history.timeline_svg import LEGEND, Scale, timeline_svg

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
    iso = utc(moment).isoformat()
    return (
        f'<td class="time"><time datetime="{esc(iso)}">'
        f"{esc(utc(moment).strftime('%Y-%m-%d %H:%M'))}</time></td>"
    )


def _text_cell(value: str | None, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<td{klass}>{esc(value) if value else '—'}</td>"


def _identity_cell(who: str | None) -> str:
    """A person or role, by its short name; the full ARN in the tooltip."""
    if not who:
        return _text_cell(None)
    return f'<td title="{esc(who)}">{esc(short_identity(who))}</td>'


def _approval_cell(row: HistoryRow) -> str:
    """Who approved the version, by short name (the full ARN in the tooltip), and when."""
    if not row.approver and row.approval_time is None:
        return _text_cell(None)
    who = esc(short_identity(row.approver)) if row.approver else "—"
    when = (
        f'<br><time datetime="{esc(utc(row.approval_time).isoformat())}">'
        f"{esc(utc(row.approval_time).strftime('%Y-%m-%d %H:%M'))}</time>"
        if row.approval_time
        else ""
    )
    return f'<td class="time" title="{esc(row.approver or "")}">{who}{when}</td>'


def _trigger_cell(row: HistoryRow) -> str:
    """The trigger and who started it: an operator's action names who ran it and why; a
    rollback names its starter (a person's ARN, or CodePipeline). Names are short; the full
    ARN is in the tooltip, the JSON and the CSV."""
    who = row.operator or row.started_by
    if who is None:
        return _text_cell(row.trigger)
    why = f'<span class="why">{esc(row.operator_reason)}</span>' if row.operator_reason else ""
    return (
        f'<td class="trigger">{esc(row.trigger)}<span class="operator" '
        f'title="{esc(who)}">by {esc(short_identity(who))}</span>{why}</td>'
    )


def _table(rows: Sequence[HistoryRow], group: str) -> str:
    newest_first = sorted(
        rows, key=lambda r: row_time(r) or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in _COLUMNS)
    body = []
    for row in newest_first:
        execution = (
            f'<td><code title="{esc(row.execution_id)}">{esc(row.execution_id[:8])}</code></td>'
            if row.execution_id
            else "<td>—</td>"
        )
        flag = (
            ' <span class="badge live-rejected">live, Rejected</span>' if row.live_rejected else ""
        )
        body.append(
            "<tr>"
            f'<th scope="row" class="version" title="{esc(row.model_package_arn)}">'
            f"v{row.version}</th>"
            f"{_text_cell(row.stage)}"
            f'<td><span class="badge r-{esc(row.result)}">'
            f"{esc(RESULT_LABELS[row.result])}</span>{flag}</td>"
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
        f"<caption>Every outcome for {esc(group)}, newest first: one row per approval, "
        "execution and stage. Times are UTC; an execution's full id is in its tooltip and "
        "in the JSON and CSV formats.</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _stats(lanes: list[Lane], rows: Sequence[HistoryRow]) -> str:
    items = []
    for lane in lanes:
        live = lane.live_now
        value = (
            f'v{live.version} <span class="since">since {esc(when(live.start))}</span>'
            if live
            else "nothing live"
        )
        if live and live.row is not None and live.row.live_rejected:
            value += ' <span class="rejected">Rejected since</span>'
        items.append(
            f'<li class="live" data-stage="{esc(lane.stage)}"><span class="label">Live in '
            f'{esc(lane.stage)}</span><span class="value">{value}</span></li>'
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
    now = utc(generated_at)
    order = ordered_stages(rows, stages)
    by_time = sorted(
        (r for r in rows if row_time(r) is not None),
        key=lambda r: (row_time(r), r.ended is None),
    )
    lanes = [build_lane(stage, [r for r in by_time if r.stage == stage], now) for stage in order]
    approvals = distinct_approvals(rows)
    moments = [m for r in rows for m in (r.approval_time, r.started, r.ended) if m is not None]
    if moments:
        scale = Scale.for_data([utc(m) for m in moments], now)
        timeline = (
            f"<figure>{timeline_svg(lanes, approvals, scale, now)}"
            f"<figcaption>{LEGEND}</figcaption></figure>"
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
        f"<title>{esc(title)}</title><style>{_CSS}{SUMMARY_CSS}</style></head><body>"
        f'<header><h1>Deployment history <span class="group">{esc(group)}</span></h1>'
        f"<p>Generated {esc(when(now, seconds=True))} · {len(rows)} outcomes · "
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
