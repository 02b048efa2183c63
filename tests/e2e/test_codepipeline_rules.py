"""CodePipeline's rules, as the sandbox enforces them for any boto3 client
(docs/aws-behaviour.md, CodePipeline)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.emulation.registry import identity_for
from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, REVIEWER_KEY
from pipeline_scripts.sandbox.server import SandboxServer
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from shared.ledger import Ledger

pytestmark = pytest.mark.e2e


def _approval_actions(codepipeline: Any, pipeline: str) -> list[dict[str, Any]]:
    details = codepipeline.list_action_executions(pipelineName=pipeline)["actionExecutionDetails"]
    return [d for d in details if d["input"]["actionTypeId"]["category"] == "Approval"]


def test_a_manual_approval_records_who_answered_it(example_out: Path) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="who-approved")
        # GIVEN a version waiting for the manual approval before production
        version = story.register("a good model")
        story.approve(version)
        story.settle()

        # WHEN the reviewer approves the stage with their own credentials
        assert story.approve_stages() >= 1
        story.settle()

        # THEN the approval action names the reviewer's identity, in both read APIs
        reviewer = identity_for(REVIEWER_KEY, ACCOUNT_ID)["IamIdentity"]["Arn"]
        codepipeline = sandbox.client("codepipeline")
        approvals = [
            a for a in _approval_actions(codepipeline, story.pipeline) if a["status"] == "Succeeded"
        ]
        assert approvals
        assert all(a.get("updatedBy") == reviewer for a in approvals), approvals
        state = codepipeline.get_pipeline_state(name=story.pipeline)
        answered = [
            action["latestExecution"]
            for stage in state["stageStates"]
            for action in stage["actionStates"]
            if action["actionName"] == "Approve"
            and action.get("latestExecution", {}).get("status") == "Succeeded"
        ]
        assert answered
        assert all(a.get("lastUpdatedBy") == reviewer for a in answered)


def test_a_disabled_transition_holds_executions_until_it_is_enabled(example_out: Path) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="held-at-transition")
        codepipeline = sandbox.client("codepipeline")
        first_stage = story.first_stage
        # GIVEN the transition into the first deployment stage is disabled
        codepipeline.disable_stage_transition(
            pipelineName=story.pipeline,
            stageName=first_stage,
            transitionType="Inbound",
            reason="change freeze",
        )

        # WHEN a version is approved
        version = story.register("a good model")
        story.approve(version)
        story.settle()

        # THEN it waits before the stage, and runs on once the transition is enabled
        assert story.live(first_stage) is None
        state = codepipeline.get_pipeline_state(name=story.pipeline)
        (held,) = [s for s in state["stageStates"] if s["stageName"] == first_stage]
        assert held["inboundTransitionState"]["enabled"] is False
        assert held["inboundTransitionState"]["disabledReason"] == "change freeze"
        codepipeline.enable_stage_transition(
            pipelineName=story.pipeline, stageName=first_stage, transitionType="Inbound"
        )
        story.settle()
        assert story.live(first_stage) == version.number


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("get_job_details", {"jobId": "11111111-2222-3333-4444-555555555555"}),
        ("list_rule_executions", {"pipelineName": "greenlight-house-price-linear-learner"}),
    ],
)
def test_an_operation_outside_the_emulation_gets_an_aws_shaped_error(
    example_out: Path, operation: str, params: dict[str, Any]
) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        codepipeline = sandbox.client("codepipeline")
        # GIVEN a CodePipeline operation neither moto nor the emulation implements
        # WHEN a client calls it
        with pytest.raises(ClientError) as raised:
            getattr(codepipeline, operation)(**params)

        # THEN it gets CodePipeline's JSON error, with a message that names the operation
        error = raised.value.response["Error"]
        assert error["Code"] == "UnsupportedOperation"
        assert "is not emulated by the Greenlight sandbox" in error["Message"]
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_execution_of_pipeline_creation_and_a_bare_release_deploy_nothing(
    example_out: Path,
) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="no-version")
        codepipeline = sandbox.client("codepipeline")
        # GIVEN the pipeline CodePipeline has just created (it started one execution)
        (created,) = story.executions()
        assert created["trigger"]["triggerType"] == "CreatePipeline"

        # WHEN it runs, then v1 is deployed and someone presses "Release change"
        story.settle(approve_stages=True)
        version = story.register("a good model")
        story.approve(version)
        story.settle(approve_stages=True)
        live = {stage.name: story.live(stage.name) for stage in story.stages}
        codepipeline.start_pipeline_execution(name=story.pipeline)
        story.settle(approve_stages=True)

        # THEN no execution without a version deployed, rolled back, or told anyone of
        # "an unknown version"; v1 is still live everywhere
        assert live == {stage.name: version.number for stage in story.stages}
        assert {stage.name: story.live(stage.name) for stage in story.stages} == live
        assert not [e for e in story.executions() if e["executionType"] == "ROLLBACK"]
        assert not [n for n in sandbox.notifications if "unknown version" in n.subject]
        assert not [n for n in sandbox.notifications if "unknown version" in n.message]


def test_a_served_sandbox_answers_an_operation_it_lacks_in_json_not_html(
    example_out: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = SandboxServer(load_app(example_out), port=port, log=lambda _line: None)
    server.start()
    try:
        # GIVEN `greenlight sandbox serve` and a plain boto3 client pointed at it
        codepipeline = boto3.client(
            "codepipeline",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=REVIEWER_KEY,
            aws_secret_access_key="sandbox",
        )

        # WHEN it calls an operation the sandbox does not emulate
        with pytest.raises(ClientError) as raised:
            codepipeline.get_job_details(jobId="11111111-2222-3333-4444-555555555555")

        # THEN the answer is CodePipeline's JSON error shape, with a 400
        assert raised.value.response["Error"]["Code"] == "UnsupportedOperation"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        server.stop()


def _without_staging_rollback(example_out: Path, target: Path) -> Path:
    shutil.copytree(example_out, target)
    for path in target.glob("*.template.json"):
        template = json.loads(path.read_text(encoding="utf-8"))
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::CodePipeline::Pipeline":
                for stage in resource["Properties"]["Stages"]:
                    stage.pop("OnFailure", None)
        path.write_text(json.dumps(template), encoding="utf-8")
    return target


def test_a_retried_stage_runs_its_failed_action_again_and_the_execution_ends_anew(
    example_out: Path, tmp_path: Path
) -> None:
    edited = _without_staging_rollback(example_out, tmp_path / "cdk.out")
    with Sandbox(load_app(edited)) as sandbox:
        story = Story(sandbox, name="retry")
        codepipeline = sandbox.client("codepipeline")
        # GIVEN a version whose smoke test failed in the first stage (no stage rollback)
        story.settle(approve_stages=True)
        version = story.register("answers with text", body="not a number")
        story.approve(version)
        story.settle()
        (failed,) = [e for e in story.started_executions() if e["status"] == "Failed"]
        execution_id = failed["pipelineExecutionId"]

        # WHEN the stage is retried
        codepipeline.retry_stage_execution(
            pipelineName=story.pipeline,
            stageName=story.first_stage,
            pipelineExecutionId=execution_id,
            retryMode="FAILED_ACTIONS",
        )
        story.settle()

        # THEN the failed action ran a second time, and the execution's end was
        # published (and recorded) once more
        actions = codepipeline.list_action_executions(
            pipelineName=story.pipeline, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        assert [a["status"] for a in actions if a["actionName"] == "SmokeTest"] == [
            "Failed",
            "Failed",
        ]
        ledger = Ledger(next(iter(sandbox.app.tables)), client=sandbox.client("dynamodb"))
        ends = [
            r
            for r in ledger.pipeline_records(story.group)
            if r.execution_id == execution_id and r.record == "execution-ended"
        ]
        assert len(ends) == 2
