"""The history summary as text: a terminal table, a JSON document and a CSV sheet.

They only format the typed :class:`HistorySummary`; the metrics are defined and computed
in :mod:`pipeline_scripts.history.summary`.

* The table has one column per stage and one line per metric, so it stays narrow; stages
  that would not fit ``width`` columns continue in a block below.
* JSON: ``{"group", "window": {"start", "end", "days"}, "stages": [...]}``, one object per
  stage; durations in seconds, rates as fractions, ``null`` where there is no value.
* CSV: one line per stage, the same values flattened (``lead_time_median_seconds``, …),
  so a spreadsheet reads it as one table.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pipeline_scripts.history.summary import HistorySummary, Spread, StageSummary

#: The label column of the table, and the gap between columns.
_LABELS: Final = (
    "deployments",
    "per day / per week",
    "lead time, median / p90",
    "change failure rate",
    "rollbacks restored",
    "time to restore, median / p90",
)
_GAP: Final = "  "
CSV_COLUMNS: Final = (
    "group",
    "stage",
    "window_start",
    "window_end",
    "window_days",
    "deployments",
    "deployments_per_day",
    "deployments_per_week",
    "lead_time_count",
    "lead_time_median_seconds",
    "lead_time_p90_seconds",
    "failed_deployments",
    "change_failure_rate",
    "rollbacks",
    "restored",
    "time_to_restore_count",
    "time_to_restore_median_seconds",
    "time_to_restore_p90_seconds",
)


def duration(value: timedelta | None) -> str:
    """``45s``, ``38m59s``, ``2h05m``, ``3d04h``: two units at most, to the nearest second."""
    if value is None:
        return "-"
    seconds = round(value.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    mins, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    if mins:
        return f"{mins}m{secs:02d}s"
    return f"{secs}s"


def rate(value: float | None) -> str:
    """A per-day or per-week rate with a sensible number of digits."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _spread(spread: Spread) -> str:
    if not spread.count:
        return "-"
    return f"{duration(spread.median)} / {duration(spread.p90)}"


def _cells(stage: StageSummary) -> tuple[str, ...]:
    failure = (
        "-"
        if stage.change_failure_rate is None
        else f"{stage.change_failure_rate:.0%} ({stage.failed_deployments} of {stage.deployments})"
    )
    return (
        str(stage.deployments),
        f"{rate(stage.per_day)} / {rate(stage.per_week)}",
        _spread(stage.lead_time),
        failure,
        f"{stage.restored} of {stage.rollbacks}",
        _spread(stage.time_to_restore),
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def window_text(summary: HistorySummary) -> str:
    """``2026-01-05 09:00 UTC to 2026-01-05 10:45 UTC (1h45m)``, or ``until …``."""
    window = summary.window
    if window.start is None:
        return f"until {_when(window.end)}"
    length = duration(window.end - window.start) if window.end > window.start else "0s"
    return f"{_when(window.start)} to {_when(window.end)} ({length})"


def summary_table(summary: HistorySummary, *, width: int = 120) -> str:
    """The summary for a terminal, no line wider than ``width`` where the stage names
    allow."""
    label_width = max(len(label) for label in _LABELS)
    columns = [(s.stage, *_cells(s)) for s in summary.stages]
    lines = [f"Summary, {window_text(summary)}:"]
    block: list[tuple[str, ...]] = []
    used = label_width
    for column in columns:
        column_width = max(len(cell) for cell in column)
        if block and used + len(_GAP) + column_width > width:
            lines.extend(_block(block, label_width))
            block, used = [], label_width
        block.append(column)
        used += len(_GAP) + column_width
    if block:
        lines.extend(_block(block, label_width))
    return "\n".join(lines) + "\n"


def _block(columns: list[tuple[str, ...]], label_width: int) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in columns]
    out = []
    for index, label in enumerate(("", *_LABELS)):
        cells = [column[index].ljust(w) for column, w in zip(columns, widths, strict=True)]
        out.append((label.ljust(label_width) + _GAP + _GAP.join(cells)).rstrip())
    return out


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _spread_record(spread: Spread) -> dict[str, Any]:
    return {
        "count": spread.count,
        "median_seconds": _seconds(spread.median),
        "p90_seconds": _seconds(spread.p90),
    }


def summary_record(summary: HistorySummary) -> dict[str, Any]:
    """The summary as the JSON format gives it."""
    return {
        "group": summary.group,
        "window": {
            "start": _iso(summary.window.start),
            "end": _iso(summary.window.end),
            "days": summary.window.days,
        },
        "stages": [
            {
                "stage": stage.stage,
                "deployments": stage.deployments,
                "deployments_per_day": stage.per_day,
                "deployments_per_week": stage.per_week,
                "lead_time": _spread_record(stage.lead_time),
                "failed_deployments": stage.failed_deployments,
                "change_failure_rate": stage.change_failure_rate,
                "rollbacks": stage.rollbacks,
                "restored": stage.restored,
                "time_to_restore": _spread_record(stage.time_to_restore),
            }
            for stage in summary.stages
        ],
    }


def summary_csv(summary: HistorySummary) -> str:
    """One line per stage under the header :data:`CSV_COLUMNS`; empty cells where there
    is no value."""
    record = summary_record(summary)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for stage in record["stages"]:
        flat = {
            "group": record["group"],
            "window_start": record["window"]["start"],
            "window_end": record["window"]["end"],
            "window_days": record["window"]["days"],
            **{k: v for k, v in stage.items() if not isinstance(v, dict)},
        }
        for name in ("lead_time", "time_to_restore"):
            flat.update({f"{name}_{k}": v for k, v in stage[name].items()})
        writer.writerow({k: "" if v is None else v for k, v in flat.items()})
    return buffer.getvalue()
