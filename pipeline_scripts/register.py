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

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError, EndpointConnectionError

from pipeline_scripts import review
from pipeline_scripts.errors import (
    GreenlightError,
    NotFound,
    Refused,
    UsageError,
    refused,
    unreachable,
)
from pipeline_scripts.images import framework_image_uri
from pipeline_scripts.stack_outputs import client
from shared import contract
from shared.config import ConfigError, Gates, load_config

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import (
        CreateModelPackageInputTypeDef,
        ModelMetricsTypeDef,
    )

DEFAULT_CONTENT_TYPE: Final = "text/csv"
#: The content type recorded for every report (Clarify and Model Monitor write JSON).
REPORT_CONTENT_TYPE: Final = "application/json"
DEFAULT_CONFIG: Final = Path("cdk.json")

# SageMaker's limits (CreateModelPackage, botocore's service model).
MAX_METADATA_ENTRIES: Final = 50
MAX_METADATA_KEY_LENGTH: Final = 128
MAX_METADATA_VALUE_LENGTH: Final = 256
MAX_DESCRIPTION_LENGTH: Final = 1024
MAX_IMAGE_LENGTH: Final = 255
MAX_URL_LENGTH: Final = 1024
MAX_CONTENT_TYPE_LENGTH: Final = 256

_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]*)/(?P<key>.*)$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: REGISTRY/REPOSITORY[:TAG|@DIGEST], the registry a host name (with a dot, or localhost),
#: an optional port; what CreateModel can pull, not merely what the registry stores.
_IMAGE_URI = re.compile(
    r"^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)+|localhost)(?::\d{1,5})?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)
_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+*-]+(\s*;.*)?$")
#: Besides letters, separators and digits, the characters metadata keys and values allow.
_METADATA_PUNCTUATION: Final = frozenset("_.:/=+-@")


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

    Give the inference image either as ``image`` (an ECR URI) or as ``framework`` (and
    ``framework_version``, and ``instance_type`` for frameworks with CPU and GPU images),
    looked up offline with the SageMaker Python SDK. ``approve=True`` then approves the
    version in a second call, as a reviewer would, unless ``gates`` (the group's gates
    from ``cdk.json``) require separation of duties. ``region`` is used when no
    ``sagemaker`` client is given.

    Raises ``UsageError`` for a bad argument, ``NotFound`` for a missing group (without
    ``create_group``), ``Refused`` when a gate or SageMaker refuses; nothing is created
    unless every check passed.
    """
    _check_group_name(group)
    _check_s3_uri("--model-data", model_data, tar_gz=True)
    _check_image_choice(image, framework, framework_version, instance_type)
    contents = _check_mime_types("--content-type", content_types)
    responses = _check_mime_types("--response-type", response_types)
    if description is not None:
        _check_length("--description", description, MAX_DESCRIPTION_LENGTH)
    metrics = model_metrics(
        model_quality=model_quality,
        bias_report=bias_report,
        explainability_report=explainability_report,
    )
    properties = check_metadata(metadata or {})
    approval_text = _check_approval(group, approve, approval_description, gates)

    client = sagemaker if sagemaker is not None else sagemaker_client(region)
    if image is None:
        image = framework_image_uri(
            framework or "",
            region=client.meta.region_name,
            version=framework_version,
            instance_type=instance_type,
        )

    try:
        return _create(
            client,
            group=group,
            create_group=create_group,
            image=image,
            model_data=model_data,
            content_types=contents,
            response_types=responses,
            description=description,
            metrics=metrics,
            properties=properties,
            approval_text=approval_text,
        )
    except EndpointConnectionError as error:
        raise unreachable(error) from None


def _create(
    client: SageMakerClient,
    *,
    group: str,
    create_group: bool,
    image: str,
    model_data: str,
    content_types: list[str],
    response_types: list[str],
    description: str | None,
    metrics: ModelMetricsTypeDef,
    properties: dict[str, str],
    approval_text: str | None,
) -> Registration:
    exists = group_exists(client, group)
    if not exists and not create_group:
        raise NotFound(
            f"model package group {group!r} not found in {client.meta.region_name}; "
            "pass --create-group to create it"
        )
    if not exists:
        try:
            client.create_model_package_group(ModelPackageGroupName=group)
        except ClientError as error:
            raise refused(error, f"cannot create model package group {group}") from None

    request: CreateModelPackageInputTypeDef = {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data}],
            "SupportedContentTypes": content_types,
            "SupportedResponseMIMETypes": response_types,
        },
        "ModelApprovalStatus": contract.PENDING_MANUAL_APPROVAL,
    }
    if description:
        request["ModelPackageDescription"] = description
    if metrics:
        request["ModelMetrics"] = metrics
    if properties:
        request["CustomerMetadataProperties"] = properties
    try:
        created = client.create_model_package(**request)
        arn = created["ModelPackageArn"]
        package = client.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        raise refused(error, f"cannot register a version in {group}") from None
    version = package.get("ModelPackageVersion") or _version_from_arn(arn)
    status: str = package.get("ModelApprovalStatus", contract.PENDING_MANUAL_APPROVAL)

    if approval_text is not None:
        try:
            outcome = review.review(
                group=group,
                version=version,
                status=contract.APPROVED,
                description=approval_text,
                sagemaker=client,
            )
        except GreenlightError as error:
            raise type(error)(
                f"registered {arn} ({contract.PENDING_MANUAL_APPROVAL}), "
                f"but approving it failed: {error}"
            ) from None
        status = outcome.status
    return Registration(
        model_package_group_name=group,
        model_package_arn=arn,
        model_package_version=version,
        model_approval_status=status,
        image=image,
        group_created=not exists,
    )


# --- checks (no AWS calls) ----------------------------------------------------------


def model_metrics(
    *,
    model_quality: str | None = None,
    bias_report: str | None = None,
    explainability_report: str | None = None,
) -> ModelMetricsTypeDef:
    """``ModelMetrics`` in the shape CreateModelPackage takes, from report S3 URIs."""
    metrics: ModelMetricsTypeDef = {}
    if model_quality is not None:
        _check_s3_uri("--model-quality", model_quality)
        metrics["ModelQuality"] = {
            "Statistics": {"ContentType": REPORT_CONTENT_TYPE, "S3Uri": model_quality}
        }
    if bias_report is not None:
        _check_s3_uri("--bias-report", bias_report)
        metrics["Bias"] = {"Report": {"ContentType": REPORT_CONTENT_TYPE, "S3Uri": bias_report}}
    if explainability_report is not None:
        _check_s3_uri("--explainability-report", explainability_report)
        metrics["Explainability"] = {
            "Report": {"ContentType": REPORT_CONTENT_TYPE, "S3Uri": explainability_report}
        }
    return metrics


def parse_metadata(items: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a mapping; the first ``=`` separates key from value."""
    parsed: dict[str, str] = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise UsageError(f"--metadata {item!r}: expected KEY=VALUE")
        if key in parsed:
            raise UsageError(f"--metadata key {key!r} is given twice")
        parsed[key] = value
    return parsed


