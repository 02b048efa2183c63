"""The HTML history as Chromium renders it: text, accessibility tree, layout and pixels."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_scripts.history.page import _COLUMNS
from tests.browser.chromium import Chromium, png_pixels
from tests.browser.sample_history import HOSTILE_DESCRIPTION, sample_rows

pytestmark = pytest.mark.browser


def _boxes(page: Chromium, selector: str) -> list[dict[str, Any]]:
    boxes: list[dict[str, Any]] = page.evaluate(
        "[...document.querySelectorAll(" + repr(selector) + ")].map(e => {"
        " const r = e.getBoundingClientRect();"
        " return {x: r.x, width: r.width, height: r.height, y: r.y,"
        " version: e.dataset.version, text: e.textContent}; })"
    )
    return boxes


def _ax_nodes(page: Chromium, role: str) -> list[str]:
    return [
        node.get("name", {}).get("value", "")
        for node in page.accessibility_tree()
        if node.get("role", {}).get("value") == role and not node.get("ignored")
    ]


def _ax_description(page: Chromium, name: str) -> str:
    for node in page.accessibility_tree():
        if node.get("name", {}).get("value") == name:
            return str(node.get("description", {}).get("value", ""))
    raise AssertionError(f"no accessible node named {name!r}")


def test_live_now_reads_the_version_live_in_each_stage(history_page: Chromium) -> None:
    # GIVEN the sample history open in Chromium
    # WHEN reading the text a person sees
    text: str = history_page.evaluate("document.body.innerText")

    # THEN staging runs v4 and production is back on v1 after the rejection of v4
    assert "Live in staging\nv4 since 2026-01-06 00:35 UTC" in text
    assert "Live in production\nv1 since 2026-01-06 09:40 UTC" in text


def test_production_lane_shows_v1_then_v4_then_v1_again_from_left_to_right(
    history_page: Chromium,
) -> None:
    # GIVEN / WHEN the laid-out live bars of the production lane
    bars = _boxes(history_page, 'g.bar-live[data-stage="production"] > rect')

    # THEN v1, v4 (approved), v1 (after the rejection rollback), left to right, all visible
    versions = [b["version"] for b in _boxes(history_page, 'g.bar-live[data-stage="production"]')]
    assert versions == ["1", "4", "1"]
    assert [b["x"] for b in bars] == sorted(b["x"] for b in bars)
    assert all(b["width"] > 20 and b["height"] > 10 for b in bars)


def test_rollbacks_and_the_failure_are_marked_where_they_happened(history_page: Chromium) -> None:
    # GIVEN / WHEN the rendered marks
    rollbacks = _boxes(history_page, "g.mark-rolled-back")
    failures = _boxes(history_page, "g.mark-failed")
    refusals = _boxes(history_page, "g.mark-gate-rejected")

    # THEN two rollback marks (guardrail, rejection), one failure, one gate refusal, all drawn
    assert len(rollbacks) == 2
    assert len(failures) == 1
    assert len(refusals) == 1
    assert all(m["width"] > 5 for m in [*rollbacks, *failures, *refusals])
    # and the failure sits in the staging lane, above the production lane's rollbacks
    assert failures[0]["y"] < min(m["y"] for m in rollbacks)


def test_the_legend_explains_each_mark_in_words(history_page: Chromium) -> None:
    # GIVEN / WHEN the legend's rendered text
    legend: str = history_page.evaluate("document.querySelector('.legend').innerText")

    # THEN every mark has a text label, not colour alone
    for label in ("Failed", "Rolled back", "Superseded", "Stopped", "Refused by a gate"):
        assert label in legend


def test_timeline_is_an_image_with_a_text_alternative_in_the_accessibility_tree(
    history_page: Chromium,
) -> None:
    # GIVEN / WHEN the accessibility tree
    images = _ax_nodes(history_page, "image")

    # THEN the timeline is exposed as a named image whose description tells the story
    title = "Which version was live in each stage, over time"
    assert title in images
    description = _ax_description(history_page, title)
    assert "production: v1 from 2026-01-05 02:15 UTC, v4 from 2026-01-06 01:45 UTC" in description
    assert "v4 rolled back at 2026-01-06 09:40 UTC" in description


def test_table_has_a_caption_and_column_headers_for_every_field(history_page: Chromium) -> None:
    # GIVEN / WHEN the accessibility tree
    headers = _ax_nodes(history_page, "columnheader")
    captions = history_page.evaluate("document.querySelector('table caption').innerText")

    # THEN each column is a header and the caption says what the table holds
    assert headers == list(_COLUMNS)
    assert captions.startswith("Every outcome for house-price-linear-learner, newest first")


def test_table_has_one_rendered_row_per_history_row(history_page: Chromium) -> None:
    # GIVEN / WHEN the rendered body rows
    rows = _boxes(history_page, "#history-table tbody tr")

    # THEN one per outcome, each laid out
    assert len(rows) == len(sample_rows())
    assert all(r["height"] > 0 for r in rows)


def test_approval_description_with_markup_is_shown_as_text_and_runs_nothing(
    history_page: Chromium,
) -> None:
    # GIVEN a description that holds a script tag
    # WHEN the page is rendered
    text: str = history_page.evaluate("document.querySelector('#history-table').innerText")
    scripts = history_page.evaluate("document.scripts.length")

    # THEN the reader sees the literal text, and the page holds no script at all
    assert HOSTILE_DESCRIPTION in text
    assert scripts == 0


def test_the_page_loads_no_resource_from_anywhere(history_page: Chromium) -> None:
    # GIVEN / WHEN the resources the page fetched
    fetched = history_page.evaluate("performance.getEntriesByType('resource').length")

    # THEN none: CSS and the timeline are inline
    assert fetched == 0


def test_screenshot_shows_the_version_colours_and_the_marks(history_page: Chromium) -> None:
    # GIVEN / WHEN a screenshot of the viewport
    width, height, rows = png_pixels(history_page.screenshot(full_page=False))
    colours = {row[i : i + 3] for row in rows[::2] for i in range(0, len(row), 6)}

    # THEN it is not blank, and v1's blue, the failure red and the rollback orange are drawn
    assert (width, height) == (1400, 1100)
    assert len(colours) > 200
    for hex_colour in ("2459c9", "b42318", "c4520c"):
        assert bytes.fromhex(hex_colour) in colours, hex_colour
