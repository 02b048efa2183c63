"""The checks ``greenlight register`` makes before it creates anything: S3 URIs, the
image choice, MIME types, reports, metadata against SageMaker's limits, and whether
``--approve`` is allowed by the group's gates. No AWS calls."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipeline_scripts.errors import Refused, UsageError
from shared.config import ConfigError, Gates, load_config
from shared.config.parse import BUCKET_NAME, GROUP_NAME

if TYPE_CHECKING:
    from mypy_boto3_sagemaker.type_defs import ModelMetricsTypeDef

DEFAULT_CONTENT_TYPE: Final = "text/csv"
#: The content type recorded for every report (Clarify and Model Monitor write JSON).
REPORT_CONTENT_TYPE: Final = "application/json"

# SageMaker's limits (CreateModelPackage, botocore's service model).
MAX_METADATA_ENTRIES: Final = 50
MAX_METADATA_KEY_LENGTH: Final = 128
MAX_METADATA_VALUE_LENGTH: Final = 256
MAX_DESCRIPTION_LENGTH: Final = 1024
MAX_IMAGE_LENGTH: Final = 255
MAX_URL_LENGTH: Final = 1024
MAX_CONTENT_TYPE_LENGTH: Final = 256

_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]*)/(?P<key>.*)$")
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


def model_metrics(
    *,
    model_quality: str | None = None,
    bias_report: str | None = None,
    explainability_report: str | None = None,
) -> ModelMetricsTypeDef:
    """``ModelMetrics`` in the shape CreateModelPackage takes, from report S3 URIs."""
    metrics: ModelMetricsTypeDef = {}
    if model_quality is not None:
        check_s3_uri("--model-quality", model_quality)
        metrics["ModelQuality"] = {
            "Statistics": {"ContentType": REPORT_CONTENT_TYPE, "S3Uri": model_quality}
        }
    if bias_report is not None:
        check_s3_uri("--bias-report", bias_report)
        metrics["Bias"] = {"Report": {"ContentType": REPORT_CONTENT_TYPE, "S3Uri": bias_report}}
    if explainability_report is not None:
        check_s3_uri("--explainability-report", explainability_report)
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


def check_group_name(group: str) -> None:
    if not GROUP_NAME.match(group):
        raise UsageError(
            f"GROUP {group!r} is not a model package group name: 1 to 63 letters, digits "
            "and hyphens, starting and ending with a letter or digit"
        )


def check_s3_uri(option: str, uri: str, *, tar_gz: bool = False) -> None:
    match = _S3_URI.match(uri)
    if match is None:
        raise UsageError(f"{option} {uri!r} is not an S3 URI: expected s3://BUCKET/KEY")
    if not BUCKET_NAME.match(match["bucket"]) or ".." in match["bucket"]:
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


def check_image_choice(
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


def check_mime_types(option: str, values: Sequence[str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not values:
        raise UsageError(f"{option} needs at least one MIME type")
    for value in values:
        if len(value) > MAX_CONTENT_TYPE_LENGTH or not _MIME_TYPE.match(value):
            raise UsageError(f"{option} {value!r} is not a MIME type such as text/csv")
    return list(dict.fromkeys(values))


def check_description(description: str | None) -> str | None:
    """The version description, if SageMaker's length limit allows it."""
    if description is not None:
        check_length("--description", description, MAX_DESCRIPTION_LENGTH)
    return description


def check_length(option: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise UsageError(f"{option} is {len(text)} characters; SageMaker allows at most {limit}")


def check_approval(
    group: str, approve: bool, approval_description: str | None, gates: Gates | None
) -> str | None:
    if not approve:
        if approval_description is not None:
            raise UsageError("--approval-description goes with --approve")
        return None
    text = (approval_description or "").strip()
    if not text:
        raise UsageError("--approve needs --approval-description TEXT (why it is approved)")
    check_length("--approval-description", text, MAX_DESCRIPTION_LENGTH)
    check_approval_allowed(group, gates)
    return text


def _metadata_character(character: str) -> bool:
    return unicodedata.category(character)[0] in "LNZ" or character in _METADATA_PUNCTUATION


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
