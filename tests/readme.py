"""The README, read by the tests that run its snippets: one section at a time."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def section(heading: str) -> str:
    """The text of the ``## `` section whose heading starts with ``heading``, up to the
    next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.find(f"\n## {heading}")
    if start < 0:
        raise LookupError(f"README.md has no section '## {heading}'")
    end = text.find("\n## ", start + 1)
    return text[start + 1 : end if end >= 0 else len(text)]
