"""What the auditor reads about people: who gave a stage's manual approval, and who or
what started each rollback, as ``greenlight history`` prints them in every format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.emulation.registry import identity_for
from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, REVIEWER_KEY
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e

OPERATOR_KEY = "AKIAONCALLOPERATOR01"


def _arn(key: str) -> str:
    arn: str = identity_for(key, ACCOUNT_ID)["IamIdentity"]["Arn"]
    return arn


@pytest.fixture
def story(example_out: Path) -> Iterator[Story]:
    with Sandbox(load_app(example_out)) as sandbox:
        yield Story(sandbox, name="audit-trail")


def _history(story: Story, capsys: pytest.CaptureFixture[str], fmt: str, *more: str) -> str:
    table = next(iter(story.sandbox.app.tables))
    stages = ",".join(stage.name for stage in story.stages)
    capsys.readouterr()
    argv = ["history", story.group, "--ledger-table", table, "--stages", stages]
    code = main([*argv, "--format", fmt, *more])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, ""), captured.err
    return captured.out


def _json(story: Story, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(_history(story, capsys, "json"))
    return rows


def _live_everywhere(story: Story, note: str) -> None:
    version = story.register(note)
    story.approve(version)
    story.settle(approve_stages=True)


def test_history_names_who_gave_the_manual_approval_before_production_in_every_format(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a version the reviewer let into production through its manual approval
    _live_everywhere(story, "a good model")
    reviewer = _arn(REVIEWER_KEY)

    # WHEN the auditor reads the history as JSON, CSV, a table and HTML
    rows = _json(story, capsys)
    csv_rows = list(csv.DictReader(io.StringIO(_history(story, capsys, "csv"))))
    table = _history(story, capsys, "table", "--wide")
    page = _history(story, capsys, "html")

    # THEN production's row names the reviewer as its stage approver; staging's, nobody
    by_stage = {r["stage"]: r for r in rows if r["version"] == 1}
    assert by_stage[story.last_stage]["stage_approver"] == reviewer
    assert by_stage[story.first_stage]["stage_approver"] is None
    production = next(r for r in csv_rows if r["stage"] == story.last_stage)
    assert production["stage_approver"] == reviewer
    header, *lines = table.splitlines()
    assert "STAGE APPROVER" in header
    production_line = next(line for line in lines if f" {story.last_stage} " in line)
    assert production_line[header.index("STAGE APPROVER") :].startswith(REVIEWER_KEY)
    assert reviewer in page


def test_a_rollback_stage_call_from_the_aws_cli_is_labelled_with_the_person_who_made_it(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 and then v2 live in production
    _live_everywhere(story, "a good model")
    _live_everywhere(story, "a better model")
    production = story.last_stage
    v1_execution = next(
        e["pipelineExecutionId"]
        for e in reversed(story.executions())
        if e.get("trigger", {}).get("triggerType") == "StartPipelineExecution"
    )

    # WHEN an operator rolls production back with plain RollbackStage (the AWS CLI's call)
    codepipeline = story.sandbox.client("codepipeline", access_key=OPERATOR_KEY)
    rollback = codepipeline.rollback_stage(
        pipelineName=story.pipeline,
        stageName=production,
        targetPipelineExecutionId=v1_execution,
    )["pipelineExecutionId"]
    story.settle()

    # THEN CodePipeline names the caller as the rollback's trigger detail
    execution = codepipeline.get_pipeline_execution(
        pipelineName=story.pipeline, pipelineExecutionId=rollback
    )["pipelineExecution"]
    assert execution["trigger"] == {
        "triggerType": "ManualRollback",
        "triggerDetail": _arn(OPERATOR_KEY),
    }
    # AND the history labels it as theirs, not as `greenlight rollback`'s
    rows = [r for r in _json(story, capsys) if r["execution_id"] == rollback]
    assert {(r["version"], r["result"]) for r in rows} == {(1, "deployed"), (2, "rolled-back")}
    assert {r["trigger"] for r in rows} == {"console-rollback"}
    assert {r["started_by"] for r in rows} == {_arn(OPERATOR_KEY)}
    (replaced,) = (r for r in rows if r["result"] == "rolled-back")
    assert "greenlight rollback" not in replaced["reason"]
    assert replaced["reason"] == (
        f"rolled back by {_arn(OPERATOR_KEY)} with RollbackStage (console or AWS CLI)"
    )


def test_each_rollback_is_labelled_by_what_started_it(
    story: Story, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN v1 live, v2 failing production (CodePipeline rolls it back), v3 live and then
    # rolled back with `greenlight rollback`
    _live_everywhere(story, "a good model")
    failing = story.register("a model that errors", healthy=False)
    story.approve(failing)
    story.settle(approve_stages=True)
    _live_everywhere(story, "a better model")
    capsys.readouterr()
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the CLI reads ./cdk.json
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", OPERATOR_KEY)
    boto3.setup_default_session()  # the operator runs the command
    try:
        argv = ["rollback", story.group, "--stage", story.last_stage, "--to-version", "1"]
        code = main([*argv, "--reason", "v2 misbehaves"])
    finally:
        boto3.DEFAULT_SESSION = None
    assert code == 0, capsys.readouterr().err
    story.settle()

    # WHEN the auditor reads the history
    rows = _json(story, capsys)

    # THEN CodePipeline's rollback and the operator's are told apart, and who is named
    rollbacks = [
        (r["trigger"], r["stage"], r["version"], r["result"])
        for r in rows
        if r["trigger"].endswith("rollback")
    ]
    assert rollbacks == [
        ("automated-rollback", story.first_stage, 1, "deployed"),
        ("manual-rollback", story.last_stage, 1, "deployed"),
        ("manual-rollback", story.last_stage, 3, "rolled-back"),
    ]
    automated = next(r for r in rows if r["trigger"] == "automated-rollback")
    assert automated["started_by"] == "CodePipeline"
    manual = next(r for r in rows if r["trigger"] == "manual-rollback")
    assert manual["started_by"] == _arn(OPERATOR_KEY)
