"""The recorder on CodePipeline state-change events: ledger records, registry write-back,
notifications, idempotence, and the events' shapes."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_world import GROUP, STAGES, PipelineWorld, open_world

from pipeline_scripts.emulation import pipeline_events
from recorder.events import MalformedPipelineEvent, parse_pipeline_event
from recorder.logic import DUPLICATE, IGNORED
from shared import contract, ledger
from shared.environment import ConfigError
from shared.group_registry import GroupEntry
from shared.settings import RecorderConfig

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"


@pytest.fixture
def world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def _recorded(name: str, world: PipelineWorld, execution_id: str) -> dict[str, Any]:
    """A recorded event from tests/events, about ``execution_id``, happening now."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    event["detail"]["execution-id"] = execution_id
    event["time"] = pipeline_events.event_time(world.clock.now())
    return event


def _started(world: PipelineWorld) -> tuple[str, str]:
    arn = world.register()
    outcome = world.approve(arn)
    assert outcome.pipeline_execution_id is not None
    return arn, outcome.pipeline_execution_id


def _of(world: PipelineWorld, kind: str) -> list[ledger.PipelineRecord]:
    return [r for r in world.records() if r.record == kind]


def _subjects(world: PipelineWorld) -> list[str]:
    return [m["Subject"] for m in world.notifications()]


# --- the recorded events ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EVENTS.glob("codepipeline_*_state_change*.json")))
def test_every_recorded_codepipeline_event_parses_into_its_kind_state_and_execution(
    path: Path,
) -> None:
    # GIVEN a recorded CodePipeline state-change event
    event = json.loads(path.read_text())

    # WHEN it is parsed
    change = parse_pipeline_event(event)

    # THEN kind, state and execution come from the event as EventBridge delivers it
    assert change.kind in path.name
    assert change.state == event["detail"]["state"]
    assert change.execution_id == event["detail"]["execution-id"]
    assert change.pipeline == contract.pipeline_name(GROUP)


def test_the_event_builders_make_the_same_fields_as_the_recorded_events() -> None:
    # GIVEN the recorded failed-action event
    recorded = json.loads(
        (EVENTS / "codepipeline_action_execution_state_change_failed.json").read_text()
    )

    # WHEN the builder makes an event for the same change
    built = pipeline_events.action_execution_event(
        pipeline=recorded["detail"]["pipeline"],
        execution_id=recorded["detail"]["execution-id"],
        stage="production",
        action="Bake",
        state="FAILED",
        start_time=parse_pipeline_event(recorded).start_time,  # type: ignore[arg-type]
        at=parse_pipeline_event(recorded).at,
        summary=recorded["detail"]["execution-result"]["external-execution-summary"],
        external_execution_id="bake-5b7c3a9e",
        error_code="JobFailed",
        event_id=recorded["id"],
    )

    # THEN it is the recorded event, field for field
    assert built == recorded


def test_an_event_from_another_source_is_refused_naming_the_field() -> None:
    # GIVEN a SageMaker event
    event = json.loads((EVENTS / "model_package_approved.json").read_text())

    # WHEN / THEN parsing refuses it and names the source
    with pytest.raises(MalformedPipelineEvent, match=r"event\.source: expected aws\.codepipeline"):
        parse_pipeline_event(event)


def test_recorder_config_takes_the_group_from_its_registry_entry() -> None:
    # GIVEN the shared recorder's environment and a group's registry entry
    environ = {
        contract.ENV_LEDGER_TABLE: "t",
        contract.ENV_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:t",
    }
    entry = GroupEntry(group=GROUP, pipeline_name=contract.pipeline_name(GROUP), stages=("a",))

    # WHEN / THEN the config holds the group's pipeline and stages
    config = RecorderConfig.for_group(environ, entry)
    assert (config.group, config.pipeline_name, config.stages) == (
        GROUP,
        contract.pipeline_name(GROUP),
        ("a",),
    )
    # AND without a table it names the variable
    with pytest.raises(ConfigError, match=f"environment {contract.ENV_LEDGER_TABLE}: missing"):
        RecorderConfig.for_group({}, entry)


# --- started ----------------------------------------------------------------------------


