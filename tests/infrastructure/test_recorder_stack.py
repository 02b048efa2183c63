"""The shared recorder: its one rule (evaluated as synthesized), its function and its
role, and how undeliverable or failing events are kept."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match
from moto import mock_aws

from shared import contract
from tests.infrastructure.conftest import (
    REPO,
    Synthesized,
    as_list,
    delivered_through_rule,
    load_event,
    render,
)

pytestmark = pytest.mark.infrastructure

GROUP = "house-price-linear-learner"
HANDLER = "recorder.handler.handler"
#: Every recorded CodePipeline state-change event (execution, stage and action).
STATE_CHANGE_EVENTS = sorted(
    path.name for path in (REPO / "tests" / "events").glob("codepipeline_*_state_change_*.json")
)


def _recorder_pattern(synth: Synthesized, _group: str = GROUP) -> dict[str, Any]:
    """The one recorder rule's pattern (every group's pipeline goes through it)."""
    patterns = [
        rule["Properties"]["EventPattern"]
        for stack in synth.every_stack()
        for rule in stack.resources("AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"]["source"] == [contract.PIPELINE_EVENT_SOURCE]
    ]
    assert len(patterns) == 1, f"expected one recorder rule, found {len(patterns)}"
    pattern: dict[str, Any] = patterns[0]
    return pattern


def test_recordings_cover_execution_stage_and_action_state_changes() -> None:
    # GIVEN the recorded CodePipeline events THEN each of the three detail types is there
    detail_types = {load_event(name)["detail-type"] for name in STATE_CHANGE_EVENTS}
    assert detail_types == set(contract.PIPELINE_DETAIL_TYPES)


@pytest.mark.parametrize("event_file", STATE_CHANGE_EVENTS)
def test_synthesized_recorder_pattern_matches_every_state_change_of_its_pipeline(
    example: Synthesized, aws_credentials: None, event_file: str
) -> None:
    # GIVEN the recorder rule's pattern as synthesized and a recorded event of this pipeline
    pattern = _recorder_pattern(example, GROUP)
    event = load_event(event_file)
    assert event["detail"]["pipeline"] == contract.pipeline_name(GROUP)

    # WHEN the event is put on a bus with that rule
    with mock_aws():
        delivered = delivered_through_rule(pattern, event)

    # THEN it reaches the target with its detail intact
    assert len(delivered) == 1
    assert delivered[0]["detail"] == event["detail"]


def test_synthesized_recorder_pattern_ignores_another_pipelines_state_change(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN a stage failure of a pipeline Greenlight did not name
    event = copy.deepcopy(load_event("codepipeline_stage_execution_state_change_failed.json"))
    event["detail"]["pipeline"] = "someone-elses-pipeline"

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_recorder_pattern(example, GROUP), event) == []


def test_synthesized_recorder_pattern_ignores_another_source_with_the_same_detail(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN this pipeline's stage failure sent by something other than CodePipeline
    event = copy.deepcopy(load_event("codepipeline_stage_execution_state_change_failed.json"))
    event["source"] = "com.example.pipelines"

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_recorder_pattern(example, GROUP), event) == []


def test_synthesized_recorder_pattern_ignores_the_registry_approval_event(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN the SageMaker approval event (the trigger's input, not the recorder's)
    event = load_event("model_package_approved.json")

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_recorder_pattern(example, GROUP), event) == []


def test_one_recorder_rule_in_the_shared_stack_for_every_greenlight_pipeline(
    gated: Synthesized,
) -> None:
    assert _recorder_pattern(gated) == {
        "source": [contract.PIPELINE_EVENT_SOURCE],
        "detail-type": list(contract.PIPELINE_DETAIL_TYPES),
        "detail": {"pipeline": [{"prefix": contract.NAME_PREFIX}]},
    }
    gated.template.has_resource_properties(
        "AWS::Events::Rule", {"Name": contract.RECORDER_RULE_NAME}
    )


def test_recorder_pattern_passes_another_groups_pipeline_too(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN a state change of a group the app does not configure yet
    event = copy.deepcopy(load_event("codepipeline_stage_execution_state_change_failed.json"))
    event["detail"]["pipeline"] = contract.pipeline_name("added-later")

    # WHEN it is put on the bus THEN the recorder gets it (and looks the group up)
    with mock_aws():
        assert len(delivered_through_rule(_recorder_pattern(example), event)) == 1


def test_recorder_rule_targets_the_recorder_with_retries_and_an_encrypted_ssl_only_dlq(
    synthesized: Synthesized,
) -> None:
    # GIVEN the recorder function and its rule
    function_id = synthesized.function_id(HANDLER)
    queue = Capture()
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": contract.RECORDER_RULE_NAME,
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [function_id, "Arn"]},
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 20,
                            "MaximumEventAgeInSeconds": 6 * 3600,
                        },
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
                    }
                )
            ],
        },
    )
    # THEN the dead-letter queue is encrypted and refuses non-TLS access
    synthesized.assert_encrypted_tls_only_queue(queue.as_string())


def test_recorder_keeps_failed_asynchronous_invocations_in_its_own_encrypted_queue(
    synthesized: Synthesized,
) -> None:
    # GIVEN the recorder and trigger functions
    recorder_id = synthesized.function_id(HANDLER)
    trigger_id = synthesized.function_id("approval_trigger.handler.handler")
    resources = synthesized.template_json["Resources"]
    recorder_dlq = resources[recorder_id]["Properties"]["DeadLetterConfig"]["TargetArn"]

    # THEN the recorder's failures go to an encrypted queue of its own
    queue_id = recorder_dlq["Fn::GetAtt"][0]
    assert resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    assert resources[trigger_id]["Properties"]["DeadLetterConfig"]["TargetArn"] != recorder_dlq

    # AND Lambda's own retries are bounded
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": recorder_id},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
        },
    )


def _by_action(statements: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Action → the resources (rendered) that some statement allows it on."""
    allowed: dict[str, list[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            allowed.setdefault(action, []).extend(
                render(resource) for resource in as_list(statement["Resource"])
            )
    return allowed


PREFIX = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:"


def test_recorder_role_allows_exactly_its_ledger_registry_pipeline_and_topic_calls(
    synthesized: Synthesized,
) -> None:
    (ledger_id,) = synthesized.resources("AWS::DynamoDB::Table")
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    # GIVEN the recorder's role
    allowed = _by_action(synthesized.role_statements(synthesized.function_id(HANDLER)))

    # THEN it may write to the ledger, but not delete from it
    for action in ("GetItem", "PutItem", "Query"):
        assert allowed[f"dynamodb:{action}"] == [f"<{ledger_id}.Arn>"], action
    assert "dynamodb:DeleteItem" not in allowed
    assert "dynamodb:UpdateItem" not in allowed
    # AND write back to model versions (any group's: versions carry no Greenlight tag)
    assert allowed["sagemaker:UpdateModelPackage"] == [
        PREFIX.format(service="sagemaker") + "model-package/*/*"
    ]
    # AND read Greenlight's pipelines only, never drive them
    pipeline_actions = {a for a in allowed if a.startswith("codepipeline:")}
    assert pipeline_actions == {
        "codepipeline:GetPipelineExecution",
        "codepipeline:ListActionExecutions",
        "codepipeline:ListPipelineExecutions",
    }
    for action in pipeline_actions:
        assert allowed[action] == [PREFIX.format(service="codepipeline") + "greenlight-*"]
    # AND read the group registry
    assert allowed["ssm:GetParameter"] == [
        PREFIX.format(service="ssm") + "parameter/greenlight/groups/*"
    ]
    # AND publish to the topic, with the stack key
    assert allowed["sns:Publish"] == [f"<{topic_id}>"]
    assert allowed["kms:GenerateDataKey"] == [f"<{key_id}.Arn>"]
    assert allowed["kms:Decrypt"] == [f"<{key_id}.Arn>"]
    # AND nothing else than its logs and its failure queue
    assert set(allowed) - {
        *(f"dynamodb:{a}" for a in ("GetItem", "PutItem", "Query")),
        "sagemaker:UpdateModelPackage",
        *pipeline_actions,
        "ssm:GetParameter",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    } == {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
