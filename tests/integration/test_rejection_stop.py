"""Rejecting a version in flight: record the affected stages, stop, wait for Stopped (on
a later invocation, never by sleeping), then roll back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from trigger_fixtures import STAGES, TriggerWorld

from approval_trigger.logic import ApprovalTrigger
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from shared import contract, ledger

pytestmark = pytest.mark.integration


class SlowStop:
    """CodePipeline whose StopPipelineExecution returns before the execution is Stopped:
    the running action still has to end (as a stop of an action that is busy)."""

    def __init__(self, emulated: EmulatedCodePipeline, *, refuse: bool = False) -> None:
        self._emulated = emulated
        self._refuse = refuse
        self.stops: list[str] = []

    def stop_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.stops.append(kwargs["pipelineExecutionId"])
        if self._refuse:
            raise RuntimeError("StopPipelineExecution throttled")
        return self._emulated.stop_pipeline_execution(**{**kwargs, "abandon": False})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._emulated, name)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[TriggerWorld]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield TriggerWorld()


def _trigger_with(world: TriggerWorld, codepipeline: Any) -> ApprovalTrigger:
    return ApprovalTrigger(
        world.config,
        sagemaker=world.sagemaker,
        codepipeline=codepipeline,
        sns=world.sns,
        dynamodb=world.dynamodb,
        clock=world.clock,
    )


def _in_flight_in_staging(world: TriggerWorld) -> tuple[str, str, str]:
    """v1 live everywhere; v2 deploying in staging. Returns (v1's execution, v2, v2's)."""
    first, second = world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.approve(second)
    started = world.deliver(world.event(second)).pipeline_execution_id
    assert started is not None
    world.engine.hold(STAGES[0], contract.ACTION_DEPLOY)
    world.engine.run_to_invocation(started, STAGES[0], contract.ACTION_DEPLOY)
    return good, second, started


def _status(world: TriggerWorld, execution_id: str) -> str:
    execution = world.codepipeline.get_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    return str(execution["status"])


def test_the_affected_stages_are_recorded_before_the_stop(world: TriggerWorld) -> None:
    # GIVEN v2 deploying in staging over v1, and a StopPipelineExecution that fails
    _, second, started = _in_flight_in_staging(world)
    trigger = _trigger_with(world, SlowStop(world.codepipeline, refuse=True))

    # WHEN v2 is rejected and the stop fails
    world.reject(second)
    event = world.event(second)
    with pytest.raises(RuntimeError):
        trigger.handle(event)

    # THEN the ledger already holds what the rejection affects, for the retry to finish
    (recorded,) = world.outcomes_of(event["id"])
    assert recorded.outcome == ledger.OUTCOME_FAILED
    assert recorded.stages == {STAGES[0]: "in flight"}
    assert recorded.stopped_executions == (started,)


def test_the_rollback_waits_for_stopped_and_a_later_invocation_starts_it(
    world: TriggerWorld,
) -> None:
    # GIVEN v2 deploying in staging over v1, and a stop that takes effect later
    good, second, started = _in_flight_in_staging(world)
    slow = SlowStop(world.codepipeline)
    trigger = _trigger_with(world, slow)

    # WHEN v2 is rejected while its execution is still Stopping
    world.reject(second)
    event = world.event(second)
    with pytest.raises(Exception, match="Stopped"):
        trigger.handle(event)

    # THEN nothing rolled back yet: the invocation ended, asking to be tried again
    assert _status(world, started) == "Stopping"
    assert [e["executionType"] for e in world.executions()] == ["STANDARD", "STANDARD"]

    # WHEN the running action ends (the execution is Stopped) and the event is retried
    world.engine.answer(started, STAGES[0], contract.ACTION_DEPLOY)
    assert _status(world, started) == "Stopped"
    outcome = trigger.handle(event)

    # THEN staging, where v2 was in flight, rolls back to v1
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert outcome.stopped_executions == (started,)
    assert [(r.stage, r.target_execution_id) for r in outcome.rollbacks] == [(STAGES[0], good)]


def test_an_execution_already_stopping_is_abandoned_and_its_stage_rolled_back(
    world: TriggerWorld,
) -> None:
    # GIVEN v2 deploying in staging, and an operator's stop-and-wait (it is Stopping)
    good, second, started = _in_flight_in_staging(world)
    world.codepipeline.stop_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=started, reason="operator"
    )
    assert _status(world, started) == "Stopping"

    # WHEN v2 is rejected
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN its execution is abandoned (Stopped) and staging rolls back to v1
    assert _status(world, started) == "Stopped"
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert [(r.stage, r.target_execution_id) for r in outcome.rollbacks] == [(STAGES[0], good)]
