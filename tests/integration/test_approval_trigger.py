"""The approval trigger against moto (SageMaker, DynamoDB, SNS, SQS) and the emulated
CodePipeline: DESIGN rules 1-4, 7-9 and the governance gates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from trigger_fixtures import ALL_REPORTS, GROUP, STAGES, TriggerWorld

from approval_trigger.approval import GATE_METADATA_KEY
from approval_trigger.claims import request_token
from shared import contract, ledger
from shared.gates import Gates
from shared.group_registry import GroupEntry, PerGroup, UnknownGroup

pytestmark = pytest.mark.integration


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def world(aws: None) -> TriggerWorld:
    return TriggerWorld()


@pytest.fixture
def gated_world(aws: None) -> TriggerWorld:
    return TriggerWorld(
        gates=Gates(
            required_reports=("ModelQuality", "Bias", "Explainability"),
            separation_of_duties=True,
        )
    )


def _succeeded_stages(world: TriggerWorld, execution_id: str) -> set[str]:
    details = world.codepipeline.list_action_executions(
        pipelineName=world.pipeline, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    return {d["stageName"] for d in details if d["status"] == "Succeeded"}


# --- approval -------------------------------------------------------------------------


def test_approved_event_starts_the_pipeline_with_the_exact_arn_version_reason_and_token(
    world: TriggerWorld,
) -> None:
    # GIVEN a registered version that a reviewer approved
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)

    # WHEN its Approved event reaches the trigger
    outcome = world.deliver(event)

    # THEN one execution started, carrying the registry's exact ARN and the event id
    assert outcome.outcome == ledger.OUTCOME_STARTED
    executions = world.executions()
    assert [e["pipelineExecutionId"] for e in executions] == [outcome.pipeline_execution_id]
    assert world.variables(executions[0]["pipelineExecutionId"]) == {
        contract.VAR_MODEL_PACKAGE_ARN: arn,
        contract.VAR_MODEL_PACKAGE_VERSION: "1",
        contract.VAR_TRIGGER_REASON: contract.REASON_APPROVAL,
        contract.VAR_REQUEST_ID: event["id"],
    }
    assert outcome.client_request_token == request_token(arn, 1)


def test_retry_after_a_crash_between_start_and_record_reuses_the_token_and_starts_nothing_new(
    world: TriggerWorld,
) -> None:
    # GIVEN an approval whose execution started but whose outcome was lost
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)
    first = world.deliver(event)
    world.dynamodb.delete_item(
        TableName=world.table,
        Key={"pk": {"S": f"GROUP#{GROUP}"}, "sk": {"S": f"EVENT#{event['id']}"}},
    )

    # WHEN Lambda retries the same event
    second = world.deliver(event)

    # THEN the same token found the same execution: still one execution
    assert second.outcome == ledger.OUTCOME_STARTED
    assert second.pipeline_execution_id == first.pipeline_execution_id
    assert len(world.executions()) == 1


def test_the_same_event_delivered_twice_starts_once_and_keeps_one_record(
    world: TriggerWorld,
) -> None:
    # GIVEN an approved version and its event
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)

    # WHEN EventBridge delivers the event twice
    first = world.deliver(event)
    second = world.deliver(event)

    # THEN one execution, one ledger record, and the second delivery reports the first
    assert len(world.executions()) == 1
    assert second == first
    assert [o.outcome for o in world.outcomes_of(event["id"])] == [ledger.OUTCOME_STARTED]


def test_a_different_event_for_the_same_approval_is_a_duplicate(world: TriggerWorld) -> None:
    # GIVEN an approval that already started a deployment
    arn = world.register()
    world.approve(arn)
    world.deliver(world.event(arn))

    # WHEN SageMaker sends a second event (another id) for the same approval
    outcome = world.deliver(world.event(arn))

    # THEN nothing new starts and the event is recorded as a duplicate
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert "already acted on" in outcome.reason
    assert len(world.executions()) == 1


def test_an_event_re_emitted_after_a_metadata_update_starts_nothing(world: TriggerWorld) -> None:
    # GIVEN a deployed approval, then a ModelLifeCycle / metadata write-back on the version
    arn = world.register()
    world.approve(arn)
    world.deliver(world.event(arn))
    before = world.describe(arn)["LastModifiedTime"]
    world.sagemaker.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"greenlight:staging": "deployed"},
        ModelLifeCycle={"Stage": "staging", "StageStatus": "Deployed"},
    )
    event = world.event(arn)
    assert world.describe(arn)["LastModifiedTime"] > before

    # WHEN the event that write-back causes arrives (still Approved, newer time)
    outcome = world.deliver(event)

    # THEN it is a duplicate
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert len(world.executions()) == 1


def test_an_approval_after_a_recorded_rejection_deploys_again(world: TriggerWorld) -> None:
    # GIVEN a version approved (deployed), then rejected (recorded)
    arn = world.register()
    world.approve(arn)
    first = world.deliver(world.event(arn))
    world.reject(arn)
    world.deliver(world.event(arn))

    # WHEN it is approved again
    world.approve(arn)
    outcome = world.deliver(world.event(arn))

    # THEN a new execution starts, with a new token
    assert outcome.outcome == ledger.OUTCOME_STARTED
    assert outcome.pipeline_execution_id != first.pipeline_execution_id
    assert outcome.client_request_token == request_token(arn, 3)


def test_an_explicit_redeploy_starts_again_with_the_redeploy_reason(world: TriggerWorld) -> None:
    # GIVEN an approval already acted on
    arn = world.register()
    world.approve(arn)
    first = world.deliver(world.event(arn))

    # WHEN the CLI asks for a redeploy of that version
    outcome = world.trigger.start_deployment(arn, request_id="cli-redeploy-1")

    # THEN a second execution starts with TriggerReason redeploy
    assert outcome.outcome == ledger.OUTCOME_STARTED
    assert outcome.pipeline_execution_id != first.pipeline_execution_id
    assert outcome.pipeline_execution_id is not None
    variables = world.variables(outcome.pipeline_execution_id)
    assert variables[contract.VAR_TRIGGER_REASON] == contract.REASON_REDEPLOY
    assert variables[contract.VAR_REQUEST_ID] == "cli-redeploy-1"


def test_an_approval_older_than_the_last_one_acted_on_is_stale(world: TriggerWorld) -> None:
    # GIVEN version 1 approved before version 2, and version 2's event handled first
    first = world.register()
    second = world.register()
    world.approve(first)
    world.approve(second)
    late_event = world.event(first)
    world.deliver(world.event(second))

    # WHEN version 1's event arrives late
    outcome = world.deliver(late_event)

    # THEN it is recorded as stale and only version 2 runs
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_STALE
    assert "before version 2" in outcome.reason
    executions = world.executions()
    assert len(executions) == 1
    variables = world.variables(executions[0]["pipelineExecutionId"])
    assert variables[contract.VAR_MODEL_PACKAGE_ARN] == second


def test_the_creation_event_of_a_pending_version_is_skipped(world: TriggerWorld) -> None:
    # GIVEN a version just registered (PendingManualApproval)
    arn = world.register()

    # WHEN the creation event arrives
    outcome = world.deliver(world.event(arn))

    # THEN nothing starts and the reason names the status
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_NOT_APPROVED
    assert "PendingManualApproval" in outcome.reason
    assert world.executions() == []


def test_an_event_claiming_approved_for_a_version_pending_in_the_registry_is_skipped(
    world: TriggerWorld,
) -> None:
    # GIVEN an event that says Approved, while the registry still says Pending
    arn = world.register()
    event = world.event(arn)
    event["detail"]["ModelApprovalStatus"] = "Approved"

    # WHEN it arrives
    outcome = world.deliver(event)

    # THEN the registry wins
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_NOT_APPROVED
    assert "the event said Approved" in outcome.reason
    assert world.executions() == []


def test_an_event_of_another_group_is_skipped(world: TriggerWorld) -> None:
    # GIVEN an approved version in another group
    world.sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    arn = world.register(group="churn")
    world.approve(arn)

    # WHEN its event reaches this group's trigger
    outcome = world.deliver(world.event(arn, group="churn"))

    # THEN it is skipped, naming both groups
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_OTHER_GROUP
    assert outcome.reason == f"the package belongs to group churn; this trigger serves {GROUP}"
    assert world.executions() == []


def test_an_event_for_a_package_missing_from_the_registry_is_skipped(world: TriggerWorld) -> None:
    # GIVEN an event for version 7, which the registry does not have
    arn = world.register()
    missing = arn.rsplit("/", 1)[0] + "/7"
    with pytest.raises(ClientError) as raised:
        world.describe(missing)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == f"Model package {missing} not found"
    event = world.event(arn)
    event["detail"].update(
        ModelPackageArn=missing, ModelPackageVersion=7, ModelPackageName=f"{GROUP}/7"
    )

    # WHEN it arrives
    outcome = world.deliver(event)

    # THEN it is skipped as missing
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_MISSING
    assert outcome.reason == f"{missing} is not in the registry (DescribeModelPackage)"
    assert world.executions() == []


def test_an_approved_package_without_an_inference_specification_is_refused(
    world: TriggerWorld,
) -> None:
    # GIVEN an approved version registered without an InferenceSpecification
    arn = world.register(inference=False)
    world.approve(arn)

    # WHEN its event arrives
    outcome = world.deliver(world.event(arn))

    # THEN nothing starts and the reason names the field
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_INVALID
    assert "no InferenceSpecification" in outcome.reason
    assert world.executions() == []


def test_a_malformed_event_is_refused_naming_the_field_and_recorded(world: TriggerWorld) -> None:
    # GIVEN an event whose ModelPackageVersion is a string
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)
    event["detail"]["ModelPackageVersion"] = "one"

    # WHEN it arrives
    outcome = world.deliver(event)

    # THEN it is recorded as malformed, naming the field
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_MALFORMED
    assert outcome.reason == (
        "event.detail.ModelPackageVersion: expected a positive integer, got 'one'"
    )
    assert [o.outcome for o in world.outcomes_of(event["id"])] == [ledger.OUTCOME_SKIPPED_MALFORMED]
    assert world.executions() == []


def test_an_unexpected_failure_is_recorded_as_failed_then_replaced_by_the_retry(
    world: TriggerWorld,
) -> None:
    # GIVEN an approved version whose pipeline does not exist yet
    arn = world.register()
    world.approve(arn)
    event = world.event(arn)
    world.trigger.config = type(world.config)(
        **{**world.config.__dict__, "pipeline_name": "greenlight-missing"}
    )

    # WHEN the event arrives, the error is raised (for Lambda to retry) and recorded
    with pytest.raises(ClientError) as raised:
        world.deliver(event)
    assert raised.value.response["Error"]["Code"] == "PipelineNotFoundException"
    (failed,) = world.outcomes_of(event["id"])
    assert failed.outcome == ledger.OUTCOME_FAILED
    assert "PipelineNotFoundException" in failed.reason

    # AND WHEN the retry finds the pipeline
    world.trigger.config = world.config
    outcome = world.deliver(event)

    # THEN the one record of the event is now the start, on attempt 2
    assert [o.outcome for o in world.outcomes_of(event["id"])] == [ledger.OUTCOME_STARTED]
    assert outcome.attempts == 2
    assert len(world.executions()) == 1


# --- gates ------------------------------------------------------------------------------


def test_a_missing_required_report_refuses_notifies_and_writes_back(
    gated_world: TriggerWorld,
) -> None:
    world = gated_world
    # GIVEN a gated group and a version registered without its Bias report
    metrics = {k: v for k, v in ALL_REPORTS.items() if k != "Bias"}
    arn = world.register(metrics=metrics)
    world.approve(arn)

    # WHEN its approval arrives
    outcome = world.deliver(world.event(arn))

    # THEN nothing starts; the refusal is recorded, notified and written back
    assert outcome.outcome == ledger.OUTCOME_GATE_REJECTED
    assert "required report(s) missing from ModelMetrics: Bias" in outcome.reason
    assert world.executions() == []
    (message,) = world.notifications()
    assert message["Subject"] == f"Greenlight: {GROUP} version 1 refused by the gates"
    assert "required report(s) missing from ModelMetrics: Bias" in message["Message"]
    assert message["MessageAttributes"]["group"]["Value"] == GROUP
    assert message["MessageAttributes"]["outcome"]["Value"] == ledger.OUTCOME_GATE_REJECTED
    # (as a value SageMaker's CustomerMetadataProperties pattern accepts)
    written = world.describe(arn)["CustomerMetadataProperties"][GATE_METADATA_KEY]
    assert written.startswith("required reports missing from ModelMetrics: Bias / ")


def test_the_same_person_registering_and_approving_is_refused(gated_world: TriggerWorld) -> None:
    world = gated_world
    # GIVEN a version that the same Studio user registered and approved (as moto records)
    arn = world.register()
    world.approve(arn)
    package = world.describe(arn)
    assert package["CreatedBy"]["UserProfileName"] == package["LastModifiedBy"]["UserProfileName"]

    # WHEN its approval arrives
    outcome = world.deliver(world.event(arn))

    # THEN it is refused for separation of duties, naming the person
    assert outcome.outcome == ledger.OUTCOME_GATE_REJECTED
    assert outcome.reason == (
        "separation of duties: fake-domain-id/fake-user-profile-name both registered "
        "and approved this version"
    )
    (message,) = world.notifications()
    assert "separation of duties" in message["Message"]


def test_the_event_caused_by_the_gate_write_back_starts_nothing(
    gated_world: TriggerWorld,
) -> None:
    world = gated_world
    # GIVEN an approval the gates refused and wrote back to the registry
    arn = world.register(metrics={})
    world.approve(arn)
    world.deliver(world.event(arn))
    world.notifications()

    # WHEN the event SageMaker emits for that write-back arrives
    outcome = world.deliver(world.event(arn))

    # THEN it is a duplicate: no execution, no second notification
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert world.executions() == []
    assert world.notifications() == []


# --- rejection --------------------------------------------------------------------------


def test_rejecting_the_live_version_rolls_each_stage_back_to_the_previous_approved_one(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1 then version 2 deployed through staging and production
    first, second = world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.deploy_everywhere(second)

    # WHEN version 2 is rejected
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN each stage rolls back to version 1's execution, and the topic hears of it
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    rollbacks = [e for e in world.executions() if e["executionType"] == "ROLLBACK"]
    assert len(rollbacks) == len(STAGES)
    for rollback in rollbacks:
        assert rollback["trigger"]["triggerType"] == "ManualRollback"
        assert rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == good
        variables = world.variables(rollback["pipelineExecutionId"])
        assert variables[contract.VAR_MODEL_PACKAGE_ARN] == first
    assert set(outcome.stages) == set(STAGES)
    (message,) = world.notifications()
    assert message["MessageAttributes"]["outcome"]["Value"] == ledger.OUTCOME_ROLLBACK_STARTED


def test_a_rejection_records_each_rollback_execution_it_started_as_data(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1 then version 2 deployed through staging and production
    first, second = world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.deploy_everywhere(second)

    # WHEN version 2 is rejected
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN the outcome lists, per stage, the rollback execution and the v1 execution it
    # puts back, as CodePipeline knows them, and the ledger item reads back the same
    rollback_stage: dict[str, str] = {}
    for execution in world.executions():
        if execution["executionType"] == "ROLLBACK":
            record = world.codepipeline.execution_record(execution["pipelineExecutionId"])
            assert record.rollback_stage is not None
            rollback_stage[record.pipeline_execution_id] = record.rollback_stage
    assert sorted(outcome.rollbacks, key=lambda r: r.stage) == sorted(
        (
            ledger.RollbackStart(
                stage=stage,
                execution_id=execution_id,
                target_execution_id=good,
                target_version=1,
                target_arn=first,
            )
            for execution_id, stage in rollback_stage.items()
        ),
        key=lambda r: r.stage,
    )
    stored = world.trigger.ledger.get_outcome(GROUP, outcome.event_id)
    assert stored is not None
    assert stored.rollbacks == outcome.rollbacks


def test_rollback_skips_earlier_versions_that_are_no_longer_approved(
    world: TriggerWorld,
) -> None:
    # GIVEN versions 1, 2, 3 deployed in turn, and version 2 since rejected
    first, second, third = world.register(), world.register(), world.register()
    good = world.deploy_everywhere(first)
    world.deploy_everywhere(second)
    world.deploy_everywhere(third)
    world.reject(second)
    world.deliver(world.event(second))

    # WHEN version 3 is rejected
    world.reject(third)
    outcome = world.deliver(world.event(third))

    # THEN the stages go back to version 1, the last one still Approved
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    rollbacks = [e for e in world.executions() if e["executionType"] == "ROLLBACK"]
    assert {r["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] for r in rollbacks} == {good}


def test_rejecting_a_version_live_only_in_staging_rolls_back_staging_only(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1 everywhere, and version 2 through staging, waiting before production
    first, second = world.register(), world.register()
    world.deploy_everywhere(first)
    world.approve(second)
    started = world.deliver(world.event(second)).pipeline_execution_id
    assert started is not None
    world.engine.run_to_approval(started, contract.approval_stage_name(STAGES[1]))

    # WHEN version 2 is rejected
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN its execution is stopped and only staging rolls back
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert outcome.stopped_executions == (started,)
    assert set(outcome.stages) == {STAGES[0]}
    rollbacks = [e for e in world.executions() if e["executionType"] == "ROLLBACK"]
    assert len(rollbacks) == 1
    assert _succeeded_stages(world, started) == {contract.SOURCE_STAGE, STAGES[0]}


def test_rejecting_a_version_in_flight_stops_its_execution(world: TriggerWorld) -> None:
    # GIVEN version 1 running its Source stage, nothing deployed yet
    arn = world.register()
    world.approve(arn)
    started = world.deliver(world.event(arn)).pipeline_execution_id
    assert started is not None
    world.codepipeline.begin_action(started, contract.SOURCE_STAGE, contract.SOURCE_ACTION)

    # WHEN it is rejected
    world.reject(arn)
    outcome = world.deliver(world.event(arn))

    # THEN the execution is stopped (abandoned) and nothing rolls back
    assert outcome.outcome == ledger.OUTCOME_STOPPED
    assert outcome.stopped_executions == (started,)
    execution = world.codepipeline.get_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=started
    )["pipelineExecution"]
    assert execution["status"] == "Stopped"
    assert [e["executionType"] for e in world.executions()] == ["STANDARD"]


def test_rejecting_the_only_version_ever_deployed_records_rollback_none_and_notifies(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1, the only version ever deployed
    arn = world.register()
    world.deploy_everywhere(arn)

    # WHEN it is rejected
    world.reject(arn)
    outcome = world.deliver(world.event(arn))

    # THEN nothing is rolled back, the ledger says so, and the topic is told
    assert outcome.outcome == ledger.OUTCOME_ROLLBACK_NONE
    assert outcome.rollbacks == ()
    assert all("endpoint left alone" in text for text in outcome.stages.values())
    assert set(outcome.stages) == set(STAGES)
    assert [e["executionType"] for e in world.executions()] == ["STANDARD"]
    (message,) = world.notifications()
    assert message["MessageAttributes"]["outcome"]["Value"] == ledger.OUTCOME_ROLLBACK_NONE
    assert "NOT rolled back" in message["Subject"]


def test_rejecting_a_version_that_is_neither_live_nor_in_flight_is_only_recorded(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1 deployed, and version 2 registered but never approved
    first, second = world.register(), world.register()
    world.deploy_everywhere(first)

    # WHEN version 2 is rejected
    world.reject(second)
    outcome = world.deliver(world.event(second))

    # THEN it is recorded only: no stop, no rollback, no notification
    assert outcome.outcome == ledger.OUTCOME_RECORDED
    assert len(world.executions()) == 1
    assert world.notifications() == []


def test_a_duplicate_rejection_event_rolls_back_only_once(world: TriggerWorld) -> None:
    # GIVEN version 2 live over version 1, rejected and rolled back
    first, second = world.register(), world.register()
    world.deploy_everywhere(first)
    world.deploy_everywhere(second)
    world.reject(second)
    world.deliver(world.event(second))

    # WHEN another event for the same rejection arrives
    outcome = world.deliver(world.event(second))

    # THEN it is a duplicate and no further rollback starts
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert len([e for e in world.executions() if e["executionType"] == "ROLLBACK"]) == 2


# --- one outcome per event ----------------------------------------------------------------


def test_every_event_of_a_busy_day_has_exactly_one_ledger_record(world: TriggerWorld) -> None:
    # GIVEN a mix of creation, approval, duplicate, rejection and malformed events,
    # each delivered as it happens
    events: list[dict[str, Any]] = []

    def happen(event: dict[str, Any]) -> None:
        events.append(event)
        world.deliver(event)

    first, second = world.register(), world.register()
    happen(world.event(first))
    world.approve(first)
    happen(world.event(first))
    happen(world.event(first))
    world.approve(second)
    happen(world.event(second))
    world.reject(second)
    happen(world.event(second))
    happen({**world.event(first), "detail": "not an object"})

    # WHEN EventBridge delivers every one of them again
    for event in events:
        world.deliver(event)

    # THEN the ledger holds one outcome per event id, no more
    recorded = [o.event_id for o in world.outcomes()]
    assert sorted(recorded) == sorted(e["id"] for e in events)
    item_count = world.dynamodb.scan(
        TableName=world.table,
        FilterExpression="kind = :k",
        ExpressionAttributeValues={":k": {"S": "trigger-outcome"}},
    )["Count"]
    assert item_count == len(events)
    assert json.dumps(sorted(o.outcome for o in world.outcomes())) == json.dumps(
        sorted(
            [
                ledger.OUTCOME_SKIPPED_NOT_APPROVED,
                ledger.OUTCOME_STARTED,
                ledger.OUTCOME_SKIPPED_DUPLICATE,
                ledger.OUTCOME_STARTED,
                ledger.OUTCOME_STOPPED,
                ledger.OUTCOME_SKIPPED_MALFORMED,
            ]
        )
    )


# --- the Lambda entry point ------------------------------------------------------------------


def _registered(world: TriggerWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler module in a fresh execution environment, with the environment the
    shared stack sets and the group's registry entry its stack writes."""
    from approval_trigger import handler

    monkeypatch.setenv(contract.ENV_LEDGER_TABLE, world.table)
    monkeypatch.setenv(contract.ENV_TOPIC_ARN, world.topic_arn)
    entry = GroupEntry(
        group=GROUP,
        pipeline_name=world.pipeline,
        stages=STAGES,
        gates={"requiredReports": [], "separationOfDuties": False},
    )
    boto3.client("ssm").put_parameter(
        Name=contract.group_registry_parameter(GROUP), Value=entry.to_json(), Type="String"
    )
    monkeypatch.setattr(handler, "_triggers", PerGroup(handler._triggers._build))
    return handler


