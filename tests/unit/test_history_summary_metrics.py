"""The deployment metrics of a history, from hand-built rows: each metric's edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline_scripts.history.rows import HistoryRow, RollbackTarget
from pipeline_scripts.history.summary import (
    HistorySummary,
    Spread,
    StageSummary,
    Window,
    percentile,
    summarize,
)
from tests.browser.sample_history import GROUP, row

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAGES = ("staging", "production")
#: When the history is read, unless a test says otherwise: a day after T0.
READ_AT = T0 + timedelta(days=1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def t(n: float) -> datetime:
    """``n`` minutes after T0."""
    return T0 + minutes(n)


def deployed(version: int, stage: str, approved: float, start: float, end: float) -> HistoryRow:
    return row(
        version,
        approval_time=t(approved),
        execution_id=f"e{version}",
        stage=stage,
        started=t(start),
        ended=t(end),
    )


def summary(
    rows: list[HistoryRow], *, since: datetime | None = None, until: datetime = READ_AT
) -> HistorySummary:
    return summarize(rows, group=GROUP, stages=STAGES, since=since, until=until)


def stage_of(result: HistorySummary, stage: str) -> StageSummary:
    (found,) = [s for s in result.stages if s.stage == stage]
    return found


def test_no_deployments_gives_zero_counts_and_no_rates_or_times() -> None:
    # GIVEN no rows at all
    # WHEN summarized without --since
    result = summary([])

    # THEN each configured stage is there with zeros, and no rate or time is invented
    assert result.window == Window(None, READ_AT)
    assert result.window.days is None
    empty = Spread(0, None, None)
    assert result.stages == tuple(
        StageSummary(stage, 0, None, None, empty, 0, None, 0, 0, empty) for stage in STAGES
    )


def test_a_refusal_and_a_superseded_attempt_are_not_deployments() -> None:
    # GIVEN a gate refusal, a superseded, a stopped and an in-progress attempt in staging
    rows = [
        row(1, approval_time=t(0), result="gate-rejected", reason="no Bias report"),
        row(2, approval_time=t(1), execution_id="e2", stage="staging", result="superseded",
            started=t(1), ended=t(2)),
        row(3, approval_time=t(2), execution_id="e3", stage="staging", result="stopped",
            started=t(2), ended=t(3)),
        row(4, approval_time=t(3), execution_id="e4", stage="staging", result="in-progress",
            started=t(3)),
    ]  # fmt: skip

    # WHEN summarized
    staging = stage_of(summary(rows), "staging")

    # THEN staging counts no deployment, so no failure rate either
    assert staging.deployments == 0
    assert staging.change_failure_rate is None
    assert staging.lead_time == Spread(0, None, None)


def test_a_single_deployment_gives_its_lead_time_as_median_and_p90_and_no_failure() -> None:
    # GIVEN v1 approved at 0, live in staging at 7 minutes; the window is one day from --since
    rows = [deployed(1, "staging", approved=0, start=0, end=7)]

    # WHEN summarized over the day
    staging = stage_of(summary(rows, since=T0, until=T0 + timedelta(days=1)), "staging")

    # THEN one deployment a day (seven a week), a 7-minute lead time and no failure
    assert staging.deployments == 1
    assert staging.per_day == pytest.approx(1.0)
    assert staging.per_week == pytest.approx(7.0)
    assert staging.lead_time == Spread(1, minutes(7), minutes(7))
    assert staging.failed_deployments == 0
    assert staging.change_failure_rate == 0.0
    assert (staging.rollbacks, staging.restored) == (0, 0)
    assert staging.time_to_restore == Spread(0, None, None)


def test_without_since_the_window_starts_at_the_first_row_and_ends_when_read() -> None:
    # GIVEN two deployments, the first approved at T0; the history is read 12 hours later
    rows = [
        deployed(1, "staging", approved=0, start=1, end=8),
        deployed(2, "staging", approved=60, start=61, end=68),
    ]

    # WHEN summarized without --since
    result = summary(rows, until=t(12 * 60))

    # THEN the window is T0 to the reading, half a day: four deployments a day
    assert result.window == Window(T0, t(12 * 60))
    assert stage_of(result, "staging").per_day == pytest.approx(4.0)


def test_lead_time_counts_manual_approval_waits_and_leaves_redeploys_out() -> None:
    # GIVEN v1 and v2 approved and live in production after 24 and 39 minutes, and a
    # redeploy of v1 whose approval time is v1's first one
    rows = [
        deployed(1, "production", approved=0, start=7, end=24),
        deployed(2, "production", approved=100, start=107, end=139),
        row(1, approval_time=t(0), execution_id="r1", trigger="redeploy", stage="production",
            started=t(300), ended=t(317)),
    ]  # fmt: skip

    # WHEN summarized
    production = stage_of(summary(rows), "production")

    # THEN three deployments, and the lead time spreads over the two approvals only
    assert production.deployments == 3
    assert production.lead_time == Spread(2, minutes(24), minutes(39))


def test_an_automated_rollback_that_restores_counts_a_failure_and_its_restore_time() -> None:
    # GIVEN v1 live in production; v2 fails there from 30 to 45, and CodePipeline's
    # automated rollback puts v1 back from 40 to 55
    rows = [
        deployed(1, "production", approved=0, start=5, end=20),
        row(2, approval_time=t(25), execution_id="e2", stage="production",
            result="rolled-back", reason="alarm", started=t(30), ended=t(55),
            rollback_target=RollbackTarget(1, "rb")),
        row(1, approval_time=t(0), execution_id="rb", trigger="automated-rollback",
            stage="production", started=t(40), ended=t(55),
            rollback_target=RollbackTarget(1, "e1", replacing=2)),
    ]  # fmt: skip

    # WHEN summarized
    production = stage_of(summary(rows), "production")

    # THEN two deployments, one failed; one rollback restored v1 in 15 minutes
    assert (production.deployments, production.failed_deployments) == (2, 1)
    assert production.change_failure_rate == pytest.approx(0.5)
    assert (production.rollbacks, production.restored) == (1, 1)
    assert production.time_to_restore == Spread(1, minutes(15), minutes(15))


def test_a_rollback_that_has_not_restored_counts_the_failure_but_no_restore_time() -> None:
    # GIVEN v2 failed in production and the rollback putting v1 back itself failed
    rows = [
        deployed(1, "production", approved=0, start=5, end=20),
        row(2, approval_time=t(25), execution_id="e2", stage="production", result="failed",
            reason="smoke test", started=t(30), ended=t(35)),
        row(1, approval_time=t(0), execution_id="rb", trigger="automated-rollback",
            stage="production", result="failed", reason="Deploy timed out",
            started=t(35), ended=t(50)),
    ]  # fmt: skip

    # WHEN summarized
    production = stage_of(summary(rows), "production")

    # THEN the failure counts, the rollback counts, and there is no time to restore
    assert production.failed_deployments == 1
    assert (production.rollbacks, production.restored) == (1, 0)
    assert production.time_to_restore == Spread(0, None, None)


def test_a_rejection_rollback_marks_the_deployment_it_took_out_as_a_failure() -> None:
    # GIVEN v1 then v2 live in production; v2 is rejected, and the rollback execution
    # takes v2 out (its rolled-back row) and puts v1 back, from 200 to 217
    rows = [
        deployed(1, "production", approved=0, start=5, end=20),
        deployed(2, "production", approved=100, start=105, end=120),
        row(2, approval_time=t(199), execution_id="rb", trigger="rejection-rollback",
            stage="production", result="rolled-back", reason="v2 was rejected",
            started=t(200), ended=t(217), rollback_target=RollbackTarget(1, "rb")),
        row(1, approval_time=t(0), execution_id="rb", trigger="rejection-rollback",
            stage="production", started=t(200), ended=t(217),
            rollback_target=RollbackTarget(1, "e1", replacing=2)),
    ]  # fmt: skip

    # WHEN summarized
    production = stage_of(summary(rows), "production")

    # THEN v2's deployment is a change failure (1 of 2), restored in 17 minutes
    assert (production.deployments, production.failed_deployments) == (2, 1)
    assert production.change_failure_rate == pytest.approx(0.5)
    assert production.time_to_restore == Spread(1, minutes(17), minutes(17))
    # AND the version put back is not itself a deployment, nor its lead time counted
    assert production.lead_time.count == 2


def test_a_rollback_of_a_deployment_before_the_window_counts_no_failure_in_it() -> None:
    # GIVEN only the rejection rollback's rows are in the window (v2 deployed before it)
    since = t(150)
    rows = [
        row(2, approval_time=t(199), execution_id="rb", trigger="manual-rollback",
            stage="production", result="rolled-back", started=t(200), ended=t(217)),
        row(1, approval_time=t(0), execution_id="rb", trigger="manual-rollback",
            stage="production", started=t(200), ended=t(217)),
    ]  # fmt: skip

    # WHEN summarized from --since
    production = stage_of(summary(rows, since=since), "production")

    # THEN no deployment, no failure, but the restore is there
    assert (production.deployments, production.failed_deployments) == (0, 0)
    assert production.change_failure_rate is None
    assert production.time_to_restore == Spread(1, minutes(17), minutes(17))


def test_stages_keep_the_configured_order_then_any_other_stage_named() -> None:
    # GIVEN a row in a stage the configuration no longer lists
    rows = [deployed(1, "canary", approved=0, start=1, end=2)]

    # WHEN summarized
    result = summary(rows)

    # THEN the configured stages come first, then the other one
    assert [s.stage for s in result.stages] == ["staging", "production", "canary"]


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([7], 7, 7),
        ([5, 1], 1, 5),
        ([4, 1, 3, 2], 2, 4),
        (list(range(1, 11)), 5, 9),
        (list(range(1, 12)), 6, 10),
    ],
)
def test_median_and_p90_are_nearest_rank_so_every_value_shown_happened(
    values: list[int], median: int, p90: int
) -> None:
    # GIVEN durations in minutes, in any order
    spread = Spread.of(minutes(v) for v in values)

    # THEN the median and p90 are the nearest-rank values
    assert (spread.count, spread.median, spread.p90) == (len(values), minutes(median), minutes(p90))


def test_percentile_refuses_a_percent_outside_1_to_100() -> None:
    with pytest.raises(ValueError, match=r"percent must be in 1\.\.100, got 0"):
        percentile([minutes(1)], 0)
