"""The ledger: Greenlight's durable, append-only record in DynamoDB.

The table has a partition key ``pk`` and a sort key ``sk`` (both strings) and nothing
else. Three kinds of item live in it:

``GROUP#<group>`` / ``EVENT#<event id>``
    The one outcome of one event (or CLI request) that reached the trigger. Written once;
    only a ``failed`` outcome may be replaced, by the retry that finally handles the event.
``PACKAGE#<arn>`` / ``ACT#<sequence>``
    What the trigger acted on for one model package version, in order: an approval that
    started a deployment, a redeploy, an approval the gates refused, a rejection. The
    latest act decides whether a new Approved event is a duplicate (DESIGN rule 3). A
    new act is claimed with a conditional write, so two concurrent deliveries cannot both
    claim it.
``GROUP#<group>`` / ``APPROVAL#<approval time>#<version>``
    Every approval that started a deployment, sorted by approval time, so the newest is
    one query away (the stale guard, DESIGN rule 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.contract import LEDGER_PARTITION_KEY as PK
from shared.contract import LEDGER_SORT_KEY as SK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# --- trigger outcomes ---------------------------------------------------------------

OUTCOME_STARTED: Final = "started"
OUTCOME_SKIPPED_DUPLICATE: Final = "skipped-duplicate"
OUTCOME_SKIPPED_STALE: Final = "skipped-stale"
OUTCOME_SKIPPED_NOT_APPROVED: Final = "skipped-not-approved"
OUTCOME_SKIPPED_OTHER_GROUP: Final = "skipped-other-group"
OUTCOME_SKIPPED_MALFORMED: Final = "skipped-malformed"
OUTCOME_SKIPPED_MISSING: Final = "skipped-missing"
OUTCOME_SKIPPED_INVALID: Final = "skipped-invalid"
OUTCOME_GATE_REJECTED: Final = "gate-rejected"
OUTCOME_FAILED: Final = "failed"
OUTCOME_ROLLBACK_STARTED: Final = "rollback-started"
OUTCOME_ROLLBACK_NONE: Final = "rollback-none"
OUTCOME_STOPPED: Final = "stopped"
OUTCOME_RECORDED: Final = "recorded"
OUTCOMES: Final = (
    OUTCOME_STARTED,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_SKIPPED_STALE,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_OTHER_GROUP,
    OUTCOME_SKIPPED_MALFORMED,
    OUTCOME_SKIPPED_MISSING,
    OUTCOME_SKIPPED_INVALID,
    OUTCOME_GATE_REJECTED,
    OUTCOME_FAILED,
    OUTCOME_ROLLBACK_STARTED,
    OUTCOME_ROLLBACK_NONE,
    OUTCOME_STOPPED,
    OUTCOME_RECORDED,
)

# --- acts on a package version ------------------------------------------------------

ACT_APPROVAL: Final = "approval"
ACT_REDEPLOY: Final = "redeploy"
ACT_GATE_REFUSED: Final = "gate-refused"
ACT_REJECTION: Final = "rejection"
#: Acts after which a new Approved event for the same version starts nothing.
APPROVAL_ACTS: Final = (ACT_APPROVAL, ACT_REDEPLOY, ACT_GATE_REFUSED)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def timestamp(value: datetime) -> str:
    """A sortable UTC timestamp with microseconds, e.g. ``2026-01-05T09:15:00.000000Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def group_key(group: str) -> str:
    return f"GROUP#{group}"


