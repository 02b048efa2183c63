"""The SageMaker resources Deploy names, reads and cleans up for one endpoint.

Names are ``<endpoint>-v<version>-<suffix>``: they fit SageMaker's 63 characters and the
``<endpoint>-*`` IAM scope, and the suffix comes from the job that first made them, so
a retried or resumed deployment reuses its own model and config.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from shared import contract

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

logger = logging.getLogger(__name__)

MAX_NAME_CHARS: Final = 63
#: Tag keys on the models and endpoint configs Deploy creates.
TAG_PACKAGE_ARN: Final = "greenlight:model-package-arn"
TAG_ENDPOINT: Final = contract.TAG_ENDPOINT


class DeployError(RuntimeError):
    """A deployment that cannot go on; the message names the endpoint and the reason."""


def resource_name(endpoint_name: str, package_arn: str, job_id: str) -> str:
    """``<endpoint>-v<version>-<suffix>``: fits 63 characters and the ``<endpoint>-*`` IAM
    scope. The suffix comes from the job id, so a retried invocation reuses its names."""
    version = package_arn.rsplit("/", 1)[-1]
    if not version.isdigit():
        raise DeployError(f"model package ARN {package_arn} does not end in a version number")
    suffix = hashlib.sha256(job_id.encode()).hexdigest()[:6]
    name = f"{endpoint_name}-v{version}-{suffix}"
    if len(name) > MAX_NAME_CHARS:
        raise DeployError(
            f"endpoint name {endpoint_name} is too long to name its configs "
            f"({name} is {len(name)} characters, SageMaker allows {MAX_NAME_CHARS})"
        )
    return name


def owned_name_pattern(endpoint_name: str) -> re.Pattern[str]:
    """Names Deploy gave to this endpoint's models and configs (and to no other's)."""
    return re.compile(rf"{re.escape(endpoint_name)}-v\d+-[0-9a-f]{{6}}")


def retain(
    endpoint_name: str, keep_configs: int, keep: set[str], *, sagemaker: SageMakerClient
) -> None:
    """Keep the newest ``keep_configs`` configs (and their models) Deploy made for this
    endpoint, and every name in ``keep`` (the live one, the rollback target)."""
    owned = owned_name_pattern(endpoint_name)
    configs: list[tuple[datetime, str]] = []
    for page in sagemaker.get_paginator("list_endpoint_configs").paginate(
        NameContains=endpoint_name
    ):
        configs.extend(
            (item["CreationTime"], item["EndpointConfigName"])
            for item in page["EndpointConfigs"]
            if owned.fullmatch(item["EndpointConfigName"])
        )
    configs.sort(reverse=True)
    keep = keep | {name for _, name in configs[: max(keep_configs, 1)]}
    for _, name in configs:
        if name not in keep:
            logger.info("retention: deleting endpoint config %s", name)
            sagemaker.delete_endpoint_config(EndpointConfigName=name)
    models: list[str] = []
    for model_page in sagemaker.get_paginator("list_models").paginate(NameContains=endpoint_name):
        models.extend(
            item["ModelName"] for item in model_page["Models"] if owned.fullmatch(item["ModelName"])
        )
    for name in models:
        if name not in keep:
            logger.info("retention: deleting model %s", name)
            sagemaker.delete_model(ModelName=name)


def describe_endpoint(sagemaker: SageMakerClient, name: str) -> dict[str, Any] | None:
    try:
        return dict(sagemaker.describe_endpoint(EndpointName=name))
    except sagemaker.exceptions.ClientError as error:
        if is_not_found(error):
            return None
        raise


def live_version(sagemaker: SageMakerClient, config_name: str) -> tuple[str, str] | None:
    """(model name, package ARN) behind a config, when it is one model from a package."""
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    variants = config.get("ProductionVariants", [])
    if len(variants) != 1:
        return None
    model_name = variants[0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
    arns = {c.get("ModelPackageName") for c in containers}
    if len(arns) != 1:
        return None
    arn = arns.pop()
    return (model_name, arn) if arn else None


def exists(describe: Callable[[], Any]) -> bool:
    try:
        describe()
    except Exception as error:
        if is_not_found(error):
            return False
        raise
    return True


def is_not_found(error: Exception) -> bool:
    return _validation_error_says(error, "Could not find", "does not exist")


def is_endpoint_conflict(error: Exception) -> bool:
    """SageMaker refused a Create/UpdateEndpoint because the endpoint exists or is busy:
    after a lost answer, the SDK's retry of Deploy's own call meets it."""
    return _validation_error_says(
        error, "Cannot update in-progress endpoint", "Cannot create already existing endpoint"
    )


def _validation_error_says(error: Exception, *phrases: str) -> bool:
    """SageMaker answered ValidationException with a message that holds one of ``phrases``
    (SageMaker tells these refusals apart only by their message)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    err = response.get("Error", {})
    message = str(err.get("Message", ""))
    return err.get("Code") == "ValidationException" and any(p in message for p in phrases)
