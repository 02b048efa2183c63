"""How the doc tests read a page: sections, console commands, and the ``…`` matcher."""

from __future__ import annotations

import pytest

from tests.doc_snippets import Block, blocks, commands, matches, section

PAGE = """# Title

## First

```console
$ greenlight status g
# not a heading, the output
```

### Inside first

## Second
text
"""


def test_a_section_runs_to_the_next_heading_of_its_level_and_skips_fenced_lines() -> None:
    first = section(PAGE, "First")
    assert first.startswith("## First\n")
    assert "### Inside first" in first
    assert "## Second" not in first
    assert section(PAGE, "Second") == "## Second\ntext\n"
    with pytest.raises(LookupError):
        section(PAGE, "Third")


def test_a_console_block_gives_each_command_with_the_output_shown_after_it() -> None:
    (block,) = blocks(PAGE, "console")
    (command,) = commands(block, "page.md")
    assert command.argv == ["status", "g"]
    assert command.shown == "# not a heading, the output"
    assert command.where == "page.md:5: greenlight status g"


def test_output_before_any_command_is_refused() -> None:
    with pytest.raises(AssertionError, match="output before any command"):
        commands(Block("console", 3, "printed\n$ greenlight status\n"), "page.md")


def test_the_ellipsis_matching_stands_only_for_what_varies() -> None:
    # GIVEN output shown with an ellipsis for an execution id and for a run of lines
    shown = "started execution …\nrows:\n…\nend"

    # THEN it matches what varies there and nothing else
    assert matches(shown, "started execution 1234\nrows:\na\nb\nend")
    assert matches(shown, "started execution 1234\nrows:\nend")
    assert not matches(shown, "stopped execution 1234\nrows:\nend")
    assert not matches(shown, "started execution 1234\nrows:\na\nfinish")
    assert not matches("a…b", "a\nb")  # an ellipsis inside a line stays in that line


def test_without_an_ellipsis_the_match_is_exact() -> None:
    assert matches("one\ntwo", "one\ntwo")
    assert not matches("one\ntwo", "one\ntwo\nthree")
    assert not matches("one", "one two")


def test_a_long_output_that_does_not_match_is_refused_at_once() -> None:
    # GIVEN many ellipsis lines and a long output whose last line differs
    shown = "\n".join(["…", "x…"] * 30 + ["end"])
    printed = "\n".join(["x"] * 5000 + ["not the end"])

    # THEN it is refused (a backtracking regular expression would not return)
    assert not matches(shown, printed)