def test_execution_started_is_recorded_with_the_exact_arn_version_and_reason(
    world: PipelineWorld,
) -> None:
    # GIVEN an approval that started an execution
    arn, execution_id = _started(world)

    # WHEN the recorded STARTED event for it arrives
    result = world.deliver(
        _recorded("codepipeline_pipeline_execution_state_change_started.json", world, execution_id)
    )

    # THEN the ledger links the execution to the package, version and trigger reason
    assert result.result == ledger.RECORD_EXECUTION_STARTED
    (record,) = _of(world, ledger.RECORD_EXECUTION_STARTED)
    assert (record.execution_id, record.model_package_arn, record.model_package_version) == (
        execution_id,
        arn,
        1,
    )
    assert record.trigger_reason == contract.REASON_APPROVAL
    assert record.execution_type == "STANDARD"


def test_execution_started_sends_a_message_saying_which_version_with_filterable_attributes(
    world: PipelineWorld,
) -> None:
    # GIVEN an execution the trigger started
    _, execution_id = _started(world)
    world.notifications()

    # WHEN its STARTED event is recorded
    world.start(execution_id)

    # THEN one message says version 1 started, with group, outcome and version attributes
    (message,) = world.notifications()
    assert message["Subject"] == f"Greenlight: {GROUP} version 1 deployment started"
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"group": GROUP, "outcome": "execution-started", "version": "1"}


# --- stage succeeded ---------------------------------------------------------------------


def test_stage_succeeded_records_deployed_with_the_endpoint_config_the_deploy_reported(
    world: PipelineWorld,
) -> None:
    # GIVEN a started execution
    _, execution_id = _started(world)
    world.start(execution_id)

    # WHEN staging runs green
    world.run_stage(execution_id, STAGES[0])

    # THEN staging is recorded deployed, with the endpoint and config the Deploy action output
    (record,) = _of(world, ledger.RECORD_DEPLOYED)
    assert (record.stage, record.model_package_version) == (STAGES[0], 1)
    assert record.endpoint_name == "house-price-staging"
    assert record.endpoint_config_name == f"house-price-staging-{execution_id[:8]}"
    assert record.started_at is not None
    assert record.started_at < record.at


def test_stage_succeeded_writes_model_life_cycle_and_stage_metadata_back_to_the_registry(
    world: PipelineWorld,
) -> None:
    # GIVEN a started execution
    arn, execution_id = _started(world)
    world.start(execution_id)

    # WHEN staging succeeds
    world.run_stage(execution_id, STAGES[0])

    # THEN the registry says Deployed in staging, by which execution and when; the approval
    # status and description are untouched
    package = world.describe(arn)
    (record,) = _of(world, ledger.RECORD_DEPLOYED)
    when = ledger.timestamp(record.at)
    assert package["ModelLifeCycle"] == {
        "Stage": "staging",
        "StageStatus": "Deployed",
        "StageDescription": f"execution {execution_id} at {when}",
    }
    assert package["CustomerMetadataProperties"] == {
        "greenlight:staging:execution": execution_id,
        "greenlight:staging:at": when,
    }
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "metrics reviewed"


def test_stage_deployed_message_names_version_stage_and_endpoint(world: PipelineWorld) -> None:
    # GIVEN a started execution
    _, execution_id = _started(world)
    world.start(execution_id)
    world.notifications()

    # WHEN staging succeeds
    world.run_stage(execution_id, STAGES[0])

    # THEN a message says version 1 is deployed to staging, with the stage attribute
    (message,) = world.notifications()
    assert message["Subject"] == f"Greenlight: {GROUP} version 1 deployed to staging"
    assert "endpoint house-price-staging" in message["Message"]
    assert message["MessageAttributes"]["stage"]["Value"] == "staging"


# --- stage failed ---------------------------------------------------------------------