def check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """The metadata, if SageMaker's CustomerMetadataProperties limits allow it."""
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise UsageError(
            f"--metadata has {len(metadata)} keys; SageMaker allows at most {MAX_METADATA_ENTRIES}"
        )
    for key, value in metadata.items():
        for what, text, limit in (
            ("key", key, MAX_METADATA_KEY_LENGTH),
            ("value", value, MAX_METADATA_VALUE_LENGTH),
        ):
            name = (
                f"--metadata {what} {_shorten(text)!r}"
                if what == "key"
                else (f"--metadata value of {_shorten(key)!r}")
            )
            if not text:
                raise UsageError(f"{name} is empty; SageMaker needs 1 to {limit} characters")
            if len(text) > limit:
                raise UsageError(
                    f"{name} is {len(text)} characters; SageMaker allows at most {limit}"
                )
            bad = sorted({c for c in text if not _metadata_character(c)})
            if bad:
                raise UsageError(
                    f"{name} has characters SageMaker refuses: {''.join(bad)!r} "
                    "(letters, digits, spaces and _.:/=+-@ are allowed)"
                )
    return dict(metadata)


def check_approval_allowed(group: str, gates: Gates | None) -> None:
    """Refuse approving at registration when the group's gates separate the duties."""
    if gates is not None and gates.separation_of_duties:
        raise Refused(
            f"--approve refused: model package group {group!r} requires separation of "
            "duties (gates.separationOfDuties), so whoever registers a version cannot "
            f"approve it; a different reviewer runs `greenlight approve {group} VERSION`"
        )


