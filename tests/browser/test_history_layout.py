"""The HTML history read long after the events: the timeline spans the data's own time,
and the table fits a laptop screen without hiding columns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline_scripts.history.page import render_history_html
from tests.browser.chromium import Chromium
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

#: A laptop screen.
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def late_page(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    """The sample history, generated ten months after its last event (as a sandbox's
    virtual January history is read in November)."""
    page: Path = tmp_path_factory.mktemp("late") / "history.html"
    page.write_text(
        render_history_html(
            sample_rows(), group=GROUP, generated_at=GENERATED_AT + timedelta(days=300)
        ),
        encoding="utf-8",
    )
    chromium.open(page.as_uri(), **VIEWPORT)
    return chromium


def test_the_timeline_spans_the_datas_own_time_range(late_page: Chromium) -> None:
    # GIVEN the page generated long after the last event
    # WHEN the starts of every lane's bars are measured against the plot's width
    measured = late_page.evaluate(
        "(() => { const svg = document.querySelector('svg.timeline').getBoundingClientRect();"
        " const starts = [...document.querySelectorAll('g.bar-live > rect')]"
        "   .map(e => e.getBoundingClientRect().x);"
        " return {svg: svg.width, spread: Math.max(...starts) - Math.min(...starts)}; })()"
    )

    # THEN the deployments spread over most of the timeline, not a sliver at its left
    assert measured["spread"] > 0.5 * measured["svg"], measured


def test_the_history_table_fits_the_page_with_every_column_visible(late_page: Chromium) -> None:
    # GIVEN the page on a 1280-pixel-wide screen
    # WHEN the table's laid-out width is compared with its container's
    widths = late_page.evaluate(
        "(() => { const wrap = document.querySelector('.table-wrap');"
        " return {scroll: wrap.scrollWidth, client: wrap.clientWidth,"
        " page: document.documentElement.clientWidth}; })()"
    )

    # THEN nothing is hidden behind a horizontal scroll
    assert widths["scroll"] <= widths["client"], widths
    assert widths["client"] <= widths["page"], widths
