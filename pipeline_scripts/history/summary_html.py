"""The summary section of the HTML history: four small inline-SVG charts, one per metric,
one row per stage. No script, no font, nothing fetched; every value is escaped.

* deployment frequency: a bar per stage, as long as its deployments per day (the
  busiest stage fills the track);
* lead time and time to restore: a bar to the median and a whisker on to the p90, on
  one scale for all stages (the longest p90 fills the track);
* change failure rate: the failed share of a full-width track.

The numbers are printed beside each bar and, in words, in each chart's accessible name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from pipeline_scripts.history.markup import esc
from pipeline_scripts.history.summary import HistorySummary, Spread, StageSummary
from pipeline_scripts.history.summary_text import duration, rate, window_text

# Chart geometry (SVG user units; each chart scales to its card's width).
_WIDTH: Final = 320
_ROW: Final = 38
_TEXT: Final = 14
_BAR_TOP: Final = 20
_BAR: Final = 10
_NAME_CHARS: Final = 18
_BAR_COLOUR: Final = "#2459c9"
_FAILED: Final = "#b42318"

SUMMARY_CSS: Final = """
.metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
  gap: 14px; }
.metric { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 8px; }
.metric h3 { font-size: 14px; margin: 0 0 6px; }
.metric svg { width: 100%; height: auto; display: block; }
.metric .stage-name { font-size: 12px; font-weight: 650; fill: var(--ink); }
.metric .value { font-size: 12px; fill: var(--ink); font-variant-numeric: tabular-nums; }
.metric .track { fill: #edf0f5; }
.metric figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
.window { color: var(--muted); font-size: 13px; margin: -4px 0 12px; }
"""


def _name(stage: str) -> str:
    return stage if len(stage) <= _NAME_CHARS else stage[: _NAME_CHARS - 1] + "…"


def _x(value: float, scale: float) -> float:
    """``value`` as a length on the track, ``scale`` filling it."""
    return round(_WIDTH * min(value / scale, 1.0), 1) if scale > 0 else 0.0


def _row(index: int, stage: str, value: str, shapes: str) -> str:
    top = index * _ROW
    return (
        f'<g class="stage-row" data-stage="{esc(stage)}"><title>{esc(stage)}: {esc(value)}</title>'
        f'<text class="stage-name" x="0" y="{top + _TEXT}">{esc(_name(stage))}</text>'
        f'<text class="value" x="{_WIDTH}" y="{top + _TEXT}" text-anchor="end">{esc(value)}</text>'
        f'<rect class="track" x="0" y="{top + _BAR_TOP}" width="{_WIDTH}" height="{_BAR}" rx="3"/>'
        f"{shapes}</g>"
    )


def _bar(index: int, length: float, colour: str, css: str) -> str:
    top = index * _ROW + _BAR_TOP
    return (
        f'<rect class="{css}" x="0" y="{top}" width="{length}" height="{_BAR}" rx="3" '
        f'fill="{colour}"/>'
    )


def _frequency(index: int, stage: StageSummary, busiest: float) -> tuple[str, str]:
    value = f"{stage.deployments} · {rate(stage.per_day)}/day"
    return value, _bar(index, _x(stage.per_day or 0.0, busiest), _BAR_COLOUR, "fill")


def _spread_shapes(index: int, spread: Spread, longest: float) -> str:
    if spread.median is None or spread.p90 is None:
        return ""
    median = _x(spread.median.total_seconds(), longest)
    p90 = _x(spread.p90.total_seconds(), longest)
    middle = index * _ROW + _BAR_TOP + _BAR / 2
    return (
        _bar(index, median, _BAR_COLOUR, "fill median")
        + f'<path class="p90" d="M{median} {middle}H{p90}M{p90} {middle - 6}V{middle + 6}" '
        f'stroke="#1b2330" stroke-width="2" fill="none"/>'
    )


def _spread_value(spread: Spread) -> str:
    if not spread.count:
        return "none"
    return f"{duration(spread.median)} / {duration(spread.p90)}"


def _failure(index: int, stage: StageSummary) -> tuple[str, str]:
    share = stage.change_failure_rate
    if share is None:
        return "no deployments", ""
    value = f"{share:.0%} ({stage.failed_deployments} of {stage.deployments})"
    return value, _bar(index, _x(share, 1.0), _FAILED, "fill")


def _longest(spreads: list[Spread]) -> float:
    return max((s.p90.total_seconds() for s in spreads if s.p90 is not None), default=0.0)


def _chart(
    metric: str,
    title: str,
    caption: str,
    stages: tuple[StageSummary, ...],
    row: Callable[[int, StageSummary], tuple[str, str]],
) -> str:
    parts = []
    words = []
    for index, stage in enumerate(stages):
        value, shapes = row(index, stage)
        parts.append(_row(index, stage.stage, value, shapes))
        words.append(f"{stage.stage}: {value}")
    height = max(len(stages), 1) * _ROW
    label = f"{title}. " + "; ".join(words) if words else f"{title}: no stages"
    return (
        f'<figure class="metric" data-metric="{metric}"><h3>{esc(title)}</h3>'
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def summary_section(summary: HistorySummary) -> str:
    """The ``<section>`` with the four charts, for the history page."""
    stages = summary.stages
    busiest = max((s.per_day or 0.0 for s in stages), default=0.0)
    lead = _longest([s.lead_time for s in stages])
    restore = _longest([s.time_to_restore for s in stages])

    def lead_row(index: int, stage: StageSummary) -> tuple[str, str]:
        return _spread_value(stage.lead_time), _spread_shapes(index, stage.lead_time, lead)

    def restore_row(index: int, stage: StageSummary) -> tuple[str, str]:
        value = _spread_value(stage.time_to_restore)
        if stage.rollbacks:
            value += f" ({stage.restored} of {stage.rollbacks})"
        return value, _spread_shapes(index, stage.time_to_restore, restore)

    charts = (
        _chart(
            "frequency",
            "Deployment frequency",
            "Finished deployments (deployed, failed or rolled back) and deployments per day.",
            stages,
            lambda i, s: _frequency(i, s, busiest),
        ),
        _chart(
            "lead-time",
            "Lead time, approval to live",
            "Median / p90: bar to the median, whisker to the p90.",
            stages,
            lead_row,
        ),
        _chart(
            "change-failure-rate",
            "Change failure rate",
            "Deployments that failed, were rolled back or were later taken out.",
            stages,
            _failure,
        ),
        _chart(
            "time-to-restore",
            "Time to restore",
            "Median / p90 from a rollback's start to the earlier version live "
            "(rollbacks that restored, of all).",
            stages,
            restore_row,
        ),
    )
    return (
        '<section aria-labelledby="summary-h" id="summary"><h2 id="summary-h">Summary</h2>'
        f'<p class="window">{esc(window_text(summary))} · definitions: the README\'s '
        "auditor section</p>"
        f'<div class="metrics">{"".join(charts)}</div></section>'
    )
