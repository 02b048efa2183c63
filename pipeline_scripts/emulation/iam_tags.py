"""The tags of a resource, as IAM reads them for ``aws:ResourceTag/<key>`` conditions.

IAM puts a resource's tags in the request context when the resource exists and has them;
a resource that does not exist (yet) carries none, so a condition on its tag does not
hold. The sandbox reads the tags from moto's own records, for the resource types whose
tags Greenlight's policies name; for any other type it cannot say, and the policy's
condition refuses the request (``iam_policy.UnsupportedCondition``) rather than pass.
See ``docs/aws-behaviour.md`` (IAM).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from moto.sagemaker.models import sagemaker_backends

from pipeline_scripts.emulation.iam_policy import RESOURCE_TAG

#: SageMaker resource type (in the ARN) → the backend's records of that type, by name.
_SAGEMAKER_RECORDS: Final[dict[str, Callable[[Any], Mapping[str, Any]]]] = {
    "model": lambda backend: backend._models,
    "endpoint-config": lambda backend: backend.endpoint_configs,
    "endpoint": lambda backend: backend.endpoints,
}


def resource_tags(arn: str) -> dict[str, str] | None:
    """``aws:ResourceTag/<key>`` → value for the resource ``arn`` names ({} when it does not
    exist or has no tags), or None when the sandbox cannot read that resource's tags."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "sagemaker" or "*" in arn:
        return None
    _, _, _, region, account, resource = parts
    kind, _, name = resource.partition("/")
    records = _SAGEMAKER_RECORDS.get(kind)
    if records is None:
        return None
    record = records(sagemaker_backends[account][region]).get(name)
    tags = getattr(record, "tags", None) or []
    return {f"{RESOURCE_TAG}{tag['Key']}": str(tag.get("Value", "")) for tag in tags}
