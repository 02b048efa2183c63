"""The registry write-back makes SageMaker emit another state-change event for the
package; routed to the real trigger, it must never start a second deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_world import GROUP, STAGES, PipelineWorld, open_world

from shared import ledger

pytestmark = pytest.mark.integration


class RoutedWorld:
    """Every event the registry emits goes to the trigger, as the EventBridge rule does."""

    def __init__(self, world: PipelineWorld) -> None:
        self.world = world
        self.pending: list[dict[str, Any]] = []
        self.outcomes: list[ledger.Outcome] = []
        world._registry.listeners.append(self.pending.append)

    def drain(self) -> None:
        while self.pending:
            event = self.pending.pop(0)
            if event["detail"]["ModelPackageGroupName"] == GROUP:
                self.outcomes.append(self.world.trigger.handle(event))

    def approve(self, arn: str) -> str:
        self.world.clock.advance(30)
        self.world.approver.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok"
        )
        self.drain()
        started = [o for o in self.outcomes if o.outcome == ledger.OUTCOME_STARTED]
        assert started, self.outcomes
        execution_id = started[-1].pipeline_execution_id
        assert execution_id is not None
        return execution_id


@pytest.fixture
def routed() -> Iterator[RoutedWorld]:
    with open_world() as world:
        yield RoutedWorld(world)


def test_write_back_after_every_stage_starts_no_second_deployment(routed: RoutedWorld) -> None:
    # GIVEN a version approved through the registry, its event routed to the trigger
    world = routed.world
    arn = world.register()
    execution_id = routed.approve(arn)

    # WHEN the pipeline runs everywhere and the recorder writes each stage back, and the
    # registry's events from those write-backs reach the trigger too
    world.run_everywhere(execution_id)
    routed.drain()

    # THEN the write-backs did emit events, every one of them was a duplicate for the
    # trigger, and the pipeline ran exactly once
    write_back_outcomes = routed.outcomes[2:]  # after the creation and the approval
    assert len(write_back_outcomes) == len(STAGES)
    assert {o.outcome for o in write_back_outcomes} == {ledger.OUTCOME_SKIPPED_DUPLICATE}
    executions = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ]
    assert [e["pipelineExecutionId"] for e in executions] == [execution_id]
    assert world.describe(arn)["ModelLifeCycle"]["Stage"] == "production"


def test_write_back_of_a_failure_and_rollback_starts_nothing_either(routed: RoutedWorld) -> None:
    # GIVEN version 1 live and version 2 approved through the registry
    world = routed.world
    first = world.register()
    good = routed.approve(first)
    world.run_everywhere(good)
    second = world.register()
    bad = routed.approve(second)

    # WHEN version 2 fails in staging, is rolled back, and all write-back events reach
    # the trigger
    world.start(bad)
    rollback = world.fail_and_roll_back(bad, STAGES[0], action="SmokeTest")
    routed.drain()

    # THEN the only executions are the two approvals and the rollback CodePipeline ran
    executions = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ]
    assert sorted(e["pipelineExecutionId"] for e in executions) == sorted([good, bad, rollback])
    started = [o for o in routed.outcomes if o.outcome == ledger.OUTCOME_STARTED]
    assert len(started) == 2
