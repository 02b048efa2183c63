"""``greenlight history``: the audit trail of one group, as a table, JSON, CSV or HTML.

The table is for a terminal (:mod:`pipeline_scripts.history.table`); JSON, CSV and HTML
keep every value whole.

The table and the HTML page end with the summary of the window (deployment frequency,
lead time, change failure rate, time to restore per stage:
:mod:`pipeline_scripts.history.summary`). JSON
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
from pipeline_scripts.history.page import render_history_html
from pipeline_scripts.history.reader import HistoryReader
from pipeline_scripts.history.rows import HistoryRow
from pipeline_scripts.history.summary import HistorySummary, summarize
from pipeline_scripts.history.summary_text import summary_csv, summary_record, summary_table
from pipeline_scripts.history.table import TABLE_WIDTH, table
from pipeline_scripts.stage_places import with_places
from shared.ledger import Ledger

FORMATS: Final = ("table", "json", "csv", "html")
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
    "account",
    "region",
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
    rows = with_places(reader.rows(since=since), settings.places)
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
        return table(rows, wide=wide)
    return table(rows, wide=wide) + "\n" + summary_table(summary(), width=TABLE_WIDTH)


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
