"""The Model Registry reads every command shares: whether a model package group exists,
and the ARN of one of its versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from pipeline_scripts.errors import NotFound, aws_code, refused
from pipeline_scripts.stack_outputs import client
from shared import contract

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


def sagemaker_client(region: str | None = None) -> SageMakerClient:
    """A SageMaker client; boto3 honours AWS_ENDPOINT_URL (a sandbox, or any endpoint)."""
    sagemaker: SageMakerClient = client("sagemaker", region)
    return sagemaker


def group_exists(sagemaker: SageMakerClient, group: str) -> bool:
    """Whether ``group`` exists; SageMaker answers ValidationException when it does not."""
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as error:
        if aws_code(error) == "ValidationException":
            return False
        raise refused(error, f"cannot read model package group {group}") from None
    return True


def require_group(sagemaker: SageMakerClient, group: str) -> None:
    """NotFound unless ``group`` exists."""
    if not group_exists(sagemaker, group):
        raise NotFound(f"model package group {group!r} not found")


def find_model_package_arn(sagemaker: SageMakerClient, *, group: str, version: int) -> str:
    """The ARN of ``group``/``version``; NotFound names the group or the version missing.

    Listed newest first, so the usual case (reviewing a recent version) reads one page.
    """
    paginator = sagemaker.get_paginator("list_model_packages")
    pages = paginator.paginate(
        ModelPackageGroupName=group,
        ModelPackageType=contract.MODEL_PACKAGE_TYPE_VERSIONED,
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    try:
        for page in pages:
            for summary in page["ModelPackageSummaryList"]:
                if summary.get("ModelPackageVersion") == version:
                    return summary["ModelPackageArn"]
    except ClientError as error:
        raise refused(error, f"cannot list versions of {group}") from None
    require_group(sagemaker, group)
    raise NotFound(f"model package group {group!r} has no version {version}")
