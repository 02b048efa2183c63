"""The SageMaker regions a stage may name are the ones botocore knows SageMaker in."""

from __future__ import annotations

import boto3

from shared.regions import SAGEMAKER_REGIONS


def test_the_sagemaker_regions_are_botocores_sagemaker_regions_of_the_aws_partition() -> None:
    # GIVEN botocore's endpoint data for SageMaker in the aws partition
    known = set(boto3.Session().get_available_regions("sagemaker", partition_name="aws"))
    # WHEN compared with the regions Greenlight accepts
    # THEN they are the same (a new region is added here, a gone one removed)
    assert set(SAGEMAKER_REGIONS) == known
