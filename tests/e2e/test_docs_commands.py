"""The reviewer's, auditor's and operator's guides, and the sandbox's scenario list, run
as written.

Their ``console`` blocks hold ``$ greenlight …`` commands, each followed by what it
prints; the three guides' commands run in that order inside one sandbox of the example
app, with the pipeline left to run (and production's manual approval given) between
commands. In the output shown, ``…`` stands for text that changes from run to run
(execution ids), and a line that is only ``…`` for any number of lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.sandbox.accounts import REVIEWER_KEY
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from tests.doc_snippets import ROOT, Command, blocks, commands, guide, matches, name_of, read

pytestmark = pytest.mark.e2e

#: The guides whose commands run on one sandbox, in this order.
SANDBOX_GUIDES = ("reviewer", "auditor", "operator")


def _commands_of(name: str) -> list[Command]:
    path = guide(name)
    return [
        command
        for block in blocks(read(path), "console")
        for command in commands(block, name_of(path))
    ]


@pytest.fixture
def guide_world(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Sandbox, Story]]:
    monkeypatch.chdir(ROOT)  # the CLI reads ./cdk.json, as in the guides
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="guides")
        sandbox.log = story.say
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", REVIEWER_KEY)
        boto3.setup_default_session()  # the reviewer runs the commands
        yield sandbox, story
    boto3.DEFAULT_SESSION = None


def test_the_reviewer_auditor_and_operator_commands_print_what_their_guides_show(
    guide_world: tuple[Sandbox, Story],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a data scientist registered versions 1 and 2, as the reviewer's guide says
    _, story = guide_world
    story.register("house prices, first model")
    story.register("house prices, more features")
    capsys.readouterr()
    each = {name: _commands_of(name) for name in SANDBOX_GUIDES}
    assert all(each.values()), f"a guide without commands: {each}"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.json").write_text(read(ROOT / "cdk.json"))

    for command in (command for name in SANDBOX_GUIDES for command in each[name]):
        # WHEN each command runs, the pipeline running between them
        code = main(command.argv)
        captured = capsys.readouterr()
        story.settle(approve_stages=True)
        capsys.readouterr()

        # THEN it printed what the guide shows, and failed only where it shows an error
        printed = (captured.out + captured.err).rstrip("\n")
        assert matches(command.shown, printed), f"{command.where}\n--- printed:\n{printed}"
        assert (code != 0) == command.shown.startswith("greenlight: "), command.where

    # AND the HTML history the auditor's guide writes is there
    assert "<table" in (tmp_path / "history.html").read_text(encoding="utf-8")


def test_the_sandbox_guide_lists_the_scenarios_as_the_command_prints_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the sandbox guide's one console block
    (command,) = _commands_of("sandbox")

    # WHEN it runs
    code = main(command.argv)

    # THEN the guide shows exactly what it prints
    assert code == 0
    assert command.shown == capsys.readouterr().out.rstrip("\n")
