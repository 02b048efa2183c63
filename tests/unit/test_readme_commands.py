"""Every ``greenlight`` subcommand the README names exists, and every one has a section."""

from __future__ import annotations

import re

from pipeline_scripts.cli import build_parser
from tests.readme import README


def _subcommands() -> set[str]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return set(action.choices)  # type: ignore[arg-type]


def test_every_greenlight_command_the_readme_names_exists() -> None:
    # GIVEN the README's text
    named = set(re.findall(r"greenlight ([a-z][a-z-]*)", README.read_text(encoding="utf-8")))

    # THEN each named subcommand is one the CLI has
    assert named - _subcommands() == set()


def test_the_readme_names_every_command_the_cli_has() -> None:
    # GIVEN the README's text
    text = README.read_text(encoding="utf-8")
    # THEN every subcommand of the CLI is shown in it
    for command in _subcommands():
        assert f"greenlight {command}" in text, command
