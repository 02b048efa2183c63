"""A start that fails on every attempt gives its claim back, and bad input never loops:
what the trigger or the recorder cannot use is recorded once as malformed, naming the
field, and the function returns normally (no retry, no dead-letter queue)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pipeline_world import PipelineWorld, open_world
from trigger_fixtures import GROUP, TriggerWorld

from recorder.logic import MALFORMED
from shared import ledger

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"


class FailingStarts:
    """The world's CodePipeline, whose StartPipelineExecution is throttled while
    ``failing``."""

    def __init__(self, pipeline: Any) -> None:
        self._pipeline = pipeline
        self.failing = True

    def start_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        if self.failing:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "StartPipelineExecution",
            )
        result: dict[str, Any] = self._pipeline.start_pipeline_execution(**kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)


@pytest.fixture
def world() -> Iterator[TriggerWorld]:
    with mock_aws():
        yield TriggerWorld()


@pytest.fixture
def recorder_world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def _fail_every_attempt(world: TriggerWorld, event: dict[str, Any]) -> FailingStarts:
    """Deliver ``event`` as Lambda does (the first try and two retries), every start
    throttled."""
    starts = FailingStarts(world.codepipeline)
    world.trigger._codepipeline = starts  # type: ignore[assignment]
    for _ in range(3):
        with pytest.raises(ClientError, match="ThrottlingException"):
            world.deliver(event)
    return starts


# --- a failed start releases its claim --------------------------------------------------


def test_a_start_that_failed_every_attempt_starts_once_on_a_later_re_emit(
    world: TriggerWorld,
) -> None:
    # GIVEN an approval whose every start was throttled (the event is dead-lettered)
    arn = world.register()
    world.approve(arn)
    dead_lettered = world.event(arn)
    starts = _fail_every_attempt(world, dead_lettered)
    (failed,) = world.outcomes_of(dead_lettered["id"])
    assert failed.outcome == ledger.OUTCOME_FAILED

    # WHEN CodePipeline answers again and SageMaker re-emits the approval
    starts.failing = False
    outcome = world.deliver(world.event(arn))

    # THEN it starts, once
    assert outcome.outcome == ledger.OUTCOME_STARTED
    assert len(world.executions()) == 1

    # AND WHEN the dead-lettered event is redriven
    redriven = world.deliver(dead_lettered)

    # THEN it is a duplicate of that start: still one execution
    assert redriven.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert len(world.executions()) == 1


def test_a_redriven_start_that_failed_every_attempt_starts_once_with_the_same_token(
    world: TriggerWorld,
) -> None:
    # GIVEN an approval whose every start was throttled
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)
    starts = _fail_every_attempt(world, event)
    acts = world.trigger.ledger.acts(arn)
    assert acts[-1].kind == ledger.ACT_RELEASED
    assert {a.client_request_token for a in acts} == {acts[0].client_request_token}

    # WHEN the dead-lettered event is redriven, twice
    starts.failing = False
    first = world.deliver(event)
    second = world.deliver(event)

    # THEN it started once, with the token of the claim it released
    assert first.outcome == ledger.OUTCOME_STARTED
    assert second == first
    assert first.client_request_token == acts[0].client_request_token
    assert len(world.executions()) == 1


# --- bad input at the trigger -----------------------------------------------------------


def test_an_event_id_too_long_for_the_ledger_key_is_recorded_once_as_malformed(
    world: TriggerWorld,
) -> None:
    # GIVEN an approval event whose id is longer than the ledger's sort key allows
    arn = world.register()
    world.approve(arn)
    event = world.event(arn, event_id="e" * 1100)

    # WHEN it is delivered, and delivered again
    outcome = world.deliver(event)
    again = world.deliver(copy.deepcopy(event))

    # THEN it is recorded once as malformed, naming the field, and nothing starts
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_MALFORMED
    assert outcome.reason.startswith("event.id: ")
    assert again == outcome
    assert [o.outcome for o in world.outcomes()] == [ledger.OUTCOME_SKIPPED_MALFORMED]
    assert world.executions() == []


def test_an_event_with_an_unknown_approval_status_is_recorded_as_malformed(
    world: TriggerWorld,
) -> None:
    # GIVEN an event whose ModelApprovalStatus is no status SageMaker has
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)
    event["detail"]["ModelApprovalStatus"] = "Approved" * 40

    # WHEN it is delivered
    outcome = world.deliver(event)

    # THEN it is refused, naming the field
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_MALFORMED
    assert outcome.reason.startswith("event.detail.ModelApprovalStatus: ")
    assert world.executions() == []


# --- bad input at the recorder ----------------------------------------------------------


def _pipeline_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.mark.parametrize(
    ("field", "spoil"),
    [
        ("detail-type", lambda e: e.update({"detail-type": "Something Else"})),
        ("detail.execution-id", lambda e: e["detail"].update({"execution-id": "not-an-id"})),
        ("detail.stage", lambda e: e["detail"].update({"stage": "x" * 101})),
        ("id", lambda e: e.update({"id": "e" * 1100})),
        ("time", lambda e: e.update({"time": "yesterday"})),
    ],
)
def test_a_malformed_pipeline_event_is_recorded_once_naming_the_field_and_not_retried(
    recorder_world: PipelineWorld, field: str, spoil: Any
) -> None:
    # GIVEN a stage event of the group's pipeline with one field spoiled
    event = _pipeline_event("codepipeline_stage_execution_state_change_failed.json")
    spoil(event)

    # WHEN it reaches the recorder, and again
    first = recorder_world.deliver(event)
    second = recorder_world.deliver(copy.deepcopy(event))

    # THEN the recorder returns normally, recording it once as malformed, naming the field
    assert first.result == MALFORMED
    assert second.result == MALFORMED
    (recorded,) = recorder_world.recorder.ledger.malformed_events(GROUP)
    assert recorded.reason.startswith(f"event.{field}: ")
    assert recorded.event_id == first.event_id
    assert recorder_world.records() == []
