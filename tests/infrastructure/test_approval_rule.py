"""The approval rule, evaluated as synthesized, and how failed deliveries are kept."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from moto import mock_aws

from shared import contract
from stacks.shared_refs import export_name
from tests.infrastructure.conftest import Synthesized, delivered_through_rule, load_event

pytestmark = pytest.mark.infrastructure

GROUP = "house-price-linear-learner"


def _rule_pattern(synth: Synthesized, group: str) -> dict[str, Any]:
    patterns = [
        rule["Properties"]["EventPattern"]
        for stack in synth.every_stack()
        for rule in stack.resources("AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"]["source"] == ["aws.sagemaker"]
        and group in rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"]
    ]
    assert len(patterns) == 1, f"expected one rule for {group}, found {len(patterns)}"
    pattern: dict[str, Any] = patterns[0]
    return pattern


@pytest.mark.parametrize(
    "event_file", ["model_package_approved.json", "model_package_rejected.json"]
)
def test_synthesized_rule_pattern_matches_an_approval_change_of_its_group(
    example: Synthesized, aws_credentials: None, event_file: str
) -> None:
    # GIVEN the rule's pattern as synthesized and a recorded event of this group
    pattern = _rule_pattern(example, GROUP)
    event = load_event(event_file)

    # WHEN the event is put on a bus with that rule
    with mock_aws():
        delivered = delivered_through_rule(pattern, event)

    # THEN it reaches the target, detail intact
    assert len(delivered) == 1
    assert delivered[0]["detail"]["ModelPackageArn"] == event["detail"]["ModelPackageArn"]


def test_synthesized_rule_pattern_ignores_another_groups_approval(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN an Approved event of another model package group
    event = copy.deepcopy(load_event("model_package_approved.json"))
    event["detail"]["ModelPackageGroupName"] = "some-other-group"

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_rule_pattern(example, GROUP), event) == []


def test_synthesized_rule_pattern_ignores_a_non_sagemaker_event_with_the_same_detail(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN an event with this group's approved detail but another source
    event = copy.deepcopy(load_event("model_package_approved.json"))
    event["source"] = "com.example.registry"

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_rule_pattern(example, GROUP), event) == []


def test_synthesized_rule_pattern_ignores_the_pending_event_sent_on_registration(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN the event SageMaker sends when a version is registered (PendingManualApproval)
    event = load_event("model_package_created_pending.json")

    # WHEN it is put on the bus THEN nothing is delivered
    with mock_aws():
        assert delivered_through_rule(_rule_pattern(example, GROUP), event) == []


def test_each_group_has_its_own_rule(gated: Synthesized) -> None:
    # GIVEN the two-group app THEN there is one rule per group, each naming only its group
    for group in ("fraud-detector", "churn-predictor"):
        assert _rule_pattern(gated, group)["detail"]["ModelPackageGroupName"] == [group]


def test_each_group_stack_sends_its_rule_to_the_shared_trigger_with_retries_and_a_dlq(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        # GIVEN the group's stack
        template = synthesized.group(group.name).template

        # THEN its one rule, named for the group, targets the shared trigger by export,
        # with a retry policy and the shared dead-letter queue
        template.resource_count_is("AWS::Events::Rule", 1)
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "Name": contract.approval_rule_name(group.name),
                "Targets": [
                    Match.object_like(
                        {
                            "Arn": {"Fn::ImportValue": export_name("trigger_function_arn")},
                            "RetryPolicy": {
                                "MaximumRetryAttempts": 20,
                                "MaximumEventAgeInSeconds": 6 * 3600,
                            },
                            "DeadLetterConfig": {
                                "Arn": {
                                    "Fn::ImportValue": export_name("trigger_dead_letter_queue_arn")
                                }
                            },
                        }
                    )
                ],
            },
        )
        # AND the group stack adds no permission to the shared trigger's resource policy
        assert synthesized.group(group.name).resources("AWS::Lambda::Permission") == {}


def test_one_permission_admits_every_group_s_approval_rule_to_the_trigger(
    synthesized: Synthesized,
) -> None:
    # GIVEN the shared stack's permissions on the trigger
    trigger_id = synthesized.function_id("approval_trigger.handler.handler")
    permissions = [
        p["Properties"]
        for p in synthesized.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [trigger_id, "Arn"]}
    ]

    # THEN there is one, for EventBridge rules named greenlight-approval-* in this account
    # only (a statement per group would outgrow Lambda's 20 KB resource policy)
    (permission,) = permissions
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    source = json.dumps(permission["SourceArn"])
    assert ":rule/greenlight-approval-*" in source


def test_the_shared_rule_dead_letter_queue_is_encrypted_and_admits_only_greenlight_rules(
    synthesized: Synthesized,
) -> None:
    # GIVEN the queue the shared stack exports for the approval rules
    queue_id = synthesized.exported_id("trigger_dead_letter_queue_arn")
    # THEN it is encrypted and refuses non-TLS access
    synthesized.assert_encrypted_tls_only_queue(queue_id)
    # AND EventBridge may send to it only for rules named greenlight-*
    synthesized.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Condition": {
                                    "ArnLike": {
                                        "aws:SourceArn": {
                                            "Fn::Join": [
                                                "",
                                                Match.array_with(
                                                    [
                                                        Match.string_like_regexp(
                                                            ":rule/greenlight-\\*$"
                                                        )
                                                    ]
                                                ),
                                            ]
                                        }
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


def test_trigger_function_keeps_failed_asynchronous_invocations_in_an_encrypted_queue(
    synthesized: Synthesized,
) -> None:
    # GIVEN the shared trigger function
    function_id = synthesized.function_id("approval_trigger.handler.handler")
    function = synthesized.template_json["Resources"][function_id]["Properties"]

    # THEN failed asynchronous invocations land in an encrypted queue
    queue_id = function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    dlq = synthesized.template_json["Resources"][queue_id]
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True

    # AND Lambda's own retries are bounded
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_id},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
        },
    )
