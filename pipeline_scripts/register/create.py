"""``greenlight register``: a data scientist's model version, registered the way SageMaker
expects it, in one call.

``register()`` is the importable function (notebooks, CI); the subcommand is a thin layer
over it. It does what the boto3 calls of the usual lesson do: optionally
``CreateModelPackageGroup``, then ``CreateModelPackage`` with an ``InferenceSpecification``
(one container: an inference image and an S3 model artifact, with the supported request
and response MIME types) and ``ModelApprovalStatus=PendingManualApproval``. Reports go into
``ModelMetrics`` (ModelQuality.Statistics, Bias.Report, Explainability.Report) where the
approval trigger's governance gates look for them; ``KEY=VALUE`` metadata goes into
``CustomerMetadataProperties``.

Everything that can be checked is checked before anything is created: S3 URIs, the image
(or the framework, version and region it is looked up with), the reports, the metadata
against SageMaker's limits, the group's existence, and whether ``--approve`` is allowed
by the group's gates (separation of duties forbids the registrant approving).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError, EndpointConnectionError

from pipeline_scripts import approval
from pipeline_scripts.errors import GreenlightError, NotFound, refused, unreachable
from pipeline_scripts.images import framework_image_uri
from pipeline_scripts.model_registry import group_exists, sagemaker_client
from pipeline_scripts.register.checks import (
    DEFAULT_CONTENT_TYPE,
    check_approval,
    check_description,
    check_group_name,
    check_image_choice,
    check_metadata,
    check_mime_types,
    check_s3_uri,
    model_metrics,
)
from shared import contract
from shared.config import Gates

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import (
        CreateModelPackageInputTypeDef,
        ModelMetricsTypeDef,
    )


@dataclass(frozen=True)
class Registration:
    """A registered model package version."""

    model_package_group_name: str
    model_package_arn: str
    model_package_version: int
    model_approval_status: str
    image: str
    group_created: bool

    def to_json(self) -> dict[str, object]:
        """SageMaker's own field names, as the pipeline variables use them."""
        return {
            "ModelPackageGroupName": self.model_package_group_name,
            "ModelPackageArn": self.model_package_arn,
            "ModelPackageVersion": self.model_package_version,
            "ModelApprovalStatus": self.model_approval_status,
            "Image": self.image,
            "GroupCreated": self.group_created,
        }


@dataclass(frozen=True)
class _NewVersion:
    """A version every check has passed, ready to be created."""

    group: str
    create_group: bool
    image: str
    model_data: str
    content_types: list[str]
    response_types: list[str]
    description: str | None
    metrics: ModelMetricsTypeDef
    properties: dict[str, str]
    approval_text: str | None

    def request(self) -> CreateModelPackageInputTypeDef:
        """CreateModelPackage's arguments: one container, PendingManualApproval."""
        request: CreateModelPackageInputTypeDef = {
            "ModelPackageGroupName": self.group,
            "InferenceSpecification": {
                "Containers": [{"Image": self.image, "ModelDataUrl": self.model_data}],
                "SupportedContentTypes": self.content_types,
                "SupportedResponseMIMETypes": self.response_types,
            },
            "ModelApprovalStatus": contract.PENDING_MANUAL_APPROVAL,
        }
        if self.description:
            request["ModelPackageDescription"] = self.description
        if self.metrics:
            request["ModelMetrics"] = self.metrics
        if self.properties:
            request["CustomerMetadataProperties"] = self.properties
        return request


def register(
    group: str,
    *,
    model_data: str,
    image: str | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
    instance_type: str | None = None,
    content_types: Sequence[str] = (DEFAULT_CONTENT_TYPE,),
    response_types: Sequence[str] = (DEFAULT_CONTENT_TYPE,),
    description: str | None = None,
    create_group: bool = False,
    model_quality: str | None = None,
    bias_report: str | None = None,
    explainability_report: str | None = None,
    metadata: Mapping[str, str] | None = None,
    approve: bool = False,
    approval_description: str | None = None,
    gates: Gates | None = None,
    region: str | None = None,
    sagemaker: SageMakerClient | None = None,
) -> Registration:
    """Register a version of ``group`` in PendingManualApproval and return what was made.

    The image is ``image`` (an ECR URI) or ``framework``'s (with ``framework_version``,
    and ``instance_type`` where CPU and GPU images differ), looked up offline with the
    SageMaker Python SDK. ``approve=True`` approves it next, as a reviewer would, unless
    ``gates`` separate the duties. Raises ``UsageError``, ``NotFound`` (no group, without
    ``create_group``) or ``Refused``; nothing is created unless every check passed.
    """
    check_group_name(group)
    check_s3_uri("--model-data", model_data, tar_gz=True)
    check_image_choice(image, framework, framework_version, instance_type)
    new = _NewVersion(
        group=group,
        create_group=create_group,
        image=image or "",
        model_data=model_data,
        content_types=check_mime_types("--content-type", content_types),
        response_types=check_mime_types("--response-type", response_types),
        description=check_description(description),
        metrics=model_metrics(
            model_quality=model_quality,
            bias_report=bias_report,
            explainability_report=explainability_report,
        ),
        properties=check_metadata(metadata or {}),
        approval_text=check_approval(group, approve, approval_description, gates),
    )
    client = sagemaker if sagemaker is not None else sagemaker_client(region)
    if image is None:
        new = replace(
            new, image=_framework_image(client, framework, framework_version, instance_type)
        )
    try:
        return _create(client, new)
    except EndpointConnectionError as error:
        raise unreachable(error) from None


def _framework_image(
    client: SageMakerClient,
    framework: str | None,
    version: str | None,
    instance_type: str | None,
) -> str:
    return framework_image_uri(
        framework or "",
        region=client.meta.region_name,
        version=version,
        instance_type=instance_type,
    )


def _create(client: SageMakerClient, new: _NewVersion) -> Registration:
    exists = group_exists(client, new.group)
    if not exists and not new.create_group:
        raise NotFound(
            f"model package group {new.group!r} not found in {client.meta.region_name}; "
            "pass --create-group to create it"
        )
    if not exists:
        try:
            client.create_model_package_group(ModelPackageGroupName=new.group)
        except ClientError as error:
            raise refused(error, f"cannot create model package group {new.group}") from None
    try:
        arn = client.create_model_package(**new.request())["ModelPackageArn"]
        package = client.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        raise refused(error, f"cannot register a version in {new.group}") from None
    version = package.get("ModelPackageVersion") or _version_from_arn(arn)
    status: str = package.get("ModelApprovalStatus", contract.PENDING_MANUAL_APPROVAL)
    if new.approval_text is not None:
        status = _approve(client, new.group, version, arn, new.approval_text)
    return Registration(
        model_package_group_name=new.group,
        model_package_arn=arn,
        model_package_version=version,
        model_approval_status=status,
        image=new.image,
        group_created=not exists,
    )


def _approve(client: SageMakerClient, group: str, version: int, arn: str, text: str) -> str:
    """Approve the version just registered, as a reviewer would; its status after."""
    try:
        outcome = approval.review(
            group=group,
            version=version,
            status=contract.APPROVED,
            description=text,
            sagemaker=client,
        )
    except GreenlightError as error:
        raise type(error)(
            f"registered {arn} ({contract.PENDING_MANUAL_APPROVAL}), "
            f"but approving it failed: {error}"
        ) from None
    return outcome.status


def _version_from_arn(arn: str) -> int:
    try:
        return int(arn.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise GreenlightError(f"cannot read the version number from {arn}") from None
