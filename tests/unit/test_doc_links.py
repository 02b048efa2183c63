"""The README stays a short router, and nothing the docs point at is missing: every
relative link of README.md and docs/*.md reaches an existing file (and heading, for an
anchor), every repository path they name in backticks exists, and every page under docs/
is reached from the README by following links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.doc_snippets import README, ROOT, headings, name_of, pages, prose_lines, read

README_MAX_LINES = 300
PAGES = pages()
IDS = [name_of(page) for page in PAGES]

_LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_INLINE_CODE = re.compile(r"`[^`]*`")
#: A path inside the repository, written in backticks: `lambdas/shared/ledger.py`.
_REPO_PATH = re.compile(
    r"`(?P<path>(?:lambdas|stacks|pipeline_scripts|tests|docs|scripts)/[^`\s]*)`"
)


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to
    hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a page; a repeated heading gets ``-1``, ``-2``, …"""
    found: set[str] = set()
    for _, title in headings(read(page)):
        anchor, n = slug(title), 0
        while (anchor if n == 0 else f"{anchor}-{n}") in found:
            n += 1
        found.add(anchor if n == 0 else f"{anchor}-{n}")
    return found


def _links(page: Path) -> list[tuple[int, str]]:
    return [
        (number, match["target"])
        for number, line in prose_lines(read(page))
        for match in _LINK.finditer(_INLINE_CODE.sub("", line))
    ]


def broken_links(page: Path) -> list[str]:
    """Each relative link of ``page`` that reaches no file, or no heading of it."""
    broken = []
    for number, target in _links(page):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path_part, _, anchor = target.partition("#")
        path = (page.parent / path_part).resolve() if path_part else page
        where = f"{name_of(page)}:{number}: {target}"
        if not path.exists():
            broken.append(f"{where}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{where}: no heading with that anchor")
    return broken


def missing_paths(page: Path) -> list[str]:
    """Each repository path ``page`` names in backticks that does not exist."""
    return [
        f"{name_of(page)}:{number}: {match['path']}"
        for number, line in prose_lines(read(page))
        for match in _REPO_PATH.finditer(line)
        if not re.search(r"[<*…]", match["path"]) and not (ROOT / match["path"]).exists()
    ]


def test_the_readme_stays_under_its_length() -> None:
    lines = len(read(README).splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail to a guide"


def reachable(start: Path) -> set[Path]:
    """The Markdown pages reached from ``start`` by following relative links."""
    seen: set[Path] = set()
    todo = [start.resolve()]
    while todo:
        page = todo.pop()
        if page in seen or page.suffix != ".md" or not page.is_file():
            continue
        seen.add(page)
        todo += [
            (page.parent / target.partition("#")[0]).resolve()
            for _, target in _links(page)
            if not re.match(r"[a-z]+:", target) and target.partition("#")[0]
        ]
    return seen


def test_every_guide_is_reached_from_the_readme() -> None:
    # GIVEN the pages the README's links lead to, and the links of those, and so on
    reached = reachable(README)

    # THEN no page under docs/ is an orphan
    assert {page.resolve() for page in PAGES[1:]} - reached == set()


def test_a_page_no_link_leads_to_is_not_reached(tmp_path: Path) -> None:
    # GIVEN a start page linking to a guide that links back, and a page nothing links to
    (tmp_path / "start.md").write_text("[guide](guide.md)\n", encoding="utf-8")
    (tmp_path / "guide.md").write_text("[back](start.md#top)\n", encoding="utf-8")
    (tmp_path / "orphan.md").write_text("# Orphan\n", encoding="utf-8")

    # THEN the guide is reached and the orphan is not
    names = {page.name for page in reachable(tmp_path / "start.md")}
    assert names == {"start.md", "guide.md"}


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_repository_path_named_exists(page: Path) -> None:
    assert missing_paths(page) == []


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    # GIVEN a page linking to itself, to a missing file and to a missing heading
    page = tmp_path / "page.md"
    page.write_text(
        "# A title: `with` code\n\n"
        "[ok](#a-title-with-code) [gone](missing.md) [bad](#nowhere) [web](https://x.test)\n"
        "`[not](a-link.md)`\n```sh\n[nor](this.md)\n```\n",
        encoding="utf-8",
    )

    # WHEN its links are checked
    broken = [line.split(": ", 1)[1] for line in broken_links(page)]

    # THEN exactly the missing file and the missing heading are reported
    assert broken == ["missing.md: no such file", "#nowhere: no heading with that anchor"]


def test_headings_get_githubs_anchors() -> None:
    assert slug("Platform team: deploy, tune and tear down Greenlight") == (
        "platform-team-deploy-tune-and-tear-down-greenlight"
    )
    assert slug("The `greenlight` command") == "the-greenlight-command"
    assert slug("Faults (injected by drills and tests, never by default)") == (
        "faults-injected-by-drills-and-tests-never-by-default"
    )