def package_key(arn: str) -> str:
    return f"PACKAGE#{arn}"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """The one recorded outcome of one event (or CLI request) handled by the trigger."""

    group: str
    event_id: str
    outcome: str
    reason: str
    recorded_at: datetime
    model_package_arn: str | None = None
    model_package_version: int | None = None
    approval_status: str | None = None
    trigger_reason: str | None = None
    pipeline_execution_id: str | None = None
    client_request_token: str | None = None
    approved_by: str | None = None
    registered_by: str | None = None
    attempts: int = 1
    #: Per-stage results of a rejection: stage -> what was done there.
    stages: Mapping[str, str] = field(default_factory=dict)
    stopped_executions: tuple[str, ...] = ()

    def key(self) -> dict[str, str]:
        return {PK: group_key(self.group), SK: f"EVENT#{self.event_id}"}

    def to_item(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            **self.key(),
            "kind": "trigger-outcome",
            "group": self.group,
            "eventId": self.event_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "recordedAt": timestamp(self.recorded_at),
            "modelPackageArn": self.model_package_arn,
            "modelPackageVersion": self.model_package_version,
            "approvalStatus": self.approval_status,
            "triggerReason": self.trigger_reason,
            "pipelineExecutionId": self.pipeline_execution_id,
            "clientRequestToken": self.client_request_token,
            "approvedBy": self.approved_by,
            "registeredBy": self.registered_by,
            "attempts": self.attempts,
            "stages": dict(self.stages) or None,
            "stoppedExecutions": list(self.stopped_executions) or None,
        }
        return _serialize(values)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Outcome:
        raw = _deserialize(item)
        version = raw.get("modelPackageVersion")
        return cls(
            group=str(raw["group"]),
            event_id=str(raw["eventId"]),
            outcome=str(raw["outcome"]),
            reason=str(raw["reason"]),
            recorded_at=parse_timestamp(str(raw["recordedAt"])),
            model_package_arn=raw.get("modelPackageArn"),
            model_package_version=None if version is None else int(version),
            approval_status=raw.get("approvalStatus"),
            trigger_reason=raw.get("triggerReason"),
            pipeline_execution_id=raw.get("pipelineExecutionId"),
            client_request_token=raw.get("clientRequestToken"),
            approved_by=raw.get("approvedBy"),
            registered_by=raw.get("registeredBy"),
            attempts=int(raw.get("attempts", 1)),
            stages={str(k): str(v) for k, v in (raw.get("stages") or {}).items()},
            stopped_executions=tuple(str(v) for v in raw.get("stoppedExecutions") or ()),
        )


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
        return _serialize(
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
        raw = _deserialize(item)
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
        return _serialize(
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
        raw = _deserialize(item)
        return cls(
            group=str(raw["group"]),
            approved_at=parse_timestamp(str(raw["approvedAt"])),
            arn=str(raw["modelPackageArn"]),
            version=int(raw["modelPackageVersion"]),
            event_id=str(raw["eventId"]),
        )


class Ledger:
    """Reads and conditional writes on the ledger table."""

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    # --- outcomes -----------------------------------------------------------------

    def get_outcome(self, group: str, event_id: str) -> Outcome | None:
        key = {PK: group_key(group), SK: f"EVENT#{event_id}"}
        response = self.client.get_item(
            TableName=self.table_name, Key=_serialize(key), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else Outcome.from_item(item)

    def put_outcome(self, outcome: Outcome) -> Outcome:
        """Record ``outcome`` unless the event already has one that is not ``failed``.

        Returns the outcome that is recorded for the event afterwards (``outcome`` itself,
        or the one a concurrent delivery recorded first).
        """
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=outcome.to_item(),
                ConditionExpression="attribute_not_exists(#pk) OR #outcome = :failed",
                ExpressionAttributeNames={"#pk": PK, "#outcome": "outcome"},
                ExpressionAttributeValues={":failed": {"S": OUTCOME_FAILED}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self.get_outcome(outcome.group, outcome.event_id)
            if existing is None:  # pragma: no cover - the condition just saw it
                raise
            return existing
        return outcome

    def outcomes(self, group: str) -> list[Outcome]:
        return [
            Outcome.from_item(item)
            for item in self._query(group_key(group), "EVENT#", newest=False)
        ]

    # --- acts ---------------------------------------------------------------------

    def latest_act(self, arn: str) -> Act | None:
        items = self._query(package_key(arn), "ACT#", newest=True, limit=1)
        return Act.from_item(items[0]) if items else None

    def acts(self, arn: str) -> list[Act]:
        return [Act.from_item(item) for item in self._query(package_key(arn), "ACT#", newest=False)]

    def claim(self, act: Act, *, approval: GroupApproval | None = None) -> bool:
        """Append ``act`` (and the group ``approval`` it starts) unless one got there first.

        Returns False when a concurrent handler already claimed that act sequence (or that
        approval item); the caller re-reads and decides again.
        """
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": act.to_item(),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PK},
                }
            }
        ]
        if approval is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": approval.to_item(),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": PK},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    # --- group approvals ------------------------------------------------------------

    def latest_group_approval(self, group: str) -> GroupApproval | None:
        items = self._query(group_key(group), "APPROVAL#", newest=True, limit=1)
        return GroupApproval.from_item(items[0]) if items else None

    # --- helpers --------------------------------------------------------------------

    def _query(
        self, partition: str, prefix: str, *, newest: bool, limit: int | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest,
            "ConsistentRead": True,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        while True:
            response = self.client.query(**kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if last is None or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
