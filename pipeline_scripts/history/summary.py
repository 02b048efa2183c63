"""Deployment metrics of one group's history, per stage, over a window: what an auditor or
a platform team asks first ("how often do we ship, how long does an approval take to go
live, how often does a change fail, how fast are we back").

Computed from the :class:`HistoryRow` list the history reader builds (ledger, registry and
CodePipeline joined), never from rendered text. The README's auditor section states the
same definitions; they are, for a stage S and a window [start, end]:

* **window**: from ``--since`` (or, without it, the earliest approval, start or end of
  any row) to the moment the history is read. Its length in days may be fractional.
* **deployment**: a row of stage S started by an approval or ``greenlight redeploy``
  whose outcome is final: ``deployed``, ``failed`` or ``rolled-back``. (Superseded,
  stopped and in-progress attempts, refusals and rollback executions are not
  deployments.)
* **deployment frequency**: deployments / window days (and times 7 per week).
* **lead time**: for each ``deployed`` deployment started by an approval, from the
  approval (the registry's time of it) to the stage's success, i.e. live in S. Manual
  approvals between stages count: they are part of the wait. Redeploys are left out
  (their approval is the version's first one).
* **change failure rate**: failed deployments / deployments, where a deployment failed
  if its own outcome is ``failed`` or ``rolled-back``, or if a rejection or
  ``greenlight rollback`` later took that version out of S (a ``rolled-back`` row of a
  rollback execution names the version it took out; it marks the latest deployment of
  that version in S that started before it).
* **rollback**: a rollback execution's row of S (trigger ``automated-rollback``,
  ``rejection-rollback`` or ``manual-rollback``) for the version it put back; it
  **restored** S when that row is ``deployed``.
* **time to restore**: for each restoring rollback, from its start in S (the failure's
  moment for an automated rollback, which CodePipeline starts when the stage fails) to
  the earlier version live again in S (the row's end).
* **median and p90** are nearest-rank percentiles: the smallest observed value with at
  least that share of the values at or below it (the median of two values is the lower
  one). Every value shown is one that happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from pipeline_scripts.history.rows import ROLLBACK_TRIGGERS, HistoryRow

#: Triggers of executions that deploy a change (the others put an earlier version back).
DEPLOYMENT_TRIGGERS: Final = frozenset({"approval", "redeploy"})
#: Outcomes that end a deployment in a stage.
FINAL_RESULTS: Final = frozenset({"deployed", "failed", "rolled-back"})
#: Outcomes of a deployment that count as a change failure by themselves.
FAILED_RESULTS: Final = frozenset({"failed", "rolled-back"})
_DAY: Final = timedelta(days=1)
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The time the summary covers; ``start`` is None when there is nothing to cover."""

    start: datetime | None
    end: datetime

    @property
    def days(self) -> float | None:
        """The window's length in days; None when it is empty or has no start."""
        if self.start is None or self.end <= self.start:
            return None
        return (self.end - self.start) / _DAY


@dataclass(frozen=True)
class Spread:
    """How a set of durations spreads: how many, their median and 90th percentile."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, values: Iterable[timedelta]) -> Spread:
        ordered = sorted(values)
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 90))


@dataclass(frozen=True)
class StageSummary:
    stage: str
    #: Finished deployments in the window (see the module's definitions).
    deployments: int
    #: Deployments per day and per week over the window; None for an empty window.
    per_day: float | None
    per_week: float | None
    #: Approval to live in this stage, over the ``deployed`` approval deployments.
    lead_time: Spread
    #: Deployments that failed, were rolled back, or were later taken out again.
    failed_deployments: int
    #: failed_deployments / deployments; None with no deployment.
    change_failure_rate: float | None
    #: Rollback executions in this stage, and how many of them put a version back.
    rollbacks: int
    restored: int
    #: Rollback start to the earlier version live again, over the restoring rollbacks.
    time_to_restore: Spread


@dataclass(frozen=True)
class HistorySummary:
    group: str
    window: Window
    stages: tuple[StageSummary, ...]


def percentile(ordered: Sequence[timedelta], percent: int) -> timedelta | None:
    """The nearest-rank ``percent``-th percentile of ``ordered`` (sorted ascending)."""
    if not 0 < percent <= 100:
        raise ValueError(f"percentile: percent must be in 1..100, got {percent}")
    if not ordered:
        return None
    rank = math.ceil(percent / 100 * len(ordered))
    return ordered[rank - 1]


def summarize(
    rows: Sequence[HistoryRow],
    *,
    group: str,
    stages: Sequence[str],
    since: datetime | None,
    until: datetime,
) -> HistorySummary:
    """The summary of ``rows`` (already limited to ``since``) per stage, ``stages`` first
    in their order and then any other stage the rows name."""
    order = list(stages)
    for row in rows:
        if row.stage and row.stage not in order:
            order.append(row.stage)
    window = Window(since if since is not None else _earliest(rows), until)
    return HistorySummary(
        group=group,
        window=window,
        stages=tuple(
            _stage_summary(stage, [r for r in rows if r.stage == stage], window) for stage in order
        ),
    )


def _earliest(rows: Iterable[HistoryRow]) -> datetime | None:
    moments = [m for r in rows for m in (r.approval_time, r.started, r.ended) if m is not None]
    return min(moments, default=None)


def _stage_summary(stage: str, rows: Sequence[HistoryRow], window: Window) -> StageSummary:
    deployments = [
        r for r in rows if r.trigger in DEPLOYMENT_TRIGGERS and r.result in FINAL_RESULTS
    ]
    failed = _failed_deployments(deployments, rows)
    rollbacks = [r for r in rows if r.trigger in ROLLBACK_TRIGGERS and r.result != "rolled-back"]
    restores = [r for r in rollbacks if r.result == "deployed"]
    days = window.days
    per_day = len(deployments) / days if days else None
    return StageSummary(
        stage=stage,
        deployments=len(deployments),
        per_day=per_day,
        per_week=per_day * 7 if per_day is not None else None,
        lead_time=Spread.of(
            _span(r.approval_time, r.ended)
            for r in deployments
            if r.trigger == "approval" and r.result == "deployed"
            if r.approval_time is not None and r.ended is not None
        ),
        failed_deployments=len(failed),
        change_failure_rate=len(failed) / len(deployments) if deployments else None,
        rollbacks=len(rollbacks),
        restored=len(restores),
        time_to_restore=Spread.of(
            _span(r.started, r.ended)
            for r in restores
            if r.started is not None and r.ended is not None
        ),
    )


def _failed_deployments(
    deployments: Sequence[HistoryRow], rows: Sequence[HistoryRow]
) -> list[HistoryRow]:
    """The deployments that count as change failures: by their own outcome, or because a
    later rollback took their version out of the stage."""
    failed = {i for i, r in enumerate(deployments) if r.result in FAILED_RESULTS}
    for taken_out in rows:
        if taken_out.trigger not in ROLLBACK_TRIGGERS or taken_out.result != "rolled-back":
            continue
        when = _moment(taken_out)
        earlier = [
            i
            for i, r in enumerate(deployments)
            if r.version == taken_out.version
            and r.result == "deployed"
            and (when is None or (_moment(r) or when) <= when)
        ]
        if earlier:
            failed.add(max(earlier, key=lambda i: _moment(deployments[i]) or when or _NEVER))
    return [deployments[i] for i in sorted(failed)]


def _moment(row: HistoryRow) -> datetime | None:
    return row.started or row.ended or row.approval_time


def _span(start: datetime | None, end: datetime | None) -> timedelta:
    assert start is not None
    assert end is not None
    return max(end - start, timedelta(0))
