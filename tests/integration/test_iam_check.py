"""The IAM check at the checkpoint: a function's calls are evaluated against its role,
and a denial reaches the caller as the service's AccessDenied, worded as AWS words it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.iam import IamCheck, Role, function_access_key

ACCOUNT = "123456789012"
FUNCTION = "greenlight-bake"
ROLE = Role(
    name="bake-role",
    arn=f"arn:aws:iam::{ACCOUNT}:role/bake-role",
    statements=(
        {
            "Sid": "ReadStageAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:houses-*",
        },
        {
            "Effect": "Allow",
            "Action": ["codepipeline:PutJobSuccessResult", "codepipeline:GetPipeline"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "ml"}},
        },
    ),
)
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/bake-role/{FUNCTION}"


@pytest.fixture
def iam() -> Iterator[IamCheck]:
    checkpoint = RequestCheckpoint()
    check = IamCheck.for_functions({FUNCTION: ROLE}, account=ACCOUNT)
    with mock_aws():
        checkpoint.install()
        checkpoint.add(check)
        try:
            yield check
        finally:
            checkpoint.uninstall()


def _client(service: str, key: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="sandbox",
        aws_session_token="token",
    )


def test_a_function_may_call_what_its_role_allows(iam: IamCheck) -> None:
    # GIVEN the bake function's key
    cloudwatch = _client("cloudwatch", function_access_key(FUNCTION))
    # WHEN it reads an alarm its role names
    alarms = cloudwatch.describe_alarms(AlarmNames=["houses-5xx"])
    # THEN the call is served
    assert alarms["MetricAlarms"] == []


def test_a_call_outside_the_role_is_access_denied_naming_action_resource_and_role(
    iam: IamCheck,
) -> None:
    # GIVEN the bake function's key
    cloudwatch = _client("cloudwatch", function_access_key(FUNCTION))

    # WHEN it reads an alarm its role does not name
    with pytest.raises(ClientError) as raised:
        cloudwatch.describe_alarms(AlarmNames=["churn-5xx"])

    # THEN CloudWatch (a query service) answers AccessDenied, in AWS's words
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: {SESSION} is not authorized to perform: cloudwatch:DescribeAlarms on "
        f"resource: arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:churn-5xx because no "
        "identity-based policy allows the cloudwatch:DescribeAlarms action"
    )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_json_service_answers_access_denied_exception(iam: IamCheck) -> None:
    # GIVEN the bake function's key, with no SageMaker grant
    sagemaker = _client("sagemaker", function_access_key(FUNCTION))
    # WHEN it describes an endpoint
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_endpoint(EndpointName="houses")
    # THEN SageMaker answers AccessDeniedException naming the endpoint's ARN
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "endpoint/houses because no identity-based policy allows" in error["Message"]


def test_a_condition_the_sandbox_cannot_evaluate_refuses_the_call(iam: IamCheck) -> None:
    # GIVEN the only statement allowing GetPipeline has a resource-tag condition
    codepipeline = _client("codepipeline", function_access_key(FUNCTION))
    # WHEN the function calls GetPipeline
    with pytest.raises(ClientError) as raised:
        codepipeline.get_pipeline(name="greenlight-houses")
    # THEN it is refused, naming the condition it cannot evaluate
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "cannot evaluate the condition key aws:resourcetag/team" in error["Message"]


def test_people_are_not_role_restricted(iam: IamCheck) -> None:
    # GIVEN a person's key (the sandbox models people as administrators)
    cloudwatch = _client("cloudwatch", "AKIAREVIEWER00000001")
    # WHEN they read any alarm
    # THEN the call is served and the check asked nothing
    assert cloudwatch.describe_alarms(AlarmNames=["churn-5xx"])["MetricAlarms"] == []
    assert iam.asked == []


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("s3", lambda c: c.list_buckets(), "AccessDenied", 403),
        ("sns", lambda c: c.list_topics(), "AuthorizationError", 403),
        ("dynamodb", lambda c: c.list_tables(), "AccessDeniedException", 400),
    ],
)
def test_each_service_denies_with_its_own_code(
    iam: IamCheck, service: str, call: Any, code: str, status: int
) -> None:
    # GIVEN the bake function's key, with no grant on the service
    client = _client(service, function_access_key(FUNCTION))
    # WHEN it calls the service
    with pytest.raises(ClientError) as raised:
        call(client)
    # THEN the denial has that service's code and status, and names the session
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert raised.value.response["Error"]["Message"].startswith(f"User: {SESSION} ")
