"""In the sandbox, as on AWS, the recorder's deployment metrics and every function's JSON
log lines are the functions' own output: one metric line per new record, flushed within
the invocation that made it, and nothing in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e


def _output(sandbox: Sandbox, handler: str) -> list[dict[str, Any]]:
    (name,) = [s.name for s in sandbox.app.functions.values() if s.handler == handler]
    return [json.loads(line) for line in sandbox.runtime.output(name)]


def test_the_bake_alarm_rollback_leaves_its_metrics_and_ids_in_the_functions_output(
    example_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the example app, where version 2 fails its first stage's bake and rolls back
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="bake-alarm-rollback", say=lambda _line: None)
        sandbox.log = story.say

        # WHEN the scenario plays
        scenario("bake-alarm-rollback").run(story)
        assert story.finish().passed
        recorder = _output(sandbox, "recorder.handler.handler")
        bake = _output(sandbox, "bake.handler.handler")
        first = story.first_stage

    # THEN the recorder's output has the stage's metrics, the rollback's with a time to restore
    metrics = [line for line in recorder if "_aws" in line]
    in_first = [m for m in metrics if m["Stage"] == first]
    counted = [
        name
        for m in in_first
        for name in ("DeploymentsFailed", "DeploymentsRolledBack")
        if name in m
    ]
    assert counted == ["DeploymentsFailed", "DeploymentsRolledBack"]
    (rolled_back,) = [m for m in in_first if "DeploymentsRolledBack" in m]
    assert rolled_back["TimeToRestore"][0] > 0  # EMF values, as Powertools writes them
    # AND every log line of the recorder names its event and execution, every one of the
    # Bake names its job, stage and version
    logs = [line for line in recorder if "_aws" not in line]
    assert logs
    assert all(line["event_id"] and line["pipeline_execution_id"] for line in logs)
    assert bake
    assert all(line["event_id"] and line["stage"] and line["model_package_arn"] for line in bake)
    # AND none of it reached the terminal
    assert capsys.readouterr().out == ""
