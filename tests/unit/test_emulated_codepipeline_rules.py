"""The emulated CodePipeline refuses what CodePipeline refuses (docs/aws-behaviour.md)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from tests.stub_engine import StubEngine

NAME = "greenlight-demo"


def _declaration(bake: str = "Bake") -> dict[str, Any]:
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
        "variables": [
            {"name": "ModelPackageArn", "defaultValue": "none"},
            {"name": "TriggerReason", "defaultValue": "approval"},
        ],
        "stages": [
            stage("Source", "Bundle"),
            stage("staging", "Deploy", bake),
            stage("production", "Deploy", "Bake"),
        ],
    }


@pytest.fixture
def pipeline(clock: VirtualClock) -> EmulatedCodePipeline:
    emulated = EmulatedCodePipeline(clock=clock)
    emulated.register_pipeline(_declaration())
    return emulated


def _start(pipeline: EmulatedCodePipeline, arn: str) -> str:
    response = pipeline.start_pipeline_execution(
        name=NAME, variables=[{"name": "ModelPackageArn", "value": arn}]
    )
    return str(response["pipelineExecutionId"])


def _execution(pipeline: EmulatedCodePipeline, execution_id: str) -> dict[str, Any]:
    response = pipeline.get_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)
    execution: dict[str, Any] = response["pipelineExecution"]
    return execution


def _code(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def _fail_in(engine: StubEngine, execution_id: str, stage: str) -> None:
    """Run the execution until ``stage`` fails at its Deploy."""
    engine.fail(stage, "Deploy", "alarm")
    engine.run_stage(execution_id, stage)


# --- rollback targets ---------------------------------------------------------------------


def test_rollback_stage_refuses_a_target_that_is_itself_a_rollback_execution(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN v1 succeeded, and a rollback to it succeeded in staging
    good = _start(pipeline, "arn-1")
    engine.run_to_end(good)
    rollback = pipeline.rollback_stage(
        pipelineName=NAME, stageName="staging", targetPipelineExecutionId=good
    )["pipelineExecutionId"]
    engine.run_to_end(rollback)

    # WHEN RollbackStage names the rollback execution as its target
    with pytest.raises(ClientError) as raised:
        pipeline.rollback_stage(
            pipelineName=NAME, stageName="staging", targetPipelineExecutionId=rollback
        )

    # THEN CodePipeline refuses it
    assert _code(raised) == (
        "UnableToRollbackStageException",
        f"Execution {rollback} is a ROLLBACK execution and cannot be a rollback target",
    )


def test_rollback_stage_refuses_a_target_from_an_earlier_pipeline_structure_version(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN v1 succeeded on version 1 of the pipeline, then the declaration changed
    good = _start(pipeline, "arn-1")
    engine.run_to_end(good)
    updated = pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))
    assert updated["pipeline"]["version"] == 2

    # WHEN RollbackStage targets the execution of version 1
    with pytest.raises(ClientError) as raised:
        pipeline.rollback_stage(
            pipelineName=NAME, stageName="staging", targetPipelineExecutionId=good
        )

    # THEN it is refused: the target must be of the current structure version
    assert _code(raised) == (
        "UnableToRollbackStageException",
        f"Execution {good} ran on pipeline version 1, not the current version 2",
    )
    assert _execution(pipeline, good)["pipelineVersion"] == 1


def test_an_unchanged_declaration_keeps_the_structure_version(
    pipeline: EmulatedCodePipeline,
) -> None:
    # GIVEN a pipeline at version 1
    # WHEN it is updated with the very same declaration
    updated = pipeline.update_pipeline(pipeline=_declaration())

    # THEN its structure version stays 1
    assert updated["pipeline"]["version"] == 1


def test_automated_rollback_skips_rollback_executions_and_earlier_versions(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN v1 succeeded, a rollback to it succeeded after it
    v1 = _start(pipeline, "arn-1")
    engine.run_to_end(v1)
    rollback = pipeline.rollback_stage(
        pipelineName=NAME, stageName="staging", targetPipelineExecutionId=v1
    )["pipelineExecutionId"]
    engine.run_to_end(rollback)

    # WHEN staging fails and rolls back by itself
    automatic = pipeline.start_automated_rollback(pipeline_name=NAME, stage_name="staging")

    # THEN the target is v1's own execution, never the rollback
    assert automatic is not None
    metadata = _execution(pipeline, automatic)["rollbackMetadata"]
    assert metadata == {"rollbackTargetPipelineExecutionId": v1}
    engine.run_to_end(automatic)

    # AND after the declaration changes, nothing of version 1 can be a target
    pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))
    assert pipeline.start_automated_rollback(pipeline_name=NAME, stage_name="staging") is None


# --- pipeline creation and update -----------------------------------------------------------


def test_creating_a_pipeline_starts_an_execution_with_the_variables_defaults() -> None:
    # GIVEN an empty CodePipeline
    emulated = EmulatedCodePipeline(clock=VirtualClock())

    # WHEN a pipeline is created
    emulated.create_pipeline(pipeline=_declaration())

    # THEN one execution started by itself, triggered by CreatePipeline, with the defaults
    (summary,) = emulated.list_pipeline_executions(pipelineName=NAME)["pipelineExecutionSummaries"]
    execution = _execution(emulated, summary["pipelineExecutionId"])
    assert execution["trigger"]["triggerType"] == "CreatePipeline"
    assert execution["variables"] == [
        {"name": "ModelPackageArn", "resolvedValue": "none"},
        {"name": "TriggerReason", "resolvedValue": "approval"},
    ]
    with pytest.raises(ClientError) as raised:
        emulated.create_pipeline(pipeline=_declaration())
    assert _code(raised)[0] == "PipelineNameInUseException"


def test_updating_a_pipeline_starts_nothing_and_fails_the_running_execution(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN an execution with a running action
    running = _start(pipeline, "arn-1")
    engine.run_stage(running, "Source")
    pipeline.begin_action(running, "staging", "Deploy")

    # WHEN the pipeline's declaration changes
    pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))

    # THEN no execution starts, the running action completes, then the execution fails
    summaries = pipeline.list_pipeline_executions(pipelineName=NAME)["pipelineExecutionSummaries"]
    assert [s["pipelineExecutionId"] for s in summaries] == [running]
    assert _execution(pipeline, running)["status"] == "InProgress"
    pipeline.finish_action(running, "staging", "Deploy", "Succeeded")
    assert _execution(pipeline, running)["status"] == "Failed"


# --- stopping ---------------------------------------------------------------------------------


def test_abandon_is_accepted_while_stopping_and_stops_at_once(
    pipeline: EmulatedCodePipeline,
) -> None:
    # GIVEN an execution that is Stopping (stop and wait, an action still running)
    execution_id = _start(pipeline, "arn-1")
    pipeline.begin_action(execution_id, "Source", "Bundle")
    pipeline.stop_pipeline_execution(pipelineName=NAME, pipelineExecutionId=execution_id)
    assert _execution(pipeline, execution_id)["status"] == "Stopping"

    # WHEN it is stopped again, abandoning the running action
    pipeline.stop_pipeline_execution(
        pipelineName=NAME, pipelineExecutionId=execution_id, abandon=True, reason="rejected"
    )

    # THEN it is Stopped at once and the action Abandoned
    assert _execution(pipeline, execution_id)["status"] == "Stopped"
    actions = pipeline.list_action_executions(
        pipelineName=NAME, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    assert [a["status"] for a in actions] == ["Abandoned"]


# --- transitions and retries -------------------------------------------------------------------


def test_transitions_are_disabled_and_enabled_with_their_refusals(
    pipeline: EmulatedCodePipeline,
) -> None:
    # GIVEN a pipeline
    # WHEN the inbound transition of production is disabled
    pipeline.disable_stage_transition(
        pipelineName=NAME, stageName="production", transitionType="Inbound", reason="freeze"
    )

    # THEN the pipeline state shows it, and executions may not enter production
    state = pipeline.get_pipeline_state(name=NAME)["stageStates"][2]
    assert state["inboundTransitionState"]["enabled"] is False
    assert state["inboundTransitionState"]["disabledReason"] == "freeze"
    assert not pipeline.may_enter(NAME, "production")
    assert pipeline.may_enter(NAME, "staging")

    # AND disabling the outbound transition of staging blocks production the same way
    pipeline.enable_stage_transition(
        pipelineName=NAME, stageName="production", transitionType="Inbound"
    )
    assert pipeline.may_enter(NAME, "production")
    pipeline.disable_stage_transition(
        pipelineName=NAME, stageName="staging", transitionType="Outbound", reason="freeze"
    )
    assert not pipeline.may_enter(NAME, "production")

    # AND an unknown stage, or a bad transition type, is refused
    with pytest.raises(ClientError) as raised:
        pipeline.enable_stage_transition(
            pipelineName=NAME, stageName="qa", transitionType="Inbound"
        )
    assert _code(raised) == ("StageNotFoundException", f"Stage qa not found in pipeline {NAME}")
    with pytest.raises(ClientError) as raised:
        pipeline.disable_stage_transition(
            pipelineName=NAME, stageName="staging", transitionType="Sideways", reason="x"
        )
    assert _code(raised)[0] == "ValidationException"


def test_retry_stage_execution_reruns_the_failed_actions_of_the_latest_failure(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN an execution that failed in staging's Deploy
    failed = _start(pipeline, "arn-1")
    _fail_in(engine, failed, "staging")

    # WHEN the stage is retried (failed actions)
    pipeline.retry_stage_execution(
        pipelineName=NAME,
        stageName="staging",
        pipelineExecutionId=failed,
        retryMode="FAILED_ACTIONS",
    )

    # THEN the execution runs again from the failed action
    assert _execution(pipeline, failed)["status"] == "InProgress"
    pipeline.begin_action(failed, "staging", "Deploy")
    pipeline.finish_action(failed, "staging", "Deploy", "Succeeded")
    pipeline.begin_action(failed, "staging", "Bake")
    pipeline.finish_action(failed, "staging", "Bake", "Succeeded")
    actions = pipeline.list_action_executions(
        pipelineName=NAME, filter={"pipelineExecutionId": failed}
    )["actionExecutionDetails"]
    deploys = [a["status"] for a in actions if a["actionName"] == "Deploy"]
    assert sorted(deploys) == ["Failed", "Succeeded"]


def test_retry_stage_execution_refuses_what_codepipeline_refuses(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN an execution that failed in staging, and a newer one that failed there too
    older = _start(pipeline, "arn-1")
    _fail_in(engine, older, "staging")
    newer = _start(pipeline, "arn-2")
    _fail_in(engine, newer, "staging")

    # WHEN the older one, or a stage that did not fail, is retried
    with pytest.raises(ClientError) as raised:
        pipeline.retry_stage_execution(
            pipelineName=NAME,
            stageName="staging",
            pipelineExecutionId=older,
            retryMode="FAILED_ACTIONS",
        )

    # THEN CodePipeline refuses each with its own error
    assert _code(raised) == (
        "NotLatestPipelineExecutionException",
        f"Execution {older} is not the latest execution in stage staging",
    )
    with pytest.raises(ClientError) as raised:
        pipeline.retry_stage_execution(
            pipelineName=NAME,
            stageName="Source",
            pipelineExecutionId=newer,
            retryMode="ALL_ACTIONS",
        )
    assert _code(raised) == (
        "StageNotRetryableException",
        f"Stage Source of execution {newer} is Succeeded, not Failed",
    )


def test_action_executions_report_the_version_their_execution_started_on(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN an execution on version 1, then a changed declaration and one on version 2
    first = _start(pipeline, "arn-1")
    engine.run_to_end(first)
    pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))
    second = _start(pipeline, "arn-2")
    engine.run_stage(second, "Source")

    # WHEN their action executions are listed
    details = pipeline.list_action_executions(pipelineName=NAME)["actionExecutionDetails"]

    # THEN each carries its own execution's structure version
    versions = {(d["pipelineExecutionId"], d["pipelineVersion"]) for d in details}
    assert versions == {(first, 1), (second, 2)}


def test_the_succeeded_in_stage_filter_lists_only_the_current_version(
    pipeline: EmulatedCodePipeline,
    engine: StubEngine,
) -> None:
    # GIVEN v1 succeeded on version 1, then the declaration changed and v2 succeeded
    first = _start(pipeline, "arn-1")
    engine.run_to_end(first)
    pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))
    second = _start(pipeline, "arn-2")
    engine.run_to_end(second)

    # WHEN the executions that succeeded in staging are listed
    listed = pipeline.list_pipeline_executions(
        pipelineName=NAME, filter={"succeededInStage": {"stageName": "staging"}}
    )["pipelineExecutionSummaries"]

    # THEN only the current version's appear, as in CodePipeline; unfiltered, both do
    assert [s["pipelineExecutionId"] for s in listed] == [second]
    everything = pipeline.list_pipeline_executions(pipelineName=NAME)
    assert len(everything["pipelineExecutionSummaries"]) == 2


def test_get_pipeline_returns_the_declaration_of_the_version_asked_for(
    pipeline: EmulatedCodePipeline,
) -> None:
    # GIVEN a pipeline whose declaration changed once
    pipeline.update_pipeline(pipeline=_declaration(bake="Soak"))

    # WHEN each version is asked for
    first = pipeline.get_pipeline(name=NAME, version=1)["pipeline"]
    current = pipeline.get_pipeline(name=NAME)["pipeline"]

    # THEN each is that version's declaration; an unknown version is refused
    assert [a["name"] for a in first["stages"][1]["actions"]] == ["Deploy", "Bake"]
    assert [a["name"] for a in current["stages"][1]["actions"]] == ["Deploy", "Soak"]
    with pytest.raises(ClientError) as raised:
        pipeline.get_pipeline(name=NAME, version=3)
    assert _code(raised)[0] == "PipelineVersionNotFoundException"
