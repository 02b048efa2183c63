"""ARNs of the SageMaker and CodePipeline resources a group's functions may touch.

Built with ``Stack.format_arn`` so the partition, region and account stay tokens and
the stack remains environment-agnostic.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from constructs import Construct


def _sagemaker(scope: Construct, resource: str, name: str) -> str:
    return Stack.of(scope).format_arn(
        service="sagemaker",
        resource=resource,
        resource_name=name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def model_package_group_arn(scope: Construct, group: str) -> str:
    return _sagemaker(scope, "model-package-group", group)


def model_packages_arn(scope: Construct, group: str) -> str:
    """Every version of the group: ``model-package/<group>/*``."""
    return _sagemaker(scope, "model-package", f"{group}/*")


def endpoint_arn(scope: Construct, endpoint: str) -> str:
    return _sagemaker(scope, "endpoint", endpoint)


def endpoint_configs_arn(scope: Construct, endpoint: str) -> str:
    """The endpoint configs Deploy names ``<endpoint>-<suffix>``."""
    return _sagemaker(scope, "endpoint-config", f"{endpoint}-*")


def models_arn(scope: Construct, endpoint: str) -> str:
    """The models Deploy names ``<endpoint>-<suffix>``."""
    return _sagemaker(scope, "model", f"{endpoint}-*")


def pipeline_arn(scope: Construct, pipeline_name: str) -> str:
    return Stack.of(scope).format_arn(
        service="codepipeline", resource=pipeline_name, arn_format=ArnFormat.NO_RESOURCE_NAME
    )


def stage_arn(pipeline_arn: str, stage: str) -> str:
    """A pipeline stage: what ``codepipeline:RollbackStage`` is authorized on."""
    return f"{pipeline_arn}/{stage}"