def test_the_handler_reads_the_group_registry_and_returns_the_recorded_outcome(
    world: TriggerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the shared trigger's environment and the group's registry entry
    handler = _registered(world, monkeypatch)
    event = world.event(world.register())
    del event["detail"]["ModelApprovalStatus"]

    # WHEN the Lambda runtime calls the handler
    result = handler.handler(event, None)

    # THEN it returns the outcome it recorded in the ledger for that group
    assert result == {
        "eventId": event["id"],
        "outcome": ledger.OUTCOME_SKIPPED_MALFORMED,
        "reason": "event.detail.ModelApprovalStatus: missing",
        "pipelineExecutionId": None,
    }
    assert [o.outcome for o in world.outcomes_of(event["id"])] == [ledger.OUTCOME_SKIPPED_MALFORMED]


def test_an_event_of_a_group_with_no_registry_entry_fails_naming_the_parameter(
    world: TriggerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the registry holds the group, and an event of a group whose stack is gone
    handler = _registered(world, monkeypatch)
    event = world.event(world.register())
    event["detail"]["ModelPackageGroupName"] = "retired-group"

    # WHEN the handler gets it THEN it fails (Lambda retries, then the dead-letter queue)
    # with the parameter it looked for named
    with pytest.raises(UnknownGroup, match="/greenlight/groups/retired-group"):
        handler.handler(event, None)
