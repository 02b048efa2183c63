"""``greenlight history``: the audit trail of one group, as a table, JSON, CSV or HTML.

The table is for a terminal: IAM ARNs of the registrant and approver are shortened to
their last path element (``arn:aws:iam::123456789012:user/alice`` -> ``alice``), and
long approval descriptions and reasons end in an ellipsis. JSON, CSV and HTML keep every
value whole.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pipeline_scripts import stack_outputs
from pipeline_scripts.cli_clock import cli_clock
from pipeline_scripts.errors import GreenlightError, UsageError
from pipeline_scripts.history import HistoryReader
from pipeline_scripts.history_html import render_history_html
from pipeline_scripts.history_model import HistoryRow
from shared.ledger import Ledger

FORMATS: Final = ("table", "json", "csv", "html")
#: Widest approval description and reason the table shows before cutting with "…".
TABLE_DESCRIPTION_WIDTH: Final = 40
TABLE_REASON_WIDTH: Final = 80
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
    "stage",
    "result",
    "reason",
    "rollback_target",
    "started",
    "ended",
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
    if not rows and since is not None and args.format == "table":
        text = f"No history since {since.isoformat()}.\n"
    else:
        text = render(rows, args.format, group=settings.group, stages=settings.stages)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise GreenlightError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"{len(rows)} rows written to {args.output}")
    return 0


def render(
    rows: Sequence[HistoryRow],
    fmt: str,
    *,
    group: str,
    stages: Sequence[str],
    now: datetime | None = None,
) -> str:
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
        return render_history_html(
            rows, group=group, generated_at=now or cli_clock().now(), stages=stages
        )
    return _table(rows)


def _record(row: HistoryRow) -> dict[str, Any]:
    values = asdict(row)
    return {
        name: (values[name].isoformat() if isinstance(values[name], datetime) else values[name])
        for name in COLUMNS
    }


def _short_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def short_identity(who: str | None) -> str:
    """An IAM ARN's last path element (the user, role session or profile name); any
    other identity as it is."""
    if not who:
        return "-"
    if who.startswith("arn:"):
        resource = who.split(":", 5)[-1]
        return resource.rsplit("/", 1)[-1] or who
    return who


def truncate(text: str | None, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with a trailing ellipsis."""
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _table(rows: Sequence[HistoryRow]) -> str:
    if not rows:
        return "No history recorded yet.\n"
    header = (
        "VERSION",
        "REGISTRANT",
        "APPROVER",
        "DESCRIPTION",
        "APPROVED",
        "EXECUTION",
        "TRIGGER",
        "STAGE",
        "RESULT",
        "STARTED",
        "ENDED",
        "ROLLBACK TARGET",
        "REASON",
    )
    lines = [
        (
            f"v{row.version}",
            short_identity(row.registrant),
            short_identity(row.approver),
            truncate(row.approval_description, TABLE_DESCRIPTION_WIDTH),
            _short_time(row.approval_time) or "-",
            (row.execution_id or "-")[:8],
            row.trigger,
            row.stage or "-",
            row.result,
            _short_time(row.started) or "-",
            _short_time(row.ended) or "-",
            row.rollback_target or "-",
            truncate(row.reason, TABLE_REASON_WIDTH),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *lines)) for i in range(len(header))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in (header, *lines)
    )
