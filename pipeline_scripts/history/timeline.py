"""The timeline's model: per stage, which version was live when, the attempts that did
not stay live, and the marks (failures, rollbacks, refusals), built from the typed rows.

How the timeline reads the rows of one stage, oldest first:

* ``deployed`` makes its version live from the row's start (a rollback execution makes
  the version of its ``rollback_target`` live);
* ``rolled-back`` shows the attempt, hatched, and then the version of its
  ``rollback_target`` (or else the one live before) is live again from its end;
* ``failed``, ``superseded``, ``stopped`` and ``in-progress`` show the attempt over
  whatever stayed live; ``skipped`` and ``gate-rejected`` are marks only.

Versions come from the rows' typed fields (``version``, ``rollback_target.version``),
never from text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from pipeline_scripts.history.markup import row_time, utc
from pipeline_scripts.history.rows import ROLLBACK_TRIGGERS, HistoryRow

ATTEMPT_RESULTS: Final = frozenset(
    {"failed", "rolled-back", "superseded", "stopped", "in-progress"}
)
MARKED_RESULTS: Final = frozenset(
    {"failed", "rolled-back", "superseded", "stopped", "gate-rejected", "skipped"}
)


@dataclass
class Segment:
    version: int
    start: datetime
    end: datetime
    kind: str  # "live" or a result of ATTEMPT_RESULTS
    row: HistoryRow | None


@dataclass
class Mark:
    at: datetime
    result: str
    row: HistoryRow


@dataclass
class Lane:
    stage: str
    live: list[Segment] = field(default_factory=list)
    attempts: list[Segment] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def live_now(self) -> Segment | None:
        return self.live[-1] if self.live else None


def _target_version(row: HistoryRow) -> int | None:
    return row.rollback_target.version if row.rollback_target else None


def build_lane(stage: str, rows: Sequence[HistoryRow], now: datetime) -> Lane:
    lane = Lane(stage)
    current: Segment | None = None

    def go_live(version: int, at: datetime, row: HistoryRow) -> None:
        nonlocal current
        if current is not None:
            if current.version == version:
                return
            current.end = at
        current = Segment(version, at, now, "live", row)
        lane.live.append(current)

    for row in rows:
        start = row_time(row)
        if start is None:
            continue
        end = utc(row.ended) if row.ended else (now if row.result == "in-progress" else start)
        target = _target_version(row)
        if row.result == "deployed":
            rollback = row.trigger in ROLLBACK_TRIGGERS and target is not None
            go_live(target if rollback and target else row.version, start, row)
        elif row.result in ATTEMPT_RESULTS:
            lane.attempts.append(Segment(row.version, start, end, row.result, row))
            if row.result == "rolled-back" and target is not None:
                go_live(target, end, row)
        if row.result in MARKED_RESULTS:
            lane.marks.append(Mark(end, row.result, row))
    return lane


def ordered_stages(rows: Sequence[HistoryRow], stages: Sequence[str] | None) -> list[str]:
    seen = list(stages or ())
    for row in sorted(rows, key=lambda r: row_time(r) or datetime.max.replace(tzinfo=UTC)):
        if row.stage and row.stage not in seen:
            seen.append(row.stage)
    return seen


#: How far past the last event "now" may be and still be drawn on the timeline (at least;


def distinct_approvals(rows: Sequence[HistoryRow]) -> list[HistoryRow]:
    """One row per decision (version, approval time): the approvals lane's marks."""
    seen: dict[tuple[int, datetime], HistoryRow] = {}
    for row in rows:
        if row.approval_time is None:
            continue
        key = (row.version, utc(row.approval_time))
        if key not in seen or row.result == "gate-rejected":
            seen[key] = row
    return sorted(seen.values(), key=lambda r: utc(r.approval_time or r.started or datetime.min))
