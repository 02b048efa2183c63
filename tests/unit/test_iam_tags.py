"""The resource tags IAM reads: moto's records for models, configs and endpoints."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from pipeline_scripts.emulation.iam_tags import resource_tags

SAGEMAKER = "arn:aws:sagemaker:us-east-1:123456789012"


def test_an_endpoints_tags_are_read_and_a_missing_one_has_none() -> None:
    with mock_aws():
        # GIVEN an endpoint created with Greenlight's tag
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_model(
            ModelName="houses-v1",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
            ExecutionRoleArn="arn:aws:iam::123456789012:role/greenlight/models",
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="houses-v1",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "houses-v1",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(
            EndpointName="houses",
            EndpointConfigName="houses-v1",
            Tags=[{"Key": "greenlight:endpoint", "Value": "houses"}],
        )

        # WHEN their tags are read THEN the endpoint's are its context keys
        assert resource_tags(f"{SAGEMAKER}:endpoint/houses") == {
            "aws:resourcetag/greenlight:endpoint": "houses"
        }
        # AND the untagged config has none, and neither has an endpoint that does not exist
        assert resource_tags(f"{SAGEMAKER}:endpoint-config/houses-v1") == {}
        assert resource_tags(f"{SAGEMAKER}:endpoint/nobody") == {}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:ssm:us-east-1:123456789012:parameter/greenlight/groups/x",
        f"{SAGEMAKER}:model-package/houses/1",
        f"{SAGEMAKER}:endpoint/*",
        "*",
    ],
)
def test_the_tags_of_any_other_resource_cannot_be_read(arn: str) -> None:
    assert resource_tags(arn) is None
