"""``greenlight history``: the audit trail of one group, as a table, JSON, CSV or HTML.

The table is for a terminal: IAM ARNs of the registrant, approvers and operator are
shortened to their last path element (``arn:aws:iam::123456789012:user/alice`` ->
``alice``), and long approval descriptions and reasons end in an ellipsis. The row of a
version live in its stage but Rejected since says so in its result. JSON, CSV and HTML
keep every value whole. When some row records an operator's action, the table has an
OPERATOR column (who ran it; the last to go when the table must fit), and the REASON of
such a row without one of its own is the operator's ``--reason``.

The table and the HTML page end with the summary of the window (deployment frequency,
lead time, change failure rate, time to restore per stage: ``history_summary``). JSON
and CSV stay one list of rows, as tools read them; ``--summary-only`` gives the summary
alone in the table, JSON or CSV format.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pipeline_scripts import stack_outputs
from pipeline_scripts.cli_clock import cli_clock
from pipeline_scripts.errors import Unreachable, UsageError
from pipeline_scripts.history import HistoryReader
from pipeline_scripts.history_html import render_history_html
from pipeline_scripts.history_model import HistoryRow, short_identity
from pipeline_scripts.history_summary import HistorySummary, summarize
from pipeline_scripts.history_summary_format import summary_csv, summary_record, summary_table
from shared.ledger import Ledger

FORMATS: Final = ("table", "json", "csv", "html")
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
COLUMNS: Final = (
    "group",
    "version",
    "model_package_arn",
    "registrant",
    "approver",
    "approval_description",
    "approval_time",
    "execution_id",
    "trigger",
    "started_by",
    "stage",
    "stage_approver",
    "result",
    "reason",
    "rollback_target",
    "rollback_target_version",
    "rollback_target_execution_id",
    "started",
    "ended",
    "operator",
    "operator_reason",
    "live_rejected",
)
#: How the table's RESULT marks a version live in its stage but Rejected since.
LIVE_REJECTED_MARK: Final = " (LIVE, REJECTED)"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "history",
        help="who approved what, what ran where, what rolled back and why",
        description=(
            "One row per approval -> execution -> stage outcome, joining the Model Registry, "
            "the Greenlight ledger and CodePipeline."
        ),
    )
    parser.add_argument(
        "group", metavar="GROUP", nargs="?", help="model package group (default: the only one)"
    )
    parser.add_argument(
        "--since", metavar="DATE", help="only rows from this date (YYYY-MM-DD or ISO 8601 time)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.add_argument(
        "--wide",
        action="store_true",
        help=f"table: every column in full (default: fit {TABLE_WIDTH} columns)",
    )
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="only the deployment metrics per stage (table, json or csv; the table and "
        "html formats show them below the rows anyway)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here, not stdout")
    stack_outputs.add_common_arguments(parser)
    parser.set_defaults(func=_run)


def parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since: expected a date like 2026-01-31 or 2026-01-31T09:00:00Z, got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    if args.summary_only and args.format == "html":
        raise UsageError(
            "--summary-only: the HTML page always shows the summary; "
            "use it with --format table, json or csv"
        )
    settings = stack_outputs.group_settings(args, args.group)
    reader = HistoryReader(
        group=settings.group,
        stages=settings.stages,
        ledger=Ledger(
            stack_outputs.ledger_table(args),
            client=stack_outputs.client("dynamodb", args.region),
        ),
        sagemaker=stack_outputs.client("sagemaker", args.region),
        codepipeline=stack_outputs.client("codepipeline", args.region),
    )
    rows = reader.rows(since=since)
    if not rows and since is not None and args.format == "table" and not args.summary_only:
        text = f"No history since {since.isoformat()}.\n"
    else:
        text = render(
            rows,
            args.format,
            group=settings.group,
            stages=settings.stages,
            wide=args.wide,
            since=since,
            summary_only=args.summary_only,
        )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise Unreachable(f"cannot write {args.output}: {error.strerror}") from None
    print(f"{len(rows)} rows written to {args.output}")
    return 0


def render(
    rows: Sequence[HistoryRow],
    fmt: str,
    *,
    group: str,
    stages: Sequence[str],
    now: datetime | None = None,
    wide: bool = False,
    since: datetime | None = None,
    summary_only: bool = False,
) -> str:
    """``rows`` in format ``fmt``; the summary covers ``since`` (or the first row) to
    ``now`` (by default, the CLI's clock)."""

    def summary() -> HistorySummary:
        until = now or cli_clock().now()
        return summarize(rows, group=group, stages=stages, since=since, until=until)

    if summary_only:
        return _summary_only(summary(), fmt)
    if fmt == "json":
        return json.dumps([_record(row) for row in rows], indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in _record(row).items()})
        return buffer.getvalue()
    if fmt == "html":
        page_summary = summary()
        return render_history_html(
            rows,
            group=group,
            generated_at=page_summary.window.end,
            stages=stages,
            summary=page_summary,
        )
    if not rows:
        return _table(rows, wide=wide)
    return _table(rows, wide=wide) + "\n" + summary_table(summary(), width=TABLE_WIDTH)


def _summary_only(summary: HistorySummary, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(summary_record(summary), indent=2) + "\n"
    if fmt == "csv":
        return summary_csv(summary)
    if fmt == "table":
        return summary_table(summary, width=TABLE_WIDTH)
    raise UsageError(f"--summary-only: no summary-only form for --format {fmt}")


def _record(row: HistoryRow) -> dict[str, Any]:
    """The row as JSON and CSV give it: times in ISO 8601, the rollback target both as
    text and as its typed parts."""
    values: dict[str, Any] = {f.name: getattr(row, f.name) for f in fields(row)}
    target = row.rollback_target
    values["rollback_target"] = target.describe() if target else None
    values["rollback_target_version"] = target.version if target else None
    values["rollback_target_execution_id"] = target.execution_id if target else None
    return {
        name: (values[name].isoformat() if isinstance(values[name], datetime) else values[name])
        for name in COLUMNS
    }


def _short_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def truncate(text: str | None, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with a trailing ellipsis."""
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _table(rows: Sequence[HistoryRow], *, wide: bool = False) -> str:
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
