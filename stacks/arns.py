"""ARNs of the SageMaker and CodePipeline resources a group's functions may touch.

Built with ``Stack.format_arn`` so the partition, region and account stay tokens and
the stack remains environment-agnostic.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from constructs import IConstruct

from shared import contract


def _sagemaker(scope: IConstruct, resource: str, name: str) -> str:
    return Stack.of(scope).format_arn(
        service="sagemaker",
        resource=resource,
        resource_name=name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def model_package_group_arn(scope: IConstruct, group: str) -> str:
    return _sagemaker(scope, "model-package-group", group)


def model_packages_arn(scope: IConstruct, group: str) -> str:
    """Every version of the group: ``model-package/<group>/*``."""
    return _sagemaker(scope, "model-package", f"{group}/*")


def endpoint_arn(scope: IConstruct, endpoint: str) -> str:
    return _sagemaker(scope, "endpoint", endpoint)


def endpoint_configs_arn(scope: IConstruct, endpoint: str) -> str:
    """The endpoint configs Deploy names ``<endpoint>-<suffix>``."""
    return _sagemaker(scope, "endpoint-config", f"{endpoint}-*")


def models_arn(scope: IConstruct, endpoint: str) -> str:
    """The models Deploy names ``<endpoint>-<suffix>``."""
    return _sagemaker(scope, "model", f"{endpoint}-*")


def pipeline_arn(scope: IConstruct, pipeline_name: str) -> str:
    return Stack.of(scope).format_arn(
        service="codepipeline", resource=pipeline_name, arn_format=ArnFormat.NO_RESOURCE_NAME
    )


# --- what the shared functions may touch, for every group ---------------------------


def greenlight_pipelines_arn(scope: IConstruct) -> str:
    """Every pipeline Greenlight names (``greenlight-*``), their stages included."""
    return pipeline_arn(scope, f"{contract.NAME_PREFIX}*")


def greenlight_alarms_arn(scope: IConstruct) -> str:
    """Every alarm Greenlight names (``contract.alarm_name``: ``greenlight-*``)."""
    return Stack.of(scope).format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name=f"{contract.NAME_PREFIX}*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def group_registry_arn(scope: IConstruct) -> str:
    """Every group's registry entry (``/greenlight/groups/*``)."""
    return Stack.of(scope).format_arn(
        service="ssm",
        resource="parameter",
        resource_name=f"{contract.GROUP_REGISTRY_PATH.strip('/')}/*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def all_model_versions_arn(scope: IConstruct) -> str:
    """Every versioned model package in the account: ``model-package/*/*``."""
    return _sagemaker(scope, "model-package", "*/*")


def all_of(scope: IConstruct, resource: str) -> str:
    """Every SageMaker ``resource`` (``endpoint``, ``endpoint-config``, ``model``)."""
    return _sagemaker(scope, resource, "*")


def execution_roles_arn(scope: IConstruct) -> str:
    """The roles under ``contract.EXECUTION_ROLE_PATH``, in this account."""
    return Stack.of(scope).format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=f"{contract.EXECUTION_ROLE_PATH.strip('/')}/*",
    )
