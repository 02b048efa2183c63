"""The SageMaker "Model Package State Change" event as a typed value.

EventBridge delivers the event at least once, in any order, and SageMaker sends it on
creation as well as on every approval or metadata change. The model keeps only what the
trigger needs to find the package again; the registry (DescribeModelPackage) stays the
truth for everything else.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from shared import contract
from shared.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE

_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9-]{1,63})/(?P<version>\d+)$"
)


#: The longest event id the ledger keeps: its sort key (``EVENT#<id>``, or
#: ``PIPELINE#<time>#<id>``) may hold 1024 bytes (docs/aws-behaviour.md, DynamoDB).
#: EventBridge's own ids are 36-character UUIDs.
MAX_EVENT_ID_BYTES: Final = 256


def event_id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a ledger event id, or None when it can."""
    if not isinstance(value, str) or not value:
        return f"expected a non-empty string, got {value!r}"[:200]
    size = len(value.encode())
    if size > MAX_EVENT_ID_BYTES:
        return f"{size} bytes, longer than the {MAX_EVENT_ID_BYTES} the ledger keeps"
    if not value.isprintable():
        return "holds control characters"
    return None


class MalformedEvent(ValueError):
    """The event is missing a field or holds a value of the wrong shape."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"event.{field_name}: {problem}")
        self.field_name = field_name
        self.problem = problem


@dataclass(frozen=True, kw_only=True)
class ModelPackageStateChange:
    event_id: str
    time: datetime
    account: str
    region: str
    group: str
    version: int
    arn: str
    approval_status: str
    last_modified: datetime | None


def event_id_of(event: object) -> str:
    """The event's id, or a stable digest of its body when it has none."""
    if isinstance(event, Mapping):
        value = event.get("id")
        if isinstance(value, str) and event_id_problem(value) is None:
            return value
    body = json.dumps(event, sort_keys=True, default=str).encode()
    return "malformed-" + hashlib.sha256(body).hexdigest()[:32]


def group_of(event: object) -> str:
    """The model package group an approval event is about (``detail.ModelPackageGroupName``):
    which group's settings the shared trigger handles it with. The group's rule passes on
    only that group's events, so a missing name is an event no rule sent."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    group = detail.get("ModelPackageGroupName") if isinstance(detail, Mapping) else None
    if not isinstance(group, str) or not group:
        raise MalformedEvent(
            "detail.ModelPackageGroupName", f"expected a group name, got {group!r}"
        )
    return group


def parse_state_change(event: object) -> ModelPackageStateChange:
    """Parse the EventBridge event; raise ``MalformedEvent`` naming the first bad field."""
    if not isinstance(event, Mapping):
        raise MalformedEvent("<root>", f"expected an object, got {type(event).__name__}")
    event_id = _string(event, "id", "id")
    problem = event_id_problem(event_id)
    if problem is not None:
        raise MalformedEvent("id", problem)
    source = _string(event, "source", "source")
    if source != EVENT_SOURCE:
        raise MalformedEvent("source", f"expected {EVENT_SOURCE!r}, got {source!r}")
    detail_type = _string(event, "detail-type", "detail-type")
    if detail_type != EVENT_DETAIL_TYPE:
        raise MalformedEvent("detail-type", f"expected {EVENT_DETAIL_TYPE!r}, got {detail_type!r}")
    time = _iso_time(_string(event, "time", "time"), "time")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail", "expected an object")
    group = _string(detail, "ModelPackageGroupName", "detail.ModelPackageGroupName")
    version = detail.get("ModelPackageVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedEvent(
            "detail.ModelPackageVersion", f"expected a positive integer, got {version!r}"
        )
    arn = _string(detail, "ModelPackageArn", "detail.ModelPackageArn")
    match = _ARN.match(arn)
    if match is None:
        raise MalformedEvent("detail.ModelPackageArn", f"not a model package version ARN: {arn!r}")
    if match["group"].lower() != group.lower() or int(match["version"]) != version:
        raise MalformedEvent(
            "detail.ModelPackageArn",
            f"{arn!r} does not name {group}/{version} (ModelPackageGroupName/ModelPackageVersion)",
        )
    status = _string(detail, "ModelApprovalStatus", "detail.ModelApprovalStatus")
    if status not in contract.APPROVAL_STATUSES:
        raise MalformedEvent(
            "detail.ModelApprovalStatus",
            f"expected one of {', '.join(contract.APPROVAL_STATUSES)}, got {status[:100]!r}",
        )
    last_modified_raw = detail.get("LastModifiedTime")
    last_modified = (
        None
        if last_modified_raw is None
        else _epoch_millis(last_modified_raw, "detail.LastModifiedTime")
    )
    return ModelPackageStateChange(
        event_id=event_id,
        time=time,
        account=match["account"],
        region=match["region"],
        group=group,
        version=version,
        arn=arn,
        approval_status=status,
        last_modified=last_modified,
    )


def _string(container: Mapping[str, Any], key: str, path: str) -> str:
    value = container.get(key)
    if value is None:
        raise MalformedEvent(path, "missing")
    if not isinstance(value, str) or not value:
        raise MalformedEvent(path, f"expected a non-empty string, got {value!r}")
    return value


def _iso_time(value: str, path: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(path, f"expected an ISO 8601 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise MalformedEvent(path, f"expected a time with a zone, got {value!r}")
    return parsed.astimezone(UTC)


def _epoch_millis(value: object, path: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise MalformedEvent(path, f"expected epoch milliseconds, got {value!r}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)
