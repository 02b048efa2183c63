"""The ``greenlight`` commands the README and the guides show are ones the CLI has, and
every command line in their code blocks parses.

The blocks that run are run elsewhere: console blocks of the reviewer's, auditor's,
operator's and sandbox guides (tests/e2e/test_docs_commands.py), the data scientist's
python and console blocks (tests/integration/test_docs_data_scientist.py), the sandbox
guide's serve mode (tests/e2e/test_docs_serve_mode.py), and every page's json blocks as
configuration (tests/unit/test_config_reference_doc.py). This module holds the other
pages to that: a console or python block anywhere else would go unchecked, so it fails
here.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from pipeline_scripts.cli import build_parser
from tests.doc_snippets import README, blocks, commands, name_of, pages, read, shell_commands

#: The pages whose blocks of each runnable language some test runs.
RUN = {
    "console": {
        "docs/reviewer.md",
        "docs/auditor.md",
        "docs/operator.md",
        "docs/sandbox.md",
        "docs/data-scientist.md",
    },
    "python": {"docs/data-scientist.md", "docs/sandbox.md"},
}
#: Fence languages of blocks a reader pastes into a shell.
SHELL_LANGS = ("sh", "bash", "shell")
PAGES = pages()
IDS = [name_of(page) for page in PAGES]


def _subcommands() -> set[str]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return set(action.choices)  # type: ignore[arg-type]


def _command_lines(page: Path) -> list[tuple[str, list[str]]]:
    """``(where, argv)`` of every greenlight command in the page's console and shell
    blocks."""
    text, name = read(page), name_of(page)
    found = [
        (command.where, command.argv)
        for block in blocks(text, "console")
        for command in commands(block, name)
    ]
    for block in (block for lang in SHELL_LANGS for block in blocks(text, lang)):
        for words in shell_commands(block):
            if words[0] == "greenlight" or words[0].endswith("/greenlight"):
                found.append((f"{name}:{block.line}: {' '.join(words)}", words[1:]))
    return found


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_greenlight_command_a_page_names_exists(page: Path) -> None:
    # GIVEN the page's text
    named = set(re.findall(r"greenlight ([a-z][a-z-]*)", read(page)))

    # THEN each named subcommand is one the CLI has
    assert named - _subcommands() == set()


def test_the_readme_names_every_command_the_cli_has() -> None:
    # GIVEN the README's text
    text = read(README)
    # THEN every subcommand of the CLI is shown in it
    for command in _subcommands():
        assert f"greenlight {command}" in text, command


def _refusal(argv: list[str]) -> str | None:
    """What the CLI's parser says against ``argv``, or None when it accepts it."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            build_parser().parse_args(argv)
    except SystemExit:
        return errors.getvalue().strip().splitlines()[-1]
    return None


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_greenlight_command_line_of_a_page_parses(page: Path) -> None:
    # GIVEN every greenlight command line of the page's console and sh blocks
    lines = _command_lines(page)

    # WHEN the CLI parses each as shown THEN it accepts every one
    refused = [f"{where}: {_refusal(argv)}" for where, argv in lines if _refusal(argv)]
    assert refused == []


def test_a_command_line_with_an_option_the_cli_lacks_is_refused() -> None:
    # GIVEN a command line with an option the CLI does not have
    argv = ["approve", "g", "1", "--description", "x", "--force"]

    # THEN the check names what the CLI refuses
    assert "unrecognized arguments: --force" in str(_refusal(argv))


@pytest.mark.parametrize("lang", sorted(RUN))
def test_only_pages_whose_blocks_a_test_runs_hold_runnable_blocks(lang: str) -> None:
    # GIVEN the pages holding blocks of a runnable language
    holding = {name_of(page) for page in PAGES if blocks(read(page), lang)}

    # THEN they are exactly the pages some test runs in that language
    assert holding == RUN[lang]


def test_shell_lines_split_into_commands_without_assignments() -> None:
    # GIVEN a sh block with an assignment, a pipe, a comment and a continuation
    (block,) = blocks(
        "```sh\nA=1 greenlight status g | jq . # note\ngreenlight history \\\n  g\n```\n"
    )

    # THEN each simple command is its own list of words
    assert shell_commands(block) == [
        ["greenlight", "status", "g"],
        ["jq", "."],
        ["greenlight", "history", "g"],
    ]