def group_gates(config_path: Path, group: str) -> Gates | None:
    """The gates ``cdk.json`` sets for ``group``, or None when it does not list the group."""
    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise UsageError(
            f"--approve checks the group's gates in the Greenlight config: {error} "
            "(pass --config PATH)"
        ) from None
    for candidate in config.model_groups:
        if candidate.name == group:
            return candidate.gates
    return None


def group_exists(client: SageMakerClient, group: str) -> bool:
    """Whether ``group`` exists; SageMaker answers ValidationException when it does not."""
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationException":
            return False
        raise refused(error, f"cannot read model package group {group}") from None
    return True


def sagemaker_client(region: str | None = None) -> SageMakerClient:
    """A SageMaker client; boto3 honours AWS_ENDPOINT_URL (a sandbox, or any endpoint)."""
    sagemaker: SageMakerClient = client("sagemaker", region)
    return sagemaker


def _check_group_name(group: str) -> None:
    if not _GROUP_NAME.match(group):
        raise UsageError(
            f"GROUP {group!r} is not a model package group name: 1 to 63 letters, digits "
            "and hyphens, starting and ending with a letter or digit"
        )


def _check_s3_uri(option: str, uri: str, *, tar_gz: bool = False) -> None:
    match = _S3_URI.match(uri)
    if match is None:
        raise UsageError(f"{option} {uri!r} is not an S3 URI: expected s3://BUCKET/KEY")
    if not _BUCKET_NAME.match(match["bucket"]) or ".." in match["bucket"]:
        raise UsageError(
            f"{option} {uri!r}: {match['bucket']!r} is not an S3 bucket name "
            "(3 to 63 lowercase letters, digits, dots and hyphens)"
        )
    if not match["key"] or match["key"].endswith("/"):
        raise UsageError(f"{option} {uri!r} names no object: expected s3://BUCKET/KEY")
    if len(uri) > MAX_URL_LENGTH:
        raise UsageError(f"{option} is {len(uri)} characters; SageMaker allows {MAX_URL_LENGTH}")
    if tar_gz and not match["key"].endswith(".tar.gz"):
        raise UsageError(
            f"{option} {uri!r} must be a gzip-compressed tar archive (a key ending in .tar.gz)"
        )


def _check_image_choice(
    image: str | None,
    framework: str | None,
    framework_version: str | None,
    instance_type: str | None,
) -> None:
    if (image is None) == (framework is None):
        raise UsageError("give exactly one of --image URI or --framework NAME")
    if image is not None:
        if framework_version is not None or instance_type is not None:
            raise UsageError(
                "--framework-version and --instance-type choose a --framework image; "
                "they do not apply to --image"
            )
        if len(image) > MAX_IMAGE_LENGTH or not _IMAGE_URI.match(image):
            raise UsageError(
                f"--image {image!r} is not an image URI: REGISTRY/REPOSITORY[:TAG|@DIGEST], "
                f"at most {MAX_IMAGE_LENGTH} characters, no spaces"
            )
    elif not framework:
        raise UsageError("--framework must not be empty")


