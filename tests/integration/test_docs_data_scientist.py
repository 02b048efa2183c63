"""The data scientist's guide runs as written, on moto.

Fenced ``python`` blocks run with ``exec`` in one shared namespace; fenced ``console``
blocks hold ``$ greenlight …`` commands (backslash continuations allowed), each followed
by the output the reader is shown, which must be what the command prints. All blocks run
in document order against one moto account, so version numbers in the text are the real
ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from pipeline_scripts.cli import main
from tests.doc_snippets import Block, blocks, commands, guide, matches, name_of, read

pytestmark = pytest.mark.integration

DOC = guide("data-scientist")
PAGE = name_of(DOC)
TEXT = read(DOC)


def _runnable() -> list[Block]:
    return [block for block in blocks(TEXT) if block.lang in ("python", "console")]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The guide imports the SDK itself; its v2 deprecation notice is not ours to test.
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with mock_aws():
        yield


def test_the_guide_shows_the_boto3_calls_the_sdk_lookup_and_the_command() -> None:
    # GIVEN the data scientist's guide
    python = "\n".join(b.body for b in blocks(TEXT, "python"))
    shown = [c for b in blocks(TEXT, "console") for c in commands(b, PAGE)]

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
    assert shown
    assert all(c.argv[0] == "register" for c in shown)


def test_every_snippet_of_the_guide_runs_on_moto_and_prints_what_it_shows(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the guide's blocks in document order
    namespace: dict[str, object] = {}

    for block in _runnable():
        if block.lang == "python":
            # WHEN a Python block runs
            exec(compile(block.body, f"{PAGE}:{block.line}", "exec"), namespace)
            capsys.readouterr()
            continue
        for command in commands(block, PAGE):
            # WHEN a command runs
            code = main(command.argv)
            captured = capsys.readouterr()

            # THEN it prints the text shown, and fails only where the text shows an error
            printed = (captured.out + captured.err).rstrip("\n")
            assert matches(command.shown, printed), f"{command.where}\n--- printed:\n{printed}"
            assert (code != 0) == command.shown.startswith("greenlight: "), command.where
