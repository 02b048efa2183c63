"""The history as a terminal table: one line per row, fitted to 120 columns unless
``--wide``.

IAM ARNs of the registrant, approvers and operator are shortened to their last path
element (``arn:aws:iam::123456789012:user/alice`` -> ``alice``), and long approval
descriptions and reasons end in an ellipsis. The row of a version live in its stage but
Rejected since says so in its result. When some row records an operator's action, the
table has an OPERATOR column (who ran it; the last to go when the table must fit), and
the REASON of such a row without one of its own is the operator's ``--reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from pipeline_scripts.history.rows import HistoryRow, short_identity

#: Widest approval description and reason the table shows before cutting with "…".
TABLE_DESCRIPTION_WIDTH: Final = 40
TABLE_REASON_WIDTH: Final = 80
#: The default table fits a terminal this wide (``--wide`` shows every column in full).
TABLE_WIDTH: Final = 120
#: Columns the default table leaves out, in this order, until it fits.
_DROPPED_FIRST: Final = (
    "EXECUTION",
    "ENDED",
    "APPROVED",
    "TRIGGER",
    "REGISTRANT",
    "STAGE APPROVER",
    "OPERATOR",
)
#: Columns the default table leaves out first when no row has a value in them.
_DROPPED_WHEN_EMPTY: Final = ("STAGE APPROVER",)
#: Free-text columns the default table then narrows, down to this many characters.
_NARROWED: Final = ("REASON", "DESCRIPTION")
_NARROWEST: Final = 12
#: One line of the table, cell by cell.
Cells = tuple[str, ...]
#: How the table's RESULT marks a version live in its stage but Rejected since.
LIVE_REJECTED_MARK: Final = " (LIVE, REJECTED)"


def _short_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def truncate(text: str | None, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with a trailing ellipsis."""
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def table(rows: Sequence[HistoryRow], *, wide: bool = False) -> str:
    if not rows:
        return "No history recorded yet.\n"
    header: Cells = (
        "VERSION",
        "REGISTRANT",
        "APPROVER",
        "DESCRIPTION",
        "APPROVED",
        "EXECUTION",
        "TRIGGER",
        "STAGE",
        "STAGE APPROVER",
        "RESULT",
        "STARTED",
        "ENDED",
        "ROLLBACK TARGET",
        "REASON",
        "OPERATOR",
    )
    lines: list[Cells] = [
        (
            f"v{row.version}",
            short_identity(row.registrant),
            short_identity(row.approver),
            truncate(row.approval_description, TABLE_DESCRIPTION_WIDTH),
            _short_time(row.approval_time) or "-",
            (row.execution_id or "-")[:8],
            row.trigger,
            row.stage or "-",
            short_identity(row.stage_approver),
            row.result + (LIVE_REJECTED_MARK if row.live_rejected else ""),
            _short_time(row.started) or "-",
            _short_time(row.ended) or "-",
            row.rollback_target.describe(short=not wide) if row.rollback_target else "-",
            truncate(row.reason or row.operator_reason, TABLE_REASON_WIDTH),
            short_identity(row.operator),
        )
        for row in rows
    ]
    if not any(row.operator for row in rows):  # no operator action: no OPERATOR column
        header, lines = header[:-1], [line[:-1] for line in lines]
    if not wide:
        header, lines = _fit(header, lines, TABLE_WIDTH)
    widths = [max(len(line[i]) for line in (header, *lines)) for i in range(len(header))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in (header, *lines)
    )


def _fit(header: Cells, lines: list[Cells], width: int) -> tuple[Cells, list[Cells]]:
    """Leave out low-value columns, then narrow the free-text ones, until every line fits
    ``width`` characters (as far as the columns that stay allow)."""

    def total(head: Cells, body: list[Cells]) -> int:
        columns = range(len(head))
        return sum(max(len(line[i]) for line in (head, *body)) for i in columns) + 2 * (
            len(head) - 1
        )

    def without(name: str) -> tuple[Cells, list[Cells]]:
        index = header.index(name)
        return header[:index] + header[index + 1 :], [
            line[:index] + line[index + 1 :] for line in lines
        ]

    for name in _DROPPED_WHEN_EMPTY:
        index = header.index(name)
        if total(header, lines) > width and all(line[index] == "-" for line in lines):
            header, lines = without(name)
    for name in _DROPPED_FIRST:
        if total(header, lines) <= width:
            return header, lines
        if name not in header:
            continue
        header, lines = without(name)
    for name in _NARROWED:
        excess = total(header, lines) - width
        if excess <= 0:
            break
        index = header.index(name)
        widest = max(len(line[index]) for line in lines)
        narrowed = max(widest - excess, _NARROWEST, len(name))
        lines = [
            (*line[:index], truncate(line[index], narrowed), *line[index + 1 :]) for line in lines
        ]
    return header, lines
