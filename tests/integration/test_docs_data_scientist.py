"""The data scientist's README section runs as written, on moto.

Fenced ``python`` blocks run with ``exec`` in one shared namespace; fenced ``console``
blocks hold ``$ greenlight …`` commands (backslash continuations allowed), each followed
by the output the reader is shown, which must be exactly what the command prints. All
blocks run in document order against one moto account, so version numbers in the text
are the real ones.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from moto import mock_aws

from pipeline_scripts.cli import main
from tests.readme import README, section

pytestmark = pytest.mark.integration

DOC = README
SECTION = section("Data scientist")
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    argv: list[str]
    expected_output: str


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    body: str
    commands: list[Command] = field(default_factory=list)


def _blocks(text: str) -> list[Block]:
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        lang, body = match["lang"], match["body"]
        if lang == "console":
            blocks.append(Block(lang, line, body, _commands(body, line)))
        elif lang == "python":
            blocks.append(Block(lang, line, body))
    return blocks


def _commands(body: str, line: int) -> list[Command]:
    commands: list[Command] = []
    lines = iter(body.splitlines())
    pending: list[str] | None = None
    output: list[str] = []
    for text in lines:
        if text.startswith("$ "):
            if pending is not None:
                commands.append(Command(pending, "\n".join(output)))
            command = text[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines).strip()
            argv = shlex.split(command)
            if argv[0] != "greenlight":
                raise AssertionError(f"{DOC.name}:{line}: only greenlight commands run: {command}")
            pending, output = argv[1:], []
        elif pending is None:
            raise AssertionError(f"{DOC.name}:{line}: output before any command: {text}")
        else:
            output.append(text)
    if pending is not None:
        commands.append(Command(pending, "\n".join(output)))
    return commands


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The section imports the SDK itself; its v2 deprecation notice is not ours to test.
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with mock_aws():
        yield


def test_the_section_shows_the_boto3_calls_the_sdk_lookup_and_the_command() -> None:
    # GIVEN the data scientist's section
    blocks = _blocks(SECTION)
    python = "\n".join(b.body for b in blocks if b.lang == "python")
    commands = [c for b in blocks for c in b.commands]

    # THEN it shows the lesson's calls, the SDK lookup, register() and greenlight register
    for call in (
        "create_model_package_group(",
        "create_model_package(",
        'ModelApprovalStatus="PendingManualApproval"',
        "SupportedContentTypes",
        "SupportedResponseMIMETypes",
        "image_uris.retrieve(",
        "from pipeline_scripts.register import register",
    ):
        assert call in python
    assert commands
    assert all(c.argv[0] == "register" for c in commands)


def test_every_snippet_of_the_section_runs_on_moto_and_prints_what_it_shows(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the section's blocks in document order
    blocks = _blocks(SECTION)
    namespace: dict[str, object] = {}

    for block in blocks:
        if block.lang == "python":
            # WHEN a Python block runs
            exec(compile(block.body, f"{DOC.name}:{block.line}", "exec"), namespace)
            capsys.readouterr()
            continue
        for command in block.commands:
            # WHEN a command runs
            code = main(command.argv)
            captured = capsys.readouterr()

            # THEN it prints exactly the text shown, and fails only where the text shows
            # an error line
            where = f"{DOC.name}:{block.line}: greenlight {' '.join(command.argv)}"
            printed = (captured.out + captured.err).rstrip("\n")
            assert printed == command.expected_output, where
            if command.expected_output.startswith("greenlight: "):
                assert code != 0, where
            else:
                assert code == 0, where