def test_stage_failed_records_the_failing_action_and_its_message(world: PipelineWorld) -> None:
    # GIVEN a started execution
    arn, execution_id = _started(world)
    world.start(execution_id)

    # WHEN the smoke test fails in staging
    world.run_stage(execution_id, STAGES[0], fail="SmokeTest", summary="status 500 from endpoint")

    # THEN the failure is recorded with the action and its summary, and written back
    (record,) = _of(world, ledger.RECORD_FAILED)
    assert record.reason == "SmokeTest failed: status 500 from endpoint"
    assert world.describe(arn)["ModelLifeCycle"]["StageStatus"] == "Failed"
    (action,) = _of(world, ledger.RECORD_ACTION_FAILED)
    assert action.reason == "SmokeTest failed: status 500 from endpoint"


def test_stage_failed_message_says_why(world: PipelineWorld) -> None:
    # GIVEN a started execution
    _, execution_id = _started(world)
    world.start(execution_id)
    world.notifications()

    # WHEN Bake fails on an alarm
    world.run_stage(execution_id, STAGES[0], fail="Bake", summary="alarm x-5xx in ALARM")

    # THEN the failure message names the stage and the reason
    subjects = {m["Subject"]: m for m in world.notifications()}
    message = subjects[f"Greenlight: {GROUP} version 1 failed in staging"]
    assert "Why: Bake failed: alarm x-5xx in ALARM" in message["Message"]
    assert message["MessageAttributes"]["outcome"]["Value"] == "failed"


# --- rollback ---------------------------------------------------------------------------


def _deploy_then_fail_and_roll_back(world: PipelineWorld) -> tuple[str, str, str, str, str]:
    first = world.register()
    good = world.deploy(first)
    second = world.register()
    bad, rollback = world.fail_in_production(second)
    return first, second, good, bad, rollback


def test_automated_rollback_is_recorded_with_the_target_and_the_failed_execution_and_versions(
    world: PipelineWorld,
) -> None:
    # GIVEN version 1 live everywhere and version 2 failing its production bake
    # WHEN production's OnFailure ROLLBACK runs and succeeds
    _, _, good, bad, rollback = _deploy_then_fail_and_roll_back(world)

    # THEN the ledger says production rolled back from v2 (bad) to v1 (good), and why
    (record,) = _of(world, ledger.RECORD_ROLLED_BACK)
    assert record.execution_id == rollback
    assert record.execution_type == "ROLLBACK"
    assert record.trigger_type == "AutomatedRollback"
    assert (record.rollback_target_execution_id, record.rollback_target_version) == (good, 1)
    assert (record.rolled_back_execution_id, record.rolled_back_version) == (bad, 2)
    assert record.reason is not None
    assert record.reason.startswith("Bake failed: ")


def test_automated_rollback_writes_rolled_back_on_the_failed_version_and_deployed_on_the_target(
    world: PipelineWorld,
) -> None:
    # GIVEN / WHEN version 2 fails in production and is rolled back to version 1
    first, second, _, _, rollback = _deploy_then_fail_and_roll_back(world)

    # THEN the registry says so for both versions
    assert world.describe(second)["ModelLifeCycle"]["StageStatus"] == "RolledBack"
    target = world.describe(first)
    assert target["ModelLifeCycle"]["StageStatus"] == "Deployed"
    assert target["CustomerMetadataProperties"]["greenlight:production:execution"] == rollback


def test_automated_rollback_message_says_from_which_version_to_which_and_the_alarm(
    world: PipelineWorld,
) -> None:
    # GIVEN / WHEN version 2 fails its production bake on an alarm and is rolled back
    _deploy_then_fail_and_roll_back(world)

    # THEN a message names both versions and the alarm that caused it
    messages = {m["Subject"]: m for m in world.notifications()}
    message = messages[f"Greenlight: {GROUP} production rolled back from version 2 to version 1"]
    assert "greenlight-house-price-linear-learner-staging-5xx in ALARM" in message["Message"]
    assert message["MessageAttributes"]["outcome"]["Value"] == "rolled-back"


# --- superseded, stopped, awaiting approval -----------------------------------------------


