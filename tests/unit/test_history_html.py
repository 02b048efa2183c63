"""The HTML history renderer and the row model, without a browser."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline_scripts.history.page import render_history_html
from pipeline_scripts.history.rows import HistoryRow, RollbackTarget
from tests.browser.sample_history import GENERATED_AT, GROUP, at, row, sample_rows


def _live_in(page: str, stage: str) -> str:
    match = re.search(
        rf'<li class="live" data-stage="{stage}">.*?<span class="value">(v\d+|nothing live)', page
    )
    assert match, f"no live-now entry for {stage}"
    return match.group(1)


def _render(rows: list[HistoryRow], **kwargs: object) -> str:
    return render_history_html(rows, group=GROUP, generated_at=GENERATED_AT, **kwargs)


def test_user_text_is_escaped_everywhere_it_appears() -> None:
    # GIVEN a group name and an approval description holding markup
    hostile = row(
        1,
        approval_description='<img src=x onerror="alert(1)">',
        approval_time=at(5, 1),
        execution_id="e1",
        stage="<b>staging</b>",
        started=at(5, 2),
        ended=at(5, 3),
    )

    # WHEN the page is rendered
    page = render_history_html([hostile], group="<script>x</script>", generated_at=GENERATED_AT)

    # THEN no markup from the rows reaches the page unescaped
    assert "<img" not in page
    assert "<script" not in page
    assert "<b>staging" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_the_page_references_nothing_outside_itself() -> None:
    # GIVEN / WHEN the sample history rendered
    page = _render(sample_rows())

    # THEN no URL but the SVG namespace, no external attribute, and a CSP that forbids fetches
    urls = set(re.findall(r"https?://[^\s\"')]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"\b(src|href)=", page)
    assert "default-src 'none'" in page


def test_a_rolled_back_version_leaves_its_rollback_target_live() -> None:
    # GIVEN v1 live in production, then v2 rolled back to v1 by the guardrail
    rows = [
        row(1, execution_id="e1", stage="production", started=at(5, 1), ended=at(5, 2)),
        row(
            2,
            execution_id="e2",
            stage="production",
            result="rolled-back",
            rollback_target=RollbackTarget(version=1, execution_id="e1"),
            started=at(5, 3),
            ended=at(5, 4),
        ),
    ]

    # WHEN rendered
    page = _render(rows)

    # THEN v1 is live in production, and v2 is drawn as a rolled-back attempt
    assert _live_in(page, "production") == "v1"
    assert re.search(r'class="bar bar-rolled-back" data-version="2"', page)


def test_the_timeline_takes_a_rollback_s_version_from_the_typed_target_not_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN v1 then v2 live in production, and an automated rollback putting v1 back,
    # with the target's text form saying another version (as a text parser would read it)
    monkeypatch.setattr(RollbackTarget, "describe", lambda self, *, short=False: "v9")
    rows = [
        row(1, execution_id="e1", stage="production", started=at(5, 1), ended=at(5, 2)),
        row(2, execution_id="e2", stage="production", started=at(5, 3), ended=at(5, 4)),
        row(
            2,
            execution_id="e3",
            trigger="automated-rollback",
            stage="production",
            rollback_target=RollbackTarget(version=1, execution_id="e1", replacing=2),
            started=at(5, 5),
            ended=at(5, 6),
        ),
    ]

    # WHEN rendered
    page = _render(rows)

    # THEN the live version and its bar come from RollbackTarget.version, and the text
    # form only shows where a person reads it (the table's rollback target cell)
    assert _live_in(page, "production") == "v1"
    assert re.search(r'class="bar bar-live" data-version="1" data-stage="production"', page)
    assert 'data-version="9"' not in page
    assert "<td>v9</td>" in page


def test_a_rolled_back_row_without_a_named_target_restores_the_version_live_before() -> None:
    # GIVEN v3 live in staging, then v4 rolled back with no target recorded
    rows = [
        row(3, execution_id="e3", stage="staging", started=at(5, 1), ended=at(5, 2)),
        row(4, execution_id="e4", stage="staging", result="rolled-back", started=at(5, 3)),
    ]

    # WHEN rendered
    page = _render(rows)

    # THEN v3 is still the live version
    assert _live_in(page, "staging") == "v3"


def test_a_failed_attempt_is_marked_and_changes_nothing_live() -> None:
    # GIVEN v1 live in staging, then v2 failing its smoke test
    rows = [
        row(1, execution_id="e1", stage="staging", started=at(5, 1), ended=at(5, 2)),
        row(
            2,
            execution_id="e2",
            stage="staging",
            result="failed",
            reason="SmokeTest: HTTP 500",
            started=at(5, 3),
            ended=at(5, 4),
        ),
    ]

    # WHEN rendered
    page = _render(rows)

    # THEN v1 stays live and the failure is marked with its reason in the mark's title
    assert _live_in(page, "staging") == "v1"
    assert re.search(r'<g class="mark mark-failed"><title>[^<]*SmokeTest: HTTP 500', page)


def test_stages_argument_orders_the_lanes() -> None:
    # GIVEN production rows recorded before staging rows
    rows = [
        row(1, execution_id="e1", stage="production", started=at(5, 1), ended=at(5, 2)),
        row(1, execution_id="e1", stage="staging", started=at(5, 3), ended=at(5, 4)),
    ]

    # WHEN rendered with the configured stage order
    page = _render(rows, stages=["staging", "production"])

    # THEN staging's lane label comes first
    labels = re.findall(r'<text class="lane-label"[^>]*>([^<]+)</text>', page)
    assert labels == ["approvals", "staging", "production"]


def test_an_empty_history_says_so_instead_of_drawing_a_timeline() -> None:
    # GIVEN / WHEN no rows
    page = _render([])

    # THEN the page explains there is nothing yet, and still has the table's headers
    assert "No deployments recorded yet." in page
    assert "No outcomes recorded." in page
    assert '<svg class="timeline"' not in page
    assert '<th scope="col">Approval description</th>' in page


def test_table_lists_rows_newest_first() -> None:
    # GIVEN the sample history
    page = _render(sample_rows())

    # WHEN reading the table's version column
    versions = re.findall(r'<th scope="row" class="version"[^>]*>v(\d+)</th>', page)

    # THEN the in-progress v6 is first and v1's first staging deployment last
    assert versions[0] == "6"
    assert versions[-1] == "1"
    assert len(versions) == len(sample_rows())


def test_naive_times_are_read_as_utc() -> None:
    # GIVEN a row with naive datetimes
    naive = row(
        1,
        execution_id="e1",
        stage="staging",
        started=datetime(2026, 1, 5, 1, 0),
        ended=datetime(2026, 1, 5, 2, 0),
    )

    # WHEN rendered
    page = render_history_html(
        [naive], group=GROUP, generated_at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    )

    # THEN its times are shown as UTC
    assert '<time datetime="2026-01-05T01:00:00+00:00">2026-01-05 01:00</time>' in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result": "exploded"}, "HistoryRow.result must be one of deployed, failed"),
        ({"trigger": "cron"}, "HistoryRow.trigger must be one of approval, redeploy"),
        ({"version": 0}, "HistoryRow.version must be a whole number >= 1, got 0"),
        (
            {"started": at(5, 2), "ended": at(5, 1)},
            "HistoryRow for house-price-linear-learner v1 ends",
        ),
    ],
)
def test_history_row_refuses_values_outside_its_vocabulary(
    change: dict[str, object], message: str
) -> None:
    # GIVEN a valid row
    valid = row(1)

    # WHEN / THEN changing one field to a bad value is refused, naming the field
    with pytest.raises(ValueError, match=re.escape(message)):
        replace(valid, **change)
