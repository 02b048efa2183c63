"""The summary charts of the HTML history as Chromium lays them out: inside the page at
a laptop's and a narrow window's width, labels apart, bars as long as their numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.history.page import render_history_html
from pipeline_scripts.history.summary import summarize
from tests.browser.chromium import Chromium
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

METRICS = ("frequency", "lead-time", "change-failure-rate", "time-to-restore")


@pytest.fixture(scope="module", params=[1280, 560], ids=["laptop", "narrow"])
def summary_page(
    request: pytest.FixtureRequest, chromium: Chromium, tmp_path_factory: pytest.TempPathFactory
) -> Chromium:
    """The sample history with its summary, open in a window ``request.param`` wide."""
    rows = sample_rows()
    summary = summarize(
        rows, group=GROUP, stages=("staging", "production"), since=None, until=GENERATED_AT
    )
    page: Path = tmp_path_factory.mktemp("summary") / "history.html"
    page.write_text(
        render_history_html(rows, group=GROUP, generated_at=GENERATED_AT, summary=summary),
        encoding="utf-8",
    )
    chromium.open(page.as_uri(), width=request.param, height=1000)
    return chromium


def _rows(page: Chromium) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.evaluate(
        "[...document.querySelectorAll('figure.metric g.stage-row')].map(g => {"
        " const box = e => { const r = g.querySelector(e).getBoundingClientRect();"
        "   return {left: r.left, right: r.right, width: r.width, top: r.top}; };"
        " const fill = g.querySelector('.fill');"
        " return {metric: g.closest('figure').dataset.metric, stage: g.dataset.stage,"
        "  name: box('.stage-name'), value: box('.value'), track: box('.track'),"
        "  fill: fill ? fill.getBoundingClientRect().width : 0,"
        "  text: g.querySelector('.value').textContent}; })"
    )
    return rows


def test_every_chart_is_inside_the_page_with_no_horizontal_scroll(summary_page: Chromium) -> None:
    # GIVEN / WHEN the charts' boxes and the page's scroll width
    measured = summary_page.evaluate(
        "({page: document.documentElement.clientWidth,"
        " scroll: document.documentElement.scrollWidth,"
        " charts: [...document.querySelectorAll('figure.metric')].map(f => {"
        "  const r = f.getBoundingClientRect();"
        "  return {metric: f.dataset.metric, left: r.left, right: r.right, height: r.height}; })})"
    )

    # THEN the four charts are there, each inside the page, and nothing scrolls sideways
    assert [c["metric"] for c in measured["charts"]] == list(METRICS)
    for chart in measured["charts"]:
        assert 0 <= chart["left"] < chart["right"] <= measured["page"], chart
        assert chart["height"] > 40, chart
    assert measured["scroll"] <= measured["page"], measured


def test_each_stage_name_and_its_value_stand_apart(summary_page: Chromium) -> None:
    # GIVEN / WHEN each chart row's stage name and value
    rows = _rows(summary_page)

    # THEN one row per stage in every chart, the name left of the value, both on the track
    assert len(rows) == 2 * len(METRICS)
    for row in rows:
        assert row["name"]["right"] < row["value"]["left"], row
        assert row["value"]["right"] <= row["track"]["right"] + 1, row


def test_the_failure_bar_is_the_failed_share_of_its_track(summary_page: Chromium) -> None:
    # GIVEN the sample's production: v2 rolled back by the guardrail, v4 taken out by
    # its rejection, of three deployments
    failure = {r["stage"]: r for r in _rows(summary_page) if r["metric"] == "change-failure-rate"}

    # THEN production's bar covers two-thirds of its track, and the value says so
    production = failure["production"]
    assert production["text"] == "67% (2 of 3)"
    assert production["fill"] == pytest.approx(production["track"]["width"] * 2 / 3, rel=0.01)


def test_the_charts_read_out_their_numbers(summary_page: Chromium) -> None:
    # GIVEN / WHEN the accessibility tree's images
    names = [
        node.get("name", {}).get("value", "")
        for node in summary_page.accessibility_tree()
        if node.get("role", {}).get("value") == "image" and not node.get("ignored")
    ]

    # THEN each chart is an image named with its title and each stage's value in words
    assert any(n.startswith("Change failure rate. staging: ") for n in names), names
    assert any("production: 67% (2 of 3)" in n for n in names), names
    assert sum(n.startswith("Lead time, approval to live.") for n in names) == 1, names