def _check_mime_types(option: str, values: Sequence[str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not values:
        raise UsageError(f"{option} needs at least one MIME type")
    for value in values:
        if len(value) > MAX_CONTENT_TYPE_LENGTH or not _MIME_TYPE.match(value):
            raise UsageError(f"{option} {value!r} is not a MIME type such as text/csv")
    return list(dict.fromkeys(values))


def _check_length(option: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise UsageError(f"{option} is {len(text)} characters; SageMaker allows at most {limit}")


def _check_approval(
    group: str, approve: bool, approval_description: str | None, gates: Gates | None
) -> str | None:
    if not approve:
        if approval_description is not None:
            raise UsageError("--approval-description goes with --approve")
        return None
    text = (approval_description or "").strip()
    if not text:
        raise UsageError("--approve needs --approval-description TEXT (why it is approved)")
    _check_length("--approval-description", text, MAX_DESCRIPTION_LENGTH)
    check_approval_allowed(group, gates)
    return text


def _metadata_character(character: str) -> bool:
    return unicodedata.category(character)[0] in "LNZ" or character in _METADATA_PUNCTUATION


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _version_from_arn(arn: str) -> int:
    try:
        return int(arn.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise GreenlightError(f"cannot read the version number from {arn}") from None


# --- command line -------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "register",
        help="register a model version (PendingManualApproval) in a model package group",
        description=(
            "Register a model version in PendingManualApproval, with its inference image, "
            "S3 model artifact, reports and metadata. Nothing is created unless every "
            "argument checks out."
        ),
    )
    parser.add_argument("group", metavar="GROUP", help="model package group name")
    parser.add_argument(
        "--model-data",
        required=True,
        metavar="S3URI",
        help="the model artifact, s3://BUCKET/KEY/model.tar.gz",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", metavar="URI", help="inference image URI in ECR")
    source.add_argument(
        "--framework",
        metavar="NAME",
        help="look the image up with the SageMaker Python SDK, e.g. linear-learner, xgboost",
    )
    parser.add_argument("--framework-version", metavar="V", help="framework version")
    parser.add_argument(
        "--instance-type",
        metavar="TYPE",
        help="picks the CPU or GPU image for frameworks that have both (e.g. ml.m5.large)",
    )
    parser.add_argument(
        "--content-type",
        action="append",
        metavar="MIME",
        help=f"request MIME type the model accepts; repeatable (default {DEFAULT_CONTENT_TYPE})",
    )
    parser.add_argument(
        "--response-type",
        action="append",
        metavar="MIME",
        help=f"response MIME type the model returns; repeatable (default {DEFAULT_CONTENT_TYPE})",
    )
    parser.add_argument("--description", metavar="TEXT", help="version description")
    parser.add_argument(
        "--create-group", action="store_true", help="create the group if it does not exist"
    )
    parser.add_argument(
        "--model-quality", metavar="S3URI", help="model quality statistics (JSON) in S3"
    )
    parser.add_argument("--bias-report", metavar="S3URI", help="bias report (JSON) in S3")
    parser.add_argument(
        "--explainability-report", metavar="S3URI", help="explainability report (JSON) in S3"
    )
    parser.add_argument(
        "--metadata",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help=f"customer metadata, at most {MAX_METADATA_ENTRIES} keys",
    )
    parser.add_argument(
        "--approve",
        action="store_true",
        help="approve the version right away (refused if the group separates duties)",
    )
    parser.add_argument("--approval-description", metavar="TEXT", help="why it is approved")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help="cdk.json holding the groups' gates, read for --approve (default ./cdk.json)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--region", help="AWS region (default: from the environment)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    gates = group_gates(args.config, args.group) if args.approve else None
    registration = register(
        args.group,
        model_data=args.model_data,
        image=args.image,
        framework=args.framework,
        framework_version=args.framework_version,
        instance_type=args.instance_type,
        content_types=args.content_type or (DEFAULT_CONTENT_TYPE,),
        response_types=args.response_type or (DEFAULT_CONTENT_TYPE,),
        description=args.description,
        create_group=args.create_group,
        model_quality=args.model_quality,
        bias_report=args.bias_report,
        explainability_report=args.explainability_report,
        metadata=parse_metadata(args.metadata),
        approve=args.approve,
        approval_description=args.approval_description,
        gates=gates,
        region=args.region,
    )
    if registration.group_created:
        print(
            f"greenlight: warning: created model package group {args.group}, which no "
            "Greenlight pipeline watches yet: approving its versions deploys nothing until "
            "a platform team adds the group to cdk.json and deploys (README: Platform team)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(registration.to_json(), indent=2))
    else:
        for label, value in registration.to_json().items():
            if label != "GroupCreated":
                print(f"{label:<22}{value}")
    return 0
