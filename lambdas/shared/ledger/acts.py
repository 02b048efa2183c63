"""What the trigger acted on: acts on a package version, the approvals that started a
deployment, and the group's newest-approval mark."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.contract import LEDGER_PARTITION_KEY as PK
from shared.contract import LEDGER_SORT_KEY as SK
from shared.ledger.codec import (
    deserialize,
    group_key,
    package_key,
    parse_timestamp,
    serialize,
    timestamp,
)

ACT_APPROVAL: Final = "approval"
ACT_REDEPLOY: Final = "redeploy"
ACT_GATE_REFUSED: Final = "gate-refused"
ACT_REJECTION: Final = "rejection"
ACT_STALE: Final = "stale"
ACT_RELEASED: Final = "released"
#: Acts after which a new Approved event for the same version starts nothing.
APPROVAL_ACTS: Final = (ACT_APPROVAL, ACT_REDEPLOY, ACT_GATE_REFUSED, ACT_STALE)
NEWEST_APPROVAL_KEY: Final = "NEWEST-APPROVAL"


@dataclass(frozen=True, kw_only=True)
class Act:
    """One thing the trigger acted on for one model package version."""

    arn: str
    sequence: int
    kind: str
    event_id: str
    recorded_at: datetime
    client_request_token: str | None = None

    def key(self) -> dict[str, str]:
        return {PK: package_key(self.arn), SK: f"ACT#{self.sequence:08d}"}

    def to_item(self) -> dict[str, Any]:
        return serialize(
            {
                **self.key(),
                "kind": self.kind,
                "modelPackageArn": self.arn,
                "sequence": self.sequence,
                "eventId": self.event_id,
                "recordedAt": timestamp(self.recorded_at),
                "clientRequestToken": self.client_request_token,
            }
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Act:
        raw = deserialize(item)
        return cls(
            arn=str(raw["modelPackageArn"]),
            sequence=int(raw["sequence"]),
            kind=str(raw["kind"]),
            event_id=str(raw["eventId"]),
            recorded_at=parse_timestamp(str(raw["recordedAt"])),
            client_request_token=raw.get("clientRequestToken"),
        )


@dataclass(frozen=True, kw_only=True)
class GroupApproval:
    """An approval of the group that started a deployment."""

    group: str
    approved_at: datetime
    arn: str
    version: int
    event_id: str

    def key(self) -> dict[str, str]:
        return {
            PK: group_key(self.group),
            SK: f"APPROVAL#{timestamp(self.approved_at)}#{self.version:08d}",
        }

    def to_item(self) -> dict[str, Any]:
        return serialize(
            {
                **self.key(),
                "kind": "approval",
                "group": self.group,
                "approvedAt": timestamp(self.approved_at),
                "modelPackageArn": self.arn,
                "modelPackageVersion": self.version,
                "eventId": self.event_id,
            }
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> GroupApproval:
        raw = deserialize(item)
        return cls(
            group=str(raw["group"]),
            approved_at=parse_timestamp(str(raw["approvedAt"])),
            arn=str(raw["modelPackageArn"]),
            version=int(raw["modelPackageVersion"]),
            event_id=str(raw["eventId"]),
        )


def approval_rank(approved_at: datetime, version: int) -> str:
    """Orders approvals: by approval time, then version. Compared as a string."""
    return f"{timestamp(approved_at)}#{version:010d}"


@dataclass(frozen=True, kw_only=True)
class NewestApproval:
    """The group's high-water mark: the newest approval claimed so far."""

    group: str
    approved_at: datetime
    arn: str
    version: int
    event_id: str

    @property
    def rank(self) -> str:
        return approval_rank(self.approved_at, self.version)

    def key(self) -> dict[str, str]:
        return {PK: group_key(self.group), SK: NEWEST_APPROVAL_KEY}

    def to_item(self) -> dict[str, Any]:
        return serialize(
            {
                **self.key(),
                "kind": "newest-approval",
                "rank": self.rank,
                "group": self.group,
                "approvedAt": timestamp(self.approved_at),
                "modelPackageArn": self.arn,
                "modelPackageVersion": self.version,
                "eventId": self.event_id,
            }
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> NewestApproval:
        return cls.of(GroupApproval.from_item(item))

    @classmethod
    def of(cls, approval: GroupApproval) -> NewestApproval:
        return cls(
            group=approval.group,
            approved_at=approval.approved_at,
            arn=approval.arn,
            version=approval.version,
            event_id=approval.event_id,
        )
