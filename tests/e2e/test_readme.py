"""The README's sandbox, reviewer, auditor and operator sections run as written.

Their ``console`` blocks hold ``$ greenlight …`` commands, each followed by what it
prints; they run in document order inside one sandbox of the example app, with the
pipeline left to run (and production's manual approval given) between commands. In the
output shown, ``…`` stands for text that changes from run to run (execution ids), and a
line that is only ``…`` for any number of lines. The serve-mode snippet runs against a
sandbox server.
"""

from __future__ import annotations

import re
import shlex
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY, REVIEWER_KEY
from pipeline_scripts.sandbox.server import SandboxServer
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from tests.readme import README, section

pytestmark = pytest.mark.e2e

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Command:
    argv: list[str]
    shown: str
    where: str


def _blocks(text: str, lang: str) -> list[str]:
    return [m["body"] for m in _FENCE.finditer(text) if m["lang"] == lang]


def _commands(text: str, name: str) -> list[Command]:
    commands: list[Command] = []
    for body in _blocks(text, "console"):
        lines = iter(body.splitlines())
        for line in lines:
            if line.startswith("$ "):
                command = line[2:]
                while command.endswith("\\"):
                    command = command[:-1] + " " + next(lines).strip()
                argv = shlex.split(command)
                assert argv[0] == "greenlight", f"{name}: only greenlight commands run"
                commands.append(Command(argv[1:], "", f"{name}: {command}"))
            else:
                last = commands[-1]
                shown = f"{last.shown}\n{line}" if last.shown else line
                commands[-1] = Command(last.argv, shown, last.where)
    return commands


def matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` is what ``shown`` shows, ``…`` standing for what varies."""
    pattern = []
    for line in shown.splitlines():
        if line.strip() == ELLIPSIS:
            pattern.append(r"(?:[^\n]*\n?)*?")
        else:
            parts = [re.escape(part) for part in line.split(ELLIPSIS)]
            pattern.append(".*?".join(parts) + r"\n?")
    return re.fullmatch("".join(pattern), printed + "\n") is not None


def test_the_ellipsis_matching_stands_only_for_what_varies() -> None:
    # GIVEN output shown with an ellipsis for an execution id and for a run of lines
    shown = "started execution …\nrows:\n…\nend"

    # THEN it matches what varies there and nothing else
    assert matches(shown, "started execution 1234\nrows:\na\nb\nend")
    assert matches(shown, "started execution 1234\nrows:\nend")
    assert not matches(shown, "stopped execution 1234\nrows:\nend")
    assert not matches(shown, "started execution 1234\nrows:\na\nfinish")


@pytest.fixture
def readme_world(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Sandbox, Story]]:
    monkeypatch.chdir(README.parent)  # the CLI reads ./cdk.json, as in the README
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="readme")
        sandbox.log = story.say
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", REVIEWER_KEY)
        boto3.setup_default_session()  # the reviewer runs the commands
        yield sandbox, story
    boto3.DEFAULT_SESSION = None


def test_the_reviewer_auditor_and_operator_commands_print_what_the_readme_shows(
    readme_world: tuple[Sandbox, Story],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a data scientist registered versions 1 and 2, as the reviewer section says
    _, story = readme_world
    story.register("house prices, first model")
    story.register("house prices, more features")
    capsys.readouterr()
    commands = [
        command
        for heading in ("Reviewer", "Auditor", "Operator")
        for command in _commands(section(heading), heading)
    ]
    assert len(commands) >= 8
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.json").write_text((README.parent / "cdk.json").read_text())

    for command in commands:
        # WHEN each command runs, the pipeline running between them
        code = main(command.argv)
        captured = capsys.readouterr()
        story.settle(approve_stages=True)
        capsys.readouterr()

        # THEN it printed what the README shows, and failed only where it shows an error
        printed = (captured.out + captured.err).rstrip("\n")
        assert matches(command.shown, printed), f"{command.where}\n--- printed:\n{printed}"
        assert (code != 0) == command.shown.startswith("greenlight: "), command.where

    # AND the HTML history the auditor section writes is there
    assert "<table" in (tmp_path / "history.html").read_text(encoding="utf-8")


def test_the_sandbox_section_lists_the_scenarios_as_the_command_prints_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the sandbox section's console block
    (command,) = _commands(section("The sandbox"), "The sandbox")

    # WHEN it runs
    code = main(command.argv)

    # THEN the README shows exactly what it prints
    assert code == 0
    assert command.shown == capsys.readouterr().out.rstrip("\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_serve_mode_snippet_approves_through_a_sandbox_server(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a sandbox server, and the README's snippet pointed at it
    (snippet,) = _blocks(section("The sandbox"), "python")
    assert DATA_SCIENTIST_KEY in snippet
    server = SandboxServer(load_app(example_out), port=_free_port(), log=lambda _line: None)
    server.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)

        # WHEN the snippet runs as written
        namespace: dict[str, object] = {}
        exec(compile(snippet, "README.md (serve mode)", "exec"), namespace)

        # THEN the version it registered was approved and its deployment started
        arn = str(namespace["arn"])
        with server.lock:
            server.sandbox.settle()
        executions = server.sandbox.codepipeline.pipeline_record(
            "greenlight-house-price-linear-learner"
        ).executions
        started = [e for e in executions if e.trigger_type != "CreatePipeline"]
        assert [e.variables["ModelPackageArn"] for e in started] == [arn]
    finally:
        server.stop()
