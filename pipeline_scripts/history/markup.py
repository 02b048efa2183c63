"""What every part of the HTML history shares: escaping, UTC times, result labels."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Final

from pipeline_scripts.history.rows import HistoryRow

RESULT_LABELS: Final = {
    "deployed": "Deployed",
    "failed": "Failed",
    "rolled-back": "Rolled back",
    "superseded": "Superseded",
    "stopped": "Stopped",
    "in-progress": "In progress",
    "skipped": "Skipped",
    "gate-rejected": "Gate rejected",
}


def esc(value: object) -> str:
    """``value`` as text safe in an element or a quoted attribute."""
    return escape(str(value), quote=True)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when(moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def row_time(row: HistoryRow) -> datetime | None:
    moment = row.started or row.ended or row.approval_time
    return utc(moment) if moment else None
