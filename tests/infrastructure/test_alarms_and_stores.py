"""Stage alarms, the ledger, the topic, the key and the model registry groups."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from shared import contract
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def test_each_stage_has_5xx_and_latency_alarms_with_its_thresholds(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        template = synthesized.group(group.name).template
        expected = 0
        for stage in group.stages:
            dimensions = Match.array_equals(
                [
                    {"Name": "EndpointName", "Value": stage.endpoint_name},
                    {"Name": "VariantName", "Value": contract.VARIANT_NAME},
                ]
            )
            common = {
                "Namespace": "AWS/SageMaker",
                "Dimensions": dimensions,
                "Statistic": "Average",
                "Period": 60,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "EvaluationPeriods": stage.alarms.evaluation_periods,
                "DatapointsToAlarm": stage.alarms.datapoints_to_alarm,
            }
            template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    **common,
                    "AlarmName": contract.alarm_name(group.name, stage.name, "5xx"),
                    "MetricName": "Invocation5XXErrors",
                    "Threshold": stage.alarms.error_rate_5xx,
                },
            )
            # ModelLatency is in microseconds; the configuration speaks milliseconds.
            template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    **common,
                    "AlarmName": contract.alarm_name(group.name, stage.name, "latency"),
                    "MetricName": "ModelLatency",
                    "Threshold": stage.alarms.model_latency_ms * 1000,
                },
            )
            expected += 2
            if stage.alarms.error_rate_4xx is not None:
                template.has_resource_properties(
                    "AWS::CloudWatch::Alarm",
                    {
                        **common,
                        "AlarmName": contract.alarm_name(group.name, stage.name, "4xx"),
                        "MetricName": "Invocation4XXErrors",
                        "Threshold": stage.alarms.error_rate_4xx,
                    },
                )
                expected += 1
        template.resource_count_is("AWS::CloudWatch::Alarm", expected)
    synthesized.template.resource_count_is("AWS::CloudWatch::Alarm", 0)


def test_latency_threshold_is_converted_from_ms_to_microseconds(gated: Synthesized) -> None:
    gated.group("fraud-detector").template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": contract.alarm_name("fraud-detector", "production", "latency"),
            "Threshold": 80500,
        },
    )


def test_ledger_is_one_kms_encrypted_on_demand_table_with_pitr_and_deletion_protection(
    synthesized: Synthesized,
) -> None:
    synthesized.template.resource_count_is("AWS::DynamoDB::Table", 1)
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    synthesized.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "KeySchema": [
                        {"AttributeName": contract.LEDGER_PARTITION_KEY, "KeyType": "HASH"},
                        {"AttributeName": contract.LEDGER_SORT_KEY, "KeyType": "RANGE"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "DeletionProtectionEnabled": True,
                    "SSESpecification": {
                        "SSEEnabled": True,
                        "SSEType": "KMS",
                        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                    },
                }
            ),
        },
    )


def test_key_rotates_and_is_retained(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::KMS::Key", 1)
    synthesized.template.has_resource(
        "AWS::KMS::Key",
        {"DeletionPolicy": "Retain", "Properties": Match.object_like({"EnableKeyRotation": True})},
    )


def test_topic_is_kms_encrypted(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::SNS::Topic", 1)
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    synthesized.template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )


def test_email_subscriptions_come_from_the_configuration(
    example: Synthesized, gated: Synthesized
) -> None:
    example.template.resource_count_is("AWS::SNS::Subscription", 0)
    gated.template.resource_count_is("AWS::SNS::Subscription", 2)
    for email in gated.config.notification_emails:
        gated.template.has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email}
        )


def test_each_group_stack_retains_its_own_model_package_group(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)
    for group in synthesized.config.model_groups:
        template = synthesized.group(group.name).template
        template.resource_count_is("AWS::SageMaker::ModelPackageGroup", 1)
        template.has_resource(
            "AWS::SageMaker::ModelPackageGroup",
            {
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": Match.object_like({"ModelPackageGroupName": group.name}),
            },
        )


def test_shared_group_has_a_resource_policy_for_the_listed_accounts_only(
    gated: Synthesized,
) -> None:
    groups = {
        resource["Properties"]["ModelPackageGroupName"]: resource["Properties"]
        for stack in gated.groups.values()
        for resource in stack.resources("AWS::SageMaker::ModelPackageGroup").values()
    }
    assert "ModelPackageGroupPolicy" not in groups["churn-predictor"]
    (statement,) = groups["fraud-detector"]["ModelPackageGroupPolicy"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert "111122223333" in str(statement["Principal"])
    assert set(statement["Action"]) == {
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
        "sagemaker:CreateModel",
    }


def test_execution_role_is_created_only_when_no_arn_is_configured(gated: Synthesized) -> None:
    sagemaker_roles = [
        role
        for stack in gated.every_stack()
        for role in stack.resources("AWS::IAM::Role").values()
        if "sagemaker.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(sagemaker_roles) == 1
    assert "fraud-detector" in sagemaker_roles[0]["Properties"]["Description"]
    # under the path the shared Deploy may pass
    assert sagemaker_roles[0]["Properties"]["Path"] == contract.EXECUTION_ROLE_PATH
