"""The HTML history with an operator's actions and a live version rejected since: who ran
them, why, and the flag fit a laptop screen without hiding columns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline_scripts.history.page import render_history_html
from tests.browser.chromium import Chromium
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

#: A laptop screen.
VIEWPORT = {"width": 1280, "height": 900}
OPERATOR = "arn:aws:sts::123456789012:assumed-role/GreenlightOperators/alice@example.com"


@pytest.fixture(scope="module")
def operator_page(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    """The sample history with every other row an operator's, and its last row flagged."""
    rows = [
        replace(
            row,
            operator=OPERATOR,
            operator_reason="p99 latency up 30% after the 09:00 deploy; back to the last good",
        )
        if i % 2
        else row
        for i, row in enumerate(sample_rows())
    ]
    rows[-1] = replace(rows[-1], result="deployed", live_rejected=True)
    page: Path = tmp_path_factory.mktemp("operator") / "history.html"
    page.write_text(
        render_history_html(rows, group=GROUP, generated_at=GENERATED_AT), encoding="utf-8"
    )
    chromium.open(page.as_uri(), **VIEWPORT)
    return chromium


def test_the_table_naming_operators_fits_the_page(operator_page: Chromium) -> None:
    # GIVEN the page on a 1280-pixel-wide screen, operators named in the trigger cells
    named = operator_page.evaluate("document.querySelectorAll('td.trigger .operator').length")
    assert named > 0

    # WHEN the table's laid-out width is compared with its container's
    widths = operator_page.evaluate(
        "(() => { const wrap = document.querySelector('.table-wrap');"
        " return {scroll: wrap.scrollWidth, client: wrap.clientWidth}; })()"
    )

    # THEN nothing is hidden behind a horizontal scroll
    assert widths["scroll"] <= widths["client"], widths