def test_superseded_execution_is_recorded_and_told(world: PipelineWorld) -> None:
    # GIVEN an execution that deployed to staging
    _, execution_id = _started(world)
    world.start(execution_id)
    world.run_stage(execution_id, STAGES[0])
    world.notifications()

    # WHEN the recorded SUPERSEDED event arrives for it
    world.codepipeline.finish_execution(execution_id, "Superseded")
    world.deliver(
        _recorded(
            "codepipeline_pipeline_execution_state_change_superseded.json", world, execution_id
        )
    )

    # THEN it is recorded as superseded and a message says so
    (record,) = _of(world, ledger.RECORD_SUPERSEDED)
    assert (record.execution_id, record.model_package_version) == (execution_id, 1)
    assert _subjects(world) == [f"Greenlight: {GROUP} version 1 superseded"]


def test_stopped_execution_is_recorded_with_the_stop_reason(world: PipelineWorld) -> None:
    # GIVEN an execution stopped because its version was rejected
    _, execution_id = _started(world)
    world.start(execution_id)
    world.codepipeline.stop_pipeline_execution(
        pipelineName=world.pipeline,
        pipelineExecutionId=execution_id,
        abandon=True,
        reason="version 1 was rejected",
    )

    # WHEN the recorded STOPPED event arrives
    world.deliver(
        _recorded("codepipeline_pipeline_execution_state_change_stopped.json", world, execution_id)
    )

    # THEN the stop and its reason are in the ledger
    (record,) = _of(world, ledger.RECORD_STOPPED)
    assert record.reason == "version 1 was rejected"


def test_manual_approval_waiting_is_recorded_for_the_next_stage_and_told(
    world: PipelineWorld,
) -> None:
    # GIVEN an execution that passed staging
    _, execution_id = _started(world)
    world.start(execution_id)
    world.run_stage(execution_id, STAGES[0])
    world.notifications()

    # WHEN the approval action before production starts
    world.await_approval(execution_id, STAGES[1])

    # THEN the ledger and a message say version 1 awaits approval for production
    (record,) = _of(world, ledger.RECORD_AWAITING_APPROVAL)
    assert record.stage == "production"
    assert _subjects(world) == [f"Greenlight: {GROUP} version 1 awaits approval for production"]


def test_the_answer_to_a_manual_approval_is_recorded_with_who_gave_it(
    world: PipelineWorld,
) -> None:
    # GIVEN an execution waiting at the manual approval before production
    _, execution_id = _started(world)
    world.start(execution_id)
    world.run_stage(execution_id, STAGES[0])
    world.await_approval(execution_id, STAGES[1])
    reviewer = "arn:aws:iam::123456789012:user/release-manager"

    # WHEN the reviewer approves it (the event does not say who: CodePipeline's
    # updatedBy does)
    world.pass_approval(execution_id, STAGES[1], answered_by=reviewer)

    # THEN the ledger keeps the answer for production, with the reviewer's identity
    (record,) = _of(world, ledger.RECORD_APPROVAL_ANSWERED)
    assert (record.stage, record.state, record.answered_by) == ("production", "SUCCEEDED", reviewer)
    assert record.reason == f"approved by {reviewer}: Approved: go ahead"


# --- nothing twice, nothing of others ------------------------------------------------------


def test_a_redelivered_event_records_writes_back_and_notifies_nothing_again(
    world: PipelineWorld,
) -> None:
    # GIVEN a stage success that was recorded
    _arn, execution_id = _started(world)
    world.start(execution_id)
    world.run_stage(execution_id, STAGES[0])
    world.notifications()
    success = world.delivered[-1]
    events_before = len(list(world.registry_events()))

    # WHEN EventBridge delivers it again
    result = world.deliver(copy.deepcopy(success))

    # THEN nothing new happens
    assert result.result == DUPLICATE
    assert len(_of(world, ledger.RECORD_DEPLOYED)) == 1
    assert world.notifications() == []
    assert len(list(world.registry_events())) == events_before


def test_an_event_of_another_pipeline_is_ignored(world: PipelineWorld) -> None:
    # GIVEN a STARTED event of someone else's pipeline
    event = json.loads(
        (EVENTS / "codepipeline_pipeline_execution_state_change_started.json").read_text()
    )
    event["detail"]["pipeline"] = "someone-elses-pipeline"

    # WHEN it reaches the recorder
    result = world.deliver(event)

    # THEN nothing is recorded
    assert result.result == IGNORED
    assert world.records() == []
