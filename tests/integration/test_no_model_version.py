"""Executions without a model version (pipeline creation, a console "Release change")
deploy nothing and leave the endpoints alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from action_fixtures import ENDPOINT, ActionWorld, action_world
from moto import mock_aws
from pipeline_world import PipelineWorld, open_world
from trigger_fixtures import STAGES, TriggerWorld

from shared import contract, ledger

pytestmark = pytest.mark.integration

#: What ``#{variables.ModelPackageArn}`` resolves to in an execution nobody gave one.
NO_VERSION = contract.NO_MODEL_VERSION


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


def _endpoints(world: ActionWorld) -> list[str]:
    return [e["EndpointName"] for e in world.sagemaker.list_endpoints()["Endpoints"]]


def test_deploy_without_a_model_version_succeeds_and_touches_no_endpoint(
    world: ActionWorld,
) -> None:
    # GIVEN no endpoint, and an execution whose ModelPackageArn is the variable's default
    # WHEN Deploy runs
    run = world.deploy(NO_VERSION)

    # THEN it succeeds at once, says why, and creates nothing
    assert run.status == "Succeeded"
    assert run.invocations == 1
    assert run.final is not None
    assert "no model version" in (run.final.summary or "")
    assert _endpoints(world) == []
    assert world.sagemaker.list_models()["Models"] == []


def test_deploy_without_a_model_version_leaves_a_live_endpoint_alone(world: ActionWorld) -> None:
    # GIVEN version 1 live
    arn = world.register()
    assert world.deploy(arn).status == "Succeeded"
    live = world.endpoint()["EndpointConfigName"]

    # WHEN an execution without a model version runs Deploy, SmokeTest and Bake
    runs = [world.deploy(NO_VERSION), world.smoke_test(NO_VERSION), world.bake(NO_VERSION)]

    # THEN each succeeds at once and the endpoint still serves version 1's config
    assert [r.status for r in runs] == ["Succeeded"] * 3
    assert [r.invocations for r in runs] == [1, 1, 1]
    assert world.endpoint()["EndpointConfigName"] == live
    assert _endpoints(world) == [ENDPOINT]


# --- the recorder ------------------------------------------------------------------------


@pytest.fixture
def pipeline_world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def test_an_execution_without_a_version_is_recorded_clearly_and_tells_no_one(
    pipeline_world: PipelineWorld,
) -> None:
    world = pipeline_world
    # GIVEN a console "Release change": an execution with the variables' defaults
    execution_id = world.codepipeline.start_pipeline_execution(name=world.pipeline)[
        "pipelineExecutionId"
    ]

    # WHEN it runs through every stage (its actions deploy nothing) and ends
    world.run_everywhere(execution_id)

    # THEN the ledger has its start and its end, each saying it carried no model version
    records = [r for r in world.records() if r.execution_id == execution_id]
    kinds = [r.record for r in records]
    assert kinds == [ledger.RECORD_EXECUTION_STARTED, ledger.RECORD_EXECUTION_ENDED]
    assert all("no model version" in (r.reason or "") for r in records), records
    # AND nothing was deployed, written back or announced as "an unknown version"
    assert world.notifications() == []


# --- the approval trigger -----------------------------------------------------------------


@pytest.fixture
def trigger_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[TriggerWorld]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield TriggerWorld()


def test_an_approval_stops_an_execution_without_a_version_that_holds_the_pipeline(
    trigger_world: TriggerWorld,
) -> None:
    world = trigger_world
    # GIVEN the execution CodePipeline started on creation, waiting at the manual approval
    idle = world.codepipeline.start_pipeline_execution(name=world.pipeline)["pipelineExecutionId"]
    world.engine.run_to_approval(idle, contract.approval_stage_name(STAGES[1]))

    # WHEN a version is approved
    arn = world.register()
    world.approve(arn)
    outcome = world.deliver(world.event(arn))

    # THEN its deployment starts, and the execution with nothing to deploy is stopped
    assert outcome.outcome == ledger.OUTCOME_STARTED
    idle_execution = world.codepipeline.get_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=idle
    )["pipelineExecution"]
    assert idle_execution["status"] == "Stopped"
    summary = next(e for e in world.executions() if e["pipelineExecutionId"] == idle)
    assert "no model version" in summary["stopTrigger"]["reason"]


def test_a_stage_rollback_to_an_execution_without_a_version_is_quiet_too(
    pipeline_world: PipelineWorld,
) -> None:
    world = pipeline_world
    # GIVEN the creation execution passed staging (deploying nothing), then v1 failed there
    idle = world.codepipeline.start_pipeline_execution(name=world.pipeline)["pipelineExecutionId"]
    world.run_everywhere(idle)
    outcome = world.approve(world.register())
    assert outcome.pipeline_execution_id is not None
    world.start(outcome.pipeline_execution_id)
    world.notifications()

    # WHEN staging's OnFailure rolls back to the last execution that succeeded there
    rollback = world.fail_and_roll_back(
        outcome.pipeline_execution_id, STAGES[0], action=contract.ACTION_BAKE
    )

    # THEN that rollback (it deploys nothing) is recorded as such, and announced nowhere
    records = [r for r in world.records() if r.execution_id == rollback]
    assert [r.record for r in records] == [
        ledger.RECORD_EXECUTION_STARTED,
        ledger.RECORD_EXECUTION_ENDED,
    ]
    subjects = [n["Subject"] for n in world.notifications()]
    assert not [s for s in subjects if "None" in s or "unknown version" in s], subjects
