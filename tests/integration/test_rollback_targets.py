"""Rollback targets CodePipeline accepts, chosen the same way by the rejection rollback
and ``greenlight rollback`` (shared.rollback)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from pipeline_world import GROUP, PipelineWorld, open_world, topic_flags
from trigger_fixtures import STAGES, TriggerWorld

from pipeline_scripts import cli
from shared import contract, ledger

pytestmark = pytest.mark.integration


def operator_flags(world: PipelineWorld) -> list[str]:
    """The world's flags and the reason every operator action gives."""
    return [*topic_flags(world), "--reason", "on-call check"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def trigger_world(aws: None) -> TriggerWorld:
    return TriggerWorld()


@pytest.fixture
def cli_world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def _change_the_declaration(codepipeline: Any, name: str) -> None:
    """A `cdk deploy` that changed the pipeline (e.g. a stage's UserParameters)."""
    declaration = copy.deepcopy(codepipeline.get_pipeline(name=name)["pipeline"])
    for stage in declaration["stages"]:
        for action in stage["actions"]:
            action.setdefault("configuration", {})["UserParameters"] = '{"changed": true}'
    codepipeline.update_pipeline(pipeline=declaration)


def _execution(codepipeline: Any, name: str, execution_id: str) -> dict[str, Any]:
    response = codepipeline.get_pipeline_execution(
        pipelineName=name, pipelineExecutionId=execution_id
    )
    execution: dict[str, Any] = response["pipelineExecution"]
    execution["vars"] = {v["name"]: v["resolvedValue"] for v in execution["variables"]}
    return execution


# --- the rejection rollback ---------------------------------------------------------------


def test_a_rejection_rolls_back_to_the_original_execution_never_to_a_rollback(
    trigger_world: TriggerWorld,
) -> None:
    world = trigger_world
    # GIVEN v1 then v2 deployed, v2 rejected and rolled back to v1, then v3 deployed
    first, second, third = world.register(), world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.deploy_everywhere(second)
    world.reject(second)
    for rollback in world.deliver(world.event(second)).rollbacks:
        world.engine.run_to_end(rollback.execution_id)
    world.deploy_everywhere(third)

    # WHEN v3 is rejected (v1's newest success in each stage is a ROLLBACK execution)
    world.reject(third)
    outcome = world.deliver(world.event(third))

    # THEN each stage rolls back to v1's own execution
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert {r.target_execution_id for r in outcome.rollbacks} == {good}
    assert {r.stage for r in outcome.rollbacks} == set(STAGES)


def test_a_rejection_after_the_pipeline_changed_redeploys_the_previous_version(
    trigger_world: TriggerWorld,
) -> None:
    world = trigger_world
    # GIVEN v1 then v2 deployed, then a change of the pipeline's declaration
    first, second = world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.deploy_everywhere(second)
    _change_the_declaration(world.codepipeline, world.pipeline)

    # WHEN v2 is rejected (RollbackStage refuses v1's execution: an earlier version)
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN one new execution of v1 starts, recorded as the rollback of each stage
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    (started,) = {r.execution_id for r in outcome.rollbacks}
    assert {r.target_execution_id for r in outcome.rollbacks} == {good}
    execution = _execution(world.codepipeline, world.pipeline, started)
    assert execution["executionType"] == "STANDARD"
    assert execution["vars"][contract.VAR_MODEL_PACKAGE_ARN] == first
    assert execution["vars"][contract.VAR_MODEL_PACKAGE_VERSION] == "1"
    assert execution["vars"][contract.VAR_TRIGGER_REASON] == contract.REASON_REJECTION_ROLLBACK
    assert execution["vars"][contract.VAR_REQUEST_ID] == outcome.event_id


# --- greenlight rollback --------------------------------------------------------------------


def test_cli_rollback_to_a_version_live_through_a_rollback_targets_its_original_execution(
    cli_world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = cli_world
    # GIVEN v1 and v2 deployed, production rolled back to v1, then v3 deployed
    first_arn = world.register()
    first = world.deploy(first_arn)
    world.deploy(world.register())
    assert cli.main(["rollback", GROUP, "--stage", "production", *operator_flags(world)]) == 0
    rollback = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ][0]["pipelineExecutionId"]
    world.finish(rollback)
    world.deploy(world.register())
    capsys.readouterr()

    # WHEN the operator asks for v1 in production again
    code = cli.main(
        ["rollback", GROUP, "--stage", "production", "--to-version", "1", *operator_flags(world)]
    )

    # THEN CodePipeline rolls back to v1's own execution
    out = capsys.readouterr().out
    assert code == 0, out
    newest = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ][0]
    assert newest["executionType"] == "ROLLBACK"
    assert newest["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == first


def test_cli_rollback_after_the_pipeline_changed_starts_the_earlier_version_again(
    cli_world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world = cli_world
    # GIVEN v1 then v2 deployed, then a change of the pipeline's declaration
    first_arn = world.register()
    first = world.deploy(first_arn)
    world.deploy(world.register())
    _change_the_declaration(world.codepipeline, world.pipeline)

    # WHEN the operator rolls production back
    code = cli.main(["rollback", GROUP, "--stage", "production", *operator_flags(world)])

    # THEN v1 starts again as a normal execution, recorded as a manual rollback to v1
    out = capsys.readouterr().out
    assert code == 0, out
    newest = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ][0]
    execution = _execution(world.codepipeline, world.pipeline, newest["pipelineExecutionId"])
    assert execution["executionType"] == "STANDARD"
    assert execution["vars"][contract.VAR_MODEL_PACKAGE_ARN] == first_arn
    assert execution["vars"][contract.VAR_TRIGGER_REASON] == contract.REASON_MANUAL_ROLLBACK
    (recorded,) = [o for o in world.ledger.outcomes(GROUP) if o.event_id.startswith("cli-rollback")]
    assert recorded.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert recorded.rollbacks[0].target_execution_id == first
    assert recorded.rollbacks[0].execution_id == newest["pipelineExecutionId"]
