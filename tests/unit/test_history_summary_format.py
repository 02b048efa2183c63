"""The history summary as a table, JSON, CSV and HTML charts, from a typed summary."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from pipeline_scripts.history.page import render_history_html
from pipeline_scripts.history.summary import HistorySummary, Spread, StageSummary, Window
from pipeline_scripts.history.summary_html import summary_section
from pipeline_scripts.history.summary_text import (
    CSV_COLUMNS,
    duration,
    summary_csv,
    summary_record,
    summary_table,
)
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
END = datetime(2026, 1, 5, 10, 45, tzinfo=UTC)
NONE = Spread(0, None, None)


def stage(name: str, **values: object) -> StageSummary:
    fields: dict[str, object] = {
        "stage": name,
        "deployments": 3,
        "per_day": 41.14,
        "per_week": 288.0,
        "lead_time": Spread(2, timedelta(minutes=24), timedelta(seconds=2339.96)),
        "failed_deployments": 2,
        "change_failure_rate": 2 / 3,
        "rollbacks": 2,
        "restored": 2,
        "time_to_restore": Spread(2, timedelta(minutes=15), timedelta(minutes=17)),
    }
    fields.update(values)
    return StageSummary(**fields)  # type: ignore[arg-type]


def two_stages() -> HistorySummary:
    staging = stage(
        "staging",
        failed_deployments=0,
        change_failure_rate=0.0,
        rollbacks=0,
        restored=0,
        time_to_restore=NONE,
    )
    return HistorySummary(GROUP, Window(START, END), (staging, stage("production")))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (44.6, "45s"), (419.96, "7m00s"), (2339.96, "39m00s"), (3900, "1h05m"),
     (273_600, "3d04h")],
)  # fmt: skip
def test_durations_read_in_two_units_at_most(seconds: float, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


def test_the_table_has_a_column_per_stage_and_a_line_per_metric() -> None:
    # GIVEN / WHEN the summary of two stages as a table
    text = summary_table(two_stages())

    # THEN it names the window, and each metric's line reads across the stages
    lines = text.splitlines()
    assert lines[0] == "Summary, 2026-01-05 09:00 UTC to 2026-01-05 10:45 UTC (1h45m):"
    assert lines[1].split() == ["staging", "production"]
    assert re.split(r"\s{2,}", lines[2]) == ["deployments", "3", "3"]
    assert re.split(r"\s{2,}", lines[4]) == ["lead time, median / p90"] + ["24m00s / 39m00s"] * 2
    assert re.split(r"\s{2,}", lines[5]) == ["change failure rate", "0% (0 of 3)", "67% (2 of 3)"]
    assert re.split(r"\s{2,}", lines[7]) == [
        "time to restore, median / p90",
        "-",
        "15m00s / 17m00s",
    ]


def test_the_table_continues_stages_below_when_they_would_pass_120_columns() -> None:
    # GIVEN seven stages
    summary = HistorySummary(
        GROUP, Window(START, END), tuple(stage(f"stage-number-{n}") for n in range(7))
    )

    # WHEN printed as a table
    text = summary_table(summary, width=120)

    # THEN no line passes 120 columns, and every stage is there
    assert max(len(line) for line in text.splitlines()) <= 120
    assert all(f"stage-number-{n}" in text for n in range(7))


def test_json_gives_durations_in_seconds_and_null_where_there_is_no_value() -> None:
    # GIVEN / WHEN the summary as JSON
    record = json.loads(json.dumps(summary_record(two_stages())))

    # THEN the window and each stage are typed values
    assert record["window"] == {
        "start": "2026-01-05T09:00:00+00:00",
        "end": "2026-01-05T10:45:00+00:00",
        "days": pytest.approx(105 / 1440),
    }
    staging, production = record["stages"]
    assert staging["time_to_restore"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert production["lead_time"] == {
        "count": 2,
        "median_seconds": 1440.0,
        "p90_seconds": 2339.96,
    }
    assert production["change_failure_rate"] == pytest.approx(2 / 3)


def test_csv_is_one_table_a_line_per_stage_with_empty_cells_for_no_value() -> None:
    # GIVEN / WHEN the summary as CSV
    lines = list(csv.DictReader(io.StringIO(summary_csv(two_stages()))))

    # THEN the documented columns, one line per stage, numbers as numbers
    assert tuple(lines[0]) == CSV_COLUMNS
    assert [line["stage"] for line in lines] == ["staging", "production"]
    assert lines[0]["time_to_restore_median_seconds"] == ""
    assert float(lines[1]["lead_time_p90_seconds"]) == 2339.96
    assert int(lines[1]["failed_deployments"]) == 2


def test_the_html_summary_draws_a_chart_per_metric_and_escapes_stage_names() -> None:
    # GIVEN a stage name holding markup
    summary = HistorySummary(GROUP, Window(START, END), (stage("<b>prod</b>"),))

    # WHEN the summary section is drawn
    section = summary_section(summary)

    # THEN four inline SVG charts, named in words for screen readers, and no markup leaks
    assert re.findall(r'data-metric="([a-z-]+)"', section) == [
        "frequency",
        "lead-time",
        "change-failure-rate",
        "time-to-restore",
    ]
    assert section.count("<svg") == 4
    assert 'aria-label="Change failure rate. &lt;b&gt;prod&lt;/b&gt;: 67% (2 of 3)"' in section
    assert "<b>" not in section


def test_the_failure_bar_is_the_failed_share_of_the_track() -> None:
    # GIVEN / WHEN the change failure chart of two-thirds failed
    section = summary_section(HistorySummary(GROUP, Window(START, END), (stage("production"),)))
    chart = section.split('data-metric="change-failure-rate"')[1].split("</figure>")[0]

    # THEN its filled bar is two-thirds of the 320-unit track
    assert re.search(r'class="fill" x="0" y="\d+" width="213.3"', chart)


def test_the_page_shows_the_summary_only_when_given_one() -> None:
    # GIVEN / WHEN the sample history rendered with and without a summary
    with_summary = render_history_html(
        sample_rows(), group=GROUP, generated_at=GENERATED_AT, summary=two_stages()
    )
    without = render_history_html(sample_rows(), group=GROUP, generated_at=GENERATED_AT)

    # THEN only the first has the summary section
    assert 'id="summary"' in with_summary
    assert 'id="summary"' not in without
