"""The sandbox's narration says what happened: a redelivered event that started nothing
is not told as a start, a dead-lettered event names its real number of attempts, and a
long run shows its progress."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e


def _approved_event(sandbox: Sandbox, version: int) -> dict[str, Any]:
    return next(
        event
        for event in sandbox.registry.emitted.values()
        if event["detail"].get("ModelApprovalStatus") == "Approved"
        and event["detail"].get("ModelPackageVersion") == version
    )


def test_a_redelivered_approval_is_narrated_as_nothing_started_not_as_a_start(
    example_out: Path,
) -> None:
    lines: list[str] = []
    with Sandbox(load_app(example_out), log=lines.append) as sandbox:
        story = Story(sandbox, name="redelivery")
        # GIVEN v1 approved, its deployment started by the approval event
        version = story.register("a good model")
        story.approve(version)
        story.settle()
        started = [line for line in lines if "started execution" in line]
        assert len(started) == 1, lines
        del lines[:]

        # WHEN EventBridge delivers the same approval event again
        sandbox.redeliver(_approved_event(sandbox, version.number))

        # THEN the narration says it was a repeat that started nothing
        (line,) = [line for line in lines if line.startswith("trigger:")]
        assert "started execution" not in line
        assert line == (
            f"trigger: Approved event for v{version.number} redelivered -> nothing done, "
            f"its outcome is already recorded (started, execution "
            f"{started[0].rsplit(' ', 1)[-1]})"
        )


def test_a_dead_lettered_event_is_narrated_with_the_functions_own_number_of_attempts(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    with Sandbox(load_app(example_out), log=lines.append) as sandbox:
        story = Story(sandbox, name="dead-letter")
        version = story.register("a good model")
        # GIVEN a function whose retry policy allows one retry, and that fails every time
        monkeypatch.setattr(sandbox.runtime, "retry_waits", lambda _function: (60.0,))

        def broken(function: str, event: Any) -> Any:
            raise RuntimeError(f"{function} is broken")

        monkeypatch.setattr(sandbox.runtime, "invoke", broken)

        # WHEN an approval event reaches it
        story.approve(version)
        sandbox.pump_events()

        # THEN the narration counts the two attempts it made, not three
        dead = [line for line in lines if "-> DLQ" in line]
        assert dead, lines
        assert all(" failed 2 times; " in line for line in dead), dead


def test_a_run_of_several_scenarios_shows_its_progress_on_stderr_only(
    example_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two scenarios asked for at once
    argv = ["sandbox", "--cdk-out", str(example_out), "--json"]
    argv += ["--scenario", "happy-path", "--scenario", "smoke-test-failure"]

    # WHEN they run
    code = main(argv)

    # THEN stderr says which of the two runs and the time since the start, and stdout is
    # only the results
    captured = capsys.readouterr()
    assert code == 0
    progress = captured.err.splitlines()
    assert progress[0] == "[1/2] scenario happy-path ..."
    assert re.fullmatch(
        r"\[2/2\] scenario smoke-test-failure passed in \d+\.\d s \(elapsed \d+\.\d s\)",
        progress[-1],
    ), progress
    assert [r["scenario"] for r in json.loads(captured.out)] == ["happy-path", "smoke-test-failure"]


def test_the_pipelines_own_run_on_creation_is_told_as_having_no_version(
    example_out: Path,
) -> None:
    # GIVEN the sandbox narrating as it provisions (creating the pipeline runs it)
    lines: list[str] = []
    with Sandbox(load_app(example_out), log=lines.append) as sandbox:
        # WHEN the execution that creation started runs
        sandbox.settle()

    # THEN it is told as a run with no version, started by CreatePipeline, not as v0
    started = [line for line in lines if " started (" in line]
    assert started
    assert all("(no version) started (CreatePipeline)" in line for line in started)
    assert not any("(v0)" in line for line in lines)
