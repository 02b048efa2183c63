"""Regenerate the README's screenshot: ``python -m tests.browser.screenshot``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pipeline_scripts.history.page import render_history_html
from pipeline_scripts.history.summary import summarize
from tests.browser.chromium import Chromium, find_chromium
from tests.browser.sample_history import GENERATED_AT, GROUP, sample_rows

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "images" / "history.png"


def main() -> int:
    binary = find_chromium()
    if binary is None:
        print("no Chromium binary found; run scripts/install-chromium.sh", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "history.html"
        rows = sample_rows()
        summary = summarize(
            rows, group=GROUP, stages=("staging", "production"), since=None, until=GENERATED_AT
        )
        page.write_text(
            render_history_html(rows, group=GROUP, generated_at=GENERATED_AT, summary=summary),
            encoding="utf-8",
        )
        browser = Chromium(binary, Path(scratch) / "profile")
        try:
            browser.open(page.as_uri(), width=1400, height=1400)
            png = browser.screenshot(full_page=False)
        finally:
            browser.close()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(png)
    print(
        f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
