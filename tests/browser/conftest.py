"""Browser fixtures: one headless Chromium per module, skipped with a reason when absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_scripts.history.page import render_history_html
from tests.browser.chromium import Chromium, find_chromium
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

VIEWPORT = {"width": 1400, "height": 1100}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary found (chromium, chromium-browser, google-chrome or "
            "GREENLIGHT_CHROMIUM); run scripts/install-chromium.sh as root on Debian"
        )
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def history_page(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    """The sample history rendered to a file and opened in Chromium."""
    page = tmp_path_factory.mktemp("history") / "history.html"
    page.write_text(
        render_history_html(sample_rows(), group=GROUP, generated_at=GENERATED_AT),
        encoding="utf-8",
    )
    chromium.open(page.as_uri(), **VIEWPORT)
    return chromium
