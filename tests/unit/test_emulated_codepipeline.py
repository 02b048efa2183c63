"""The emulated CodePipeline: shapes, state moves and the real error codes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from tests.stub_engine import StubEngine

NAME = "greenlight-demo"


def _declaration() -> dict[str, Any]:
    def stage(name: str, *actions: str) -> dict[str, Any]:
        return {
            "name": name,
            "actions": [
                {
                    "name": a,
                    "actionTypeId": {
                        "category": "Invoke",
                        "owner": "AWS",
                        "provider": "Lambda",
                        "version": "1",
                    },
                    "configuration": {"FunctionName": f"greenlight-{a.lower()}"},
                    "runOrder": order,
                }
                for order, a in enumerate(actions, start=1)
            ],
        }

    return {
        "name": NAME,
        "variables": [{"name": "ModelPackageArn"}, {"name": "TriggerReason", "defaultValue": "x"}],
        "stages": [stage("Source", "Bundle"), stage("staging", "Deploy", "Bake")],
    }


@pytest.fixture
def pipeline(clock: VirtualClock) -> EmulatedCodePipeline:
    emulated = EmulatedCodePipeline(clock=clock)
    emulated.register_pipeline(_declaration())
    return emulated


def _start(pipeline: EmulatedCodePipeline, arn: str, token: str | None = None) -> str:
    response = pipeline.start_pipeline_execution(
        name=NAME,
        variables=[{"name": "ModelPackageArn", "value": arn}],
        **({"clientRequestToken": token} if token else {}),
    )
    return str(response["pipelineExecutionId"])


def _code(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_reused_client_request_token_returns_the_first_execution(
    pipeline: EmulatedCodePipeline,
) -> None:
    first = _start(pipeline, "a", token="t-1")
    assert _start(pipeline, "a", token="t-1") == first
    assert _start(pipeline, "a", token="t-2") != first


def test_variables_resolve_with_defaults_and_undeclared_ones_are_refused(
    pipeline: EmulatedCodePipeline,
) -> None:
    execution_id = _start(pipeline, "arn-1")
    execution = pipeline.get_pipeline_execution(
        pipelineName=NAME, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    assert execution["variables"] == [
        {"name": "ModelPackageArn", "resolvedValue": "arn-1"},
        {"name": "TriggerReason", "resolvedValue": "x"},
    ]
    assert (execution["executionType"], execution["trigger"]["triggerType"]) == (
        "STANDARD",
        "StartPipelineExecution",
    )
    with pytest.raises(ClientError) as raised:
        pipeline.start_pipeline_execution(name=NAME, variables=[{"name": "Nope", "value": "1"}])
    assert _code(raised) == (
        "ValidationException",
        f"Variable Nope is not declared in pipeline {NAME}",
    )


def test_executions_list_newest_first_across_pages(pipeline: EmulatedCodePipeline) -> None:
    ids = [_start(pipeline, f"arn-{n}") for n in range(5)]
    pages = list(
        pipeline.get_paginator("list_pipeline_executions").paginate(pipelineName=NAME, maxResults=2)
    )
    assert len(pages) == 3
    listed = [s["pipelineExecutionId"] for p in pages for s in p["pipelineExecutionSummaries"]]
    assert listed == list(reversed(ids))


def test_a_stage_succeeds_when_all_its_actions_do_and_rollback_reuses_its_variables(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    good = _start(pipeline, "arn-good")
    engine.run_to_end(good)
    bad = _start(pipeline, "arn-bad")
    engine.run_stage(bad, "Source")
    pipeline.begin_action(bad, "staging", "Deploy")
    pipeline.finish_action(bad, "staging", "Deploy", "Failed", summary="alarm 5xx")

    rollback = pipeline.rollback_stage(
        pipelineName=NAME, stageName="staging", targetPipelineExecutionId=good
    )["pipelineExecutionId"]

    execution = pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId=rollback)[
        "pipelineExecution"
    ]
    assert execution["executionType"] == "ROLLBACK"
    assert execution["trigger"]["triggerType"] == "ManualRollback"
    assert execution["rollbackMetadata"] == {"rollbackTargetPipelineExecutionId": good}
    assert execution["variables"][0] == {"name": "ModelPackageArn", "resolvedValue": "arn-good"}
    failed = pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId=bad)
    assert failed["pipelineExecution"]["status"] == "Failed"
    actions = pipeline.list_action_executions(
        pipelineName=NAME, filter={"pipelineExecutionId": bad}
    )["actionExecutionDetails"]
    deploy = next(a for a in actions if a["actionName"] == "Deploy")
    assert deploy["status"] == "Failed"
    assert deploy["output"]["executionResult"]["externalExecutionSummary"] == "alarm 5xx"


def test_rollback_to_an_execution_that_did_not_succeed_in_the_stage_is_refused(
    pipeline: EmulatedCodePipeline,
) -> None:
    running = _start(pipeline, "arn-1")
    with pytest.raises(ClientError) as raised:
        pipeline.rollback_stage(
            pipelineName=NAME, stageName="staging", targetPipelineExecutionId=running
        )
    assert _code(raised) == (
        "UnableToRollbackStageException",
        f"Execution {running} did not succeed in stage staging",
    )


def test_rollback_of_the_source_stage_or_an_unknown_stage_is_refused(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    good = _start(pipeline, "arn-1")
    engine.run_to_end(good)
    with pytest.raises(ClientError) as raised:
        pipeline.rollback_stage(
            pipelineName=NAME, stageName="Source", targetPipelineExecutionId=good
        )
    assert _code(raised)[0] == "UnableToRollbackStageException"
    with pytest.raises(ClientError) as raised:
        pipeline.rollback_stage(pipelineName=NAME, stageName="prod", targetPipelineExecutionId=good)
    assert _code(raised) == ("StageNotFoundException", f"Stage prod not found in pipeline {NAME}")


def test_stop_with_abandon_stops_at_once_and_a_second_stop_is_refused(
    pipeline: EmulatedCodePipeline,
) -> None:
    execution_id = _start(pipeline, "arn-1")
    pipeline.begin_action(execution_id, "Source", "Bundle")
    pipeline.stop_pipeline_execution(
        pipelineName=NAME, pipelineExecutionId=execution_id, abandon=True, reason="rejected"
    )
    summary = pipeline.list_pipeline_executions(pipelineName=NAME)["pipelineExecutionSummaries"][0]
    assert (summary["status"], summary["stopTrigger"]) == ("Stopped", {"reason": "rejected"})
    state = pipeline.get_pipeline_state(name=NAME)["stageStates"][0]
    assert state["actionStates"][0]["latestExecution"]["status"] == "Abandoned"
    with pytest.raises(ClientError) as raised:
        pipeline.stop_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)
    assert _code(raised) == (
        "PipelineExecutionNotStoppableException",
        f"Execution {execution_id} is Stopped and cannot be stopped",
    )


def test_stop_without_abandon_waits_for_the_running_action(pipeline: EmulatedCodePipeline) -> None:
    execution_id = _start(pipeline, "arn-1")
    pipeline.begin_action(execution_id, "Source", "Bundle")
    pipeline.stop_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)

    def status() -> str:
        return str(
            pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)[
                "pipelineExecution"
            ]["status"]
        )

    assert status() == "Stopping"
    with pytest.raises(ClientError) as raised:
        pipeline.stop_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)
    assert _code(raised)[0] == "DuplicatedStopRequestException"
    pipeline.finish_action(execution_id, "Source", "Bundle", "Succeeded")
    assert status() == "Stopped"


def test_unknown_pipelines_and_executions_raise_the_real_error_codes(
    pipeline: EmulatedCodePipeline,
) -> None:
    with pytest.raises(ClientError) as raised:
        pipeline.get_pipeline_state(name="nope")
    assert _code(raised) == (
        "PipelineNotFoundException",
        "Account '123456789012' does not have a pipeline with name 'nope'",
    )
    with pytest.raises(ClientError) as raised:
        pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId="x")
    assert _code(raised) == (
        "PipelineExecutionNotFoundException",
        f"Pipeline execution x not found in pipeline {NAME}",
    )
    with pytest.raises(ClientError) as raised:
        pipeline.list_pipeline_executions(pipelineName=NAME, nextToken="garbage")
    assert _code(raised)[0] == "InvalidNextTokenException"


def test_an_automated_rollback_targets_the_last_execution_that_succeeded_in_the_stage(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    older, newer = _start(pipeline, "arn-1"), None
    engine.run_to_end(older)
    newer = _start(pipeline, "arn-2")
    engine.run_to_end(newer)
    rollback = pipeline.start_automated_rollback(pipeline_name=NAME, stage_name="staging")
    assert rollback is not None
    execution = pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId=rollback)[
        "pipelineExecution"
    ]
    assert execution["trigger"]["triggerType"] == "AutomatedRollback"
    assert execution["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == newer
