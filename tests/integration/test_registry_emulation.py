"""The registry emulation makes moto's SageMaker registry behave as AWS's does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_scripts.emulation.registry import RegistryEmulation, registry_emulation

REGION = "us-east-1"
DATA_SCIENTIST = "AKIADATASCIENTIST001"
REVIEWER = "AKIAREVIEWER00000001"
SPEC = {
    "Containers": [{"Image": "img", "ModelDataUrl": "s3://models/v1/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def _client(key: str) -> Any:
    return boto3.client(
        "sagemaker", region_name=REGION, aws_access_key_id=key, aws_secret_access_key="x"
    )


@pytest.fixture
def emulation() -> Iterator[RegistryEmulation]:
    with mock_aws(), registry_emulation() as installed:
        _client(DATA_SCIENTIST).create_model_package_group(ModelPackageGroupName="prices")
        yield installed


def _register() -> str:
    arn: str = _client(DATA_SCIENTIST).create_model_package(
        ModelPackageGroupName="prices",
        InferenceSpecification=SPEC,
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    return arn


def test_creating_a_version_emits_the_documented_state_change_event(
    emulation: RegistryEmulation,
) -> None:
    # WHEN a data scientist registers a version
    arn = _register()

    # THEN one event shaped like SageMaker's is sent, pending approval
    (event,) = emulation.emitted.values()
    assert event["source"] == "aws.sagemaker"
    assert event["detail-type"] == "SageMaker Model Package State Change"
    assert event["resources"] == [arn]
    detail = event["detail"]
    assert detail["ModelPackageArn"] == arn
    assert detail["ModelPackageName"] == "prices/1"
    assert detail["ModelPackageVersion"] == 1
    assert detail["ModelApprovalStatus"] == "PendingManualApproval"
    assert isinstance(detail["CreationTime"], int)
    assert "CreatedBy" not in detail
    assert "ApprovalDescription" not in detail


def test_emitted_events_reach_rules_on_the_default_bus(emulation: RegistryEmulation) -> None:
    # GIVEN a rule for approvals that delivers to a queue
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="approvals",
        EventPattern=json.dumps(
            {"source": ["aws.sagemaker"], "detail": {"ModelApprovalStatus": ["Approved"]}}
        ),
    )
    events.put_targets(Rule="approvals", Targets=[{"Id": "queue", "Arn": queue_arn}])
    arn = _register()

    # WHEN a reviewer approves it
    _client(REVIEWER).update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    # THEN only the approval event matched the rule
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    delivered = json.loads(messages[0]["Body"])
    assert emulation.emitted[delivered["id"]]["detail"]["ModelApprovalStatus"] == "Approved"


def test_an_update_changes_only_the_fields_it_is_given(emulation: RegistryEmulation) -> None:
    # GIVEN an approved version with a description and metadata
    arn = _register()
    reviewer = _client(REVIEWER)
    reviewer.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="looks good"
    )
    reviewer.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"a": "1"})

    # WHEN only metadata and the life cycle are written back
    reviewer.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"b": "2"},
        ModelLifeCycle={"Stage": "staging", "StageStatus": "Deployed"},
    )

    # THEN approval and description survive, metadata merges, the life cycle is kept
    described = reviewer.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "looks good"
    assert described["CustomerMetadataProperties"] == {"a": "1", "b": "2"}
    assert described["ModelLifeCycle"] == {"Stage": "staging", "StageStatus": "Deployed"}


def test_creator_and_last_modifier_are_the_callers_who_did_it(
    emulation: RegistryEmulation,
) -> None:
    # GIVEN a version registered by one person
    arn = _register()

    # WHEN another person approves it
    _client(REVIEWER).update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    # THEN the registry names both
    described = _client(REVIEWER).describe_model_package(ModelPackageName=arn)
    assert described["CreatedBy"]["IamIdentity"]["Arn"].endswith(f"user/{DATA_SCIENTIST}")
    assert described["LastModifiedBy"]["IamIdentity"]["Arn"].endswith(f"user/{REVIEWER}")


def test_get_caller_identity_names_the_person_the_registry_records(
    emulation: RegistryEmulation,
) -> None:
    # GIVEN a person with their own access key
    sts = boto3.client(
        "sts", region_name=REGION, aws_access_key_id=REVIEWER, aws_secret_access_key="x"
    )

    # WHEN they ask STS who they are
    identity = sts.get_caller_identity()

    # THEN STS names the IAM user the registry records for that key, not moto's one user
    assert identity["Arn"] == f"arn:aws:iam::123456789012:user/{REVIEWER}"
    assert (identity["UserId"], identity["Account"]) == (REVIEWER, "123456789012")


def test_uninstalling_restores_moto_behaviour() -> None:
    with mock_aws():
        # GIVEN the emulation was installed and then removed
        with registry_emulation():
            pass
        client = _client(DATA_SCIENTIST)
        client.create_model_package_group(ModelPackageGroupName="prices")
        arn = _register()

        # WHEN a version is updated without its approval status
        client.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"a": "1"})

        # THEN moto's own behaviour (status cleared) is back
        described = client.describe_model_package(ModelPackageName=arn)
        assert "ModelApprovalStatus" not in described
