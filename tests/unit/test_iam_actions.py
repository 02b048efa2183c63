"""A request's IAM actions and resource ARNs, from the Service Authorization Reference."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_scripts.emulation.checkpoint import ServiceRequest
from pipeline_scripts.emulation.iam_actions import UnknownAction, authorizations

ACCOUNT = "123456789012"
SAGEMAKER = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}"
PIPELINE = f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:greenlight-houses"


def _request(service: str, operation: str, **params: Any) -> ServiceRequest:
    return ServiceRequest(
        service=service,
        operation=operation,
        params=params,
        access_key="ASIAEXAMPLE",
        account=ACCOUNT,
        region="us-east-1",
    )


def _asked(request: ServiceRequest) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in authorizations(request)]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            _request(
                "codepipeline",
                "RollbackStage",
                pipelineName="greenlight-houses",
                stageName="production",
                targetPipelineExecutionId="e",
            ),
            [("codepipeline:RollbackStage", f"{PIPELINE}/production")],
        ),
        (
            _request("codepipeline", "StartPipelineExecution", name="greenlight-houses"),
            [("codepipeline:StartPipelineExecution", PIPELINE)],
        ),
        (
            _request(
                "codepipeline",
                "PutApprovalResult",
                pipelineName="greenlight-houses",
                stageName="production",
                actionName="Approve",
            ),
            [("codepipeline:PutApprovalResult", f"{PIPELINE}/production/Approve")],
        ),
        (
            _request("codepipeline", "PutJobSuccessResult", jobId="j"),
            [("codepipeline:PutJobSuccessResult", "*")],
        ),
        (
            _request(
                "sagemaker",
                "UpdateEndpoint",
                EndpointName="houses",
                EndpointConfigName="houses-v2-abc",
            ),
            [
                ("sagemaker:UpdateEndpoint", f"{SAGEMAKER}:endpoint/houses"),
                ("sagemaker:UpdateEndpoint", f"{SAGEMAKER}:endpoint-config/houses-v2-abc"),
            ],
        ),
        (
            _request("sagemaker-runtime", "InvokeEndpoint", EndpointName="houses", Body=b"1"),
            [("sagemaker:InvokeEndpoint", f"{SAGEMAKER}:endpoint/houses")],
        ),
        (
            _request(
                "sagemaker",
                "DescribeModelPackage",
                ModelPackageName=f"{SAGEMAKER}:model-package/houses/3",
            ),
            [("sagemaker:DescribeModelPackage", f"{SAGEMAKER}:model-package/houses/3")],
        ),
        (
            _request("sagemaker", "ListModels", NameContains="houses"),
            [("sagemaker:ListModels", "*")],
        ),
        (
            _request("cloudwatch", "DescribeAlarms", AlarmNames=["a-5xx", "a-latency"]),
            [
                (
                    "cloudwatch:DescribeAlarms",
                    f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:a-5xx",
                ),
                (
                    "cloudwatch:DescribeAlarms",
                    f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:a-latency",
                ),
            ],
        ),
        (
            _request("cloudwatch", "DescribeAlarms", AlarmNamePrefix="a-"),
            [("cloudwatch:DescribeAlarms", "*")],
        ),
        (
            _request("sns", "Publish", TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t", Message="m"),
            [("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:t")],
        ),
        (
            _request("dynamodb", "Query", TableName="ledger"),
            [("dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/ledger")],
        ),
        (_request("s3", "ListBuckets"), [("s3:ListAllMyBuckets", "*")]),
        (
            _request("s3", "GetObject", Bucket="b", Key="k/x.zip"),
            [("s3:GetObject", "arn:aws:s3:::b/k/x.zip")],
        ),
        (_request("sts", "GetCallerIdentity"), []),
    ],
    ids=lambda value: value.operation if isinstance(value, ServiceRequest) else "",
)
def test_each_action_is_authorized_on_the_arn_its_resource_type_formats(
    request_: ServiceRequest, expected: list[tuple[str, str]]
) -> None:
    # GIVEN a request as the checkpoint decodes it
    # WHEN its authorizations are derived from the Service Authorization Reference
    # THEN each action is asked on the ARN its resource type's format gives, or on "*"
    assert _asked(request_) == expected


def test_create_model_passes_its_execution_role_to_sagemaker_and_tags_the_model() -> None:
    # GIVEN a CreateModel with an execution role and tags
    role = f"arn:aws:iam::{ACCOUNT}:role/models"
    request = _request(
        "sagemaker",
        "CreateModel",
        ModelName="houses-v1-abc",
        ExecutionRoleArn=role,
        Tags=[{"Key": "k", "Value": "v"}],
    )

    # WHEN its authorizations are derived
    asked = authorizations(request)

    # THEN it is CreateModel on the model, PassRole of the role to SageMaker, and AddTags
    assert [(a.action, a.resource) for a in asked] == [
        ("sagemaker:CreateModel", f"{SAGEMAKER}:model/houses-v1-abc"),
        ("iam:PassRole", role),
        ("sagemaker:AddTags", f"{SAGEMAKER}:model/houses-v1-abc"),
    ]
    assert asked[1].context == {
        "iam:passedtoservice": "sagemaker.amazonaws.com",
        "aws:requesttag/k": "v",
    }


def test_create_endpoint_with_tags_adds_tags_to_the_endpoint_only() -> None:
    # GIVEN a CreateEndpoint with tags
    request = _request(
        "sagemaker",
        "CreateEndpoint",
        EndpointName="houses",
        EndpointConfigName="houses-v1",
        Tags=[{"Key": "k", "Value": "v"}],
    )
    # WHEN its authorizations are derived
    # THEN AddTags is asked on the endpoint (what it creates), not on the config it uses
    assert _asked(request)[-1] == ("sagemaker:AddTags", f"{SAGEMAKER}:endpoint/houses")
    assert [a for a, _ in _asked(request)].count("sagemaker:AddTags") == 1


def test_the_tags_a_request_attaches_are_its_request_tag_context_on_every_authorization() -> None:
    # GIVEN a CreateEndpoint tagged with Greenlight's endpoint tag (key as written)
    request = _request(
        "sagemaker",
        "CreateEndpoint",
        EndpointName="houses",
        EndpointConfigName="houses-v1",
        Tags=[{"Key": "greenlight:endpoint", "Value": "houses"}],
    )
    # WHEN its authorizations are derived
    asked = authorizations(request)

    # THEN each (the endpoint, its config, AddTags) carries aws:RequestTag/greenlight:endpoint
    assert len(asked) == 3
    for each in asked:
        assert each.context == {"aws:requesttag/greenlight:endpoint": "houses"}, each.action
    # AND a request with no tags carries none
    untagged = _request("sagemaker", "DeleteEndpoint", EndpointName="houses")
    assert [a.context for a in authorizations(untagged)] == [{}]


def test_an_ssm_parameter_arn_drops_the_names_leading_slash() -> None:
    request = _request("ssm", "GetParameter", Name="/greenlight/groups/houses")
    assert _asked(request) == [
        ("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/greenlight/groups/houses")
    ]


def test_a_dynamodb_transaction_is_authorized_item_by_item() -> None:
    # GIVEN a transaction with two puts and a condition check
    request = _request(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "ledger", "Item": {}}},
            {"ConditionCheck": {"TableName": "ledger", "Key": {}}},
            {"Put": {"TableName": "other", "Item": {}}},
        ],
    )
    # WHEN its authorizations are derived
    # THEN each item is its own action on its own table
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"
    assert _asked(request) == [
        ("dynamodb:PutItem", f"{table}/ledger"),
        ("dynamodb:ConditionCheckItem", f"{table}/ledger"),
        ("dynamodb:PutItem", f"{table}/other"),
    ]


def test_an_operation_iam_does_not_know_is_refused() -> None:
    # GIVEN an operation with no action of that name in the reference
    # WHEN its authorizations are derived
    # THEN it is an unknown action, named
    with pytest.raises(UnknownAction, match="sagemaker:MakeItFaster"):
        authorizations(_request("sagemaker", "MakeItFaster"))


def test_create_model_from_a_versioned_package_also_reads_the_package() -> None:
    # GIVEN a CreateModel whose container is a model package version of another account
    package = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3"
    request = _request(
        "sagemaker",
        "CreateModel",
        ModelName="churn-production-v3-abcdef",
        Containers=[{"ModelPackageName": package}],
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/model",
    )
    # WHEN its authorizations are listed
    asked = _asked(request)
    # THEN it is authorized on the model it creates and reads the package as the caller
    assert ("sagemaker:CreateModel", f"{SAGEMAKER}:model/churn-production-v3-abcdef") in asked
    assert ("sagemaker:DescribeModelPackage", package) in asked
