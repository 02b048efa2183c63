"""The ledger: Greenlight's durable, append-only record in DynamoDB.

The table has a partition key ``pk`` and a sort key ``sk`` (both strings) and nothing
else. Three kinds of item live in it:

``GROUP#<group>`` / ``EVENT#<event id>``
    The one outcome of one event (or CLI request) that reached the trigger. Written once;
    only a ``failed`` outcome may be replaced, by the retry that finally handles the event.
``PACKAGE#<arn>`` / ``ACT#<sequence>``
    What the trigger acted on for one model package version, in order (``kind``): an
    ``approval`` that started a deployment, a ``redeploy``, an approval the gates
    refused (``gate-refused``), an approval skipped because a newer one of the group was
    already claimed (``stale``), a ``rejection``, and a claim given back because its
    StartPipelineExecution failed (``released``, with the token the next claim reuses).
    The latest act decides whether a new Approved event is a duplicate (DESIGN rule 3):
    after ``approval``, ``redeploy``, ``gate-refused`` or ``stale`` it is. A new act is
    claimed with a conditional write, so two concurrent deliveries cannot both claim it.
``PACKAGE#<arn>`` / ``APPROVED#<sequence of the last rejection act, 0 if none>``
    When the version was approved (``approvedAt``), as the trigger first saw it: the
    earliest of the approval event's ``LastModifiedTime`` and DescribeModelPackage's.
    Written once per approval (a re-approval after a rejection is a new one), so a later
    metadata edit, which moves ``LastModifiedTime``, does not move it.
``GROUP#<group>`` / ``NEWEST-APPROVAL``
    The group's high-water mark (:class:`NewestApproval`): the newest approval that was
    claimed, ranked by approval time and then version (``rank``). An approval is claimed
    in one TransactWriteItems with the mark, on the condition that the mark is older, so
    of two approvals handled at the same moment only the newer one can win
    (DESIGN rule 4). Only ever raised.
``GROUP#<group>`` / ``APPROVAL#<approval time>#<version>``
    Every approval that started a deployment, sorted by approval time. Ledgers written
    before the mark existed are read through the newest of these.
``GROUP#<group>`` / ``PIPELINE#<event time>#<event id>``
    What the recorder saw of the group's pipeline: one item per CodePipeline
    state-change event it acted on (:class:`PipelineRecord`), sorted by the event's time
    so that ``greenlight history --since`` is one key-range query. ``record`` says what
    the item is: ``execution-started``, ``execution-ended`` (with the final state),
    ``stage-started``, ``deployed``, ``failed`` (with the failing action and its
    message), ``rolled-back`` (the stage of a failed execution was put back: the target
    execution and version, and the failed execution and version), ``superseded``,
    ``stopped``, ``awaiting-approval``, ``approval-answered`` (a manual approval's
    answer, ``state`` SUCCEEDED or FAILED, with who gave it in ``answeredBy``) and
    ``action-failed``. Every item carries the execution id, CodePipeline's trigger type
    and detail (for a RollbackStage: who called it) and, when known, the package ARN and
    version it deployed. Written once, with a condition on the key, so a redelivered
    event changes nothing.

``GROUP#<group>`` / ``MALFORMED#<event id>``
    A CodePipeline state-change event the recorder could not use (:class:`MalformedRecord`):
    the first field it could not use and why, written once, so the event is neither
    retried nor dead-lettered and is still accounted for. An event whose own id is
    unusable is kept under a digest of its body (``malformed-…``). (The trigger keeps its
    malformed events as ``skipped-malformed`` outcomes.)

A trigger outcome also keeps who registered and who approved the version, the approval
description and the approval time, as the registry said when the trigger acted: the
history reads them from here instead of describing every package again.

A ``rollback-started`` outcome (a rejection's, or ``greenlight rollback``'s) lists the
rollback executions it started in ``rollbacks``: a list of maps, one per stage rolled
back, ``{"stage", "executionId", "targetExecutionId", "targetVersion", "targetArn"}``
(:class:`RollbackStart`; the last two when known). The history tells who started a
ROLLBACK execution from this list, never from the free-text ``reason``. Outcomes written
before the list existed have no ``rollbacks`` attribute.

An outcome of an operator's request (``greenlight rollback``, ``greenlight redeploy``)
keeps who made it, ``operator`` (the caller's ARN from STS GetCallerIdentity), and why,
``operatorReason`` (the required ``--reason``). Other outcomes have neither attribute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
ACT_STALE: Final = "stale"
ACT_RELEASED: Final = "released"
#: Acts after which a new Approved event for the same version starts nothing.
APPROVAL_ACTS: Final = (ACT_APPROVAL, ACT_REDEPLOY, ACT_GATE_REFUSED, ACT_STALE)
NEWEST_APPROVAL_KEY: Final = "NEWEST-APPROVAL"

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
class RollbackStart:
    """One rollback execution started by a trigger outcome or a CLI request."""

    stage: str
    #: The ROLLBACK execution that CodePipeline's RollbackStage started.
    execution_id: str
    #: The earlier execution whose version it puts back, and that version.
    target_execution_id: str
    target_version: int | None = None
    target_arn: str | None = None

    def to_value(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "stage": self.stage,
            "executionId": self.execution_id,
            "targetExecutionId": self.target_execution_id,
            "targetVersion": self.target_version,
            "targetArn": self.target_arn,
        }
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> RollbackStart:
        version = value.get("targetVersion")
        arn = value.get("targetArn")
        return cls(
            stage=str(value["stage"]),
            execution_id=str(value["executionId"]),
            target_execution_id=str(value["targetExecutionId"]),
            target_version=None if version is None else int(version),
            target_arn=None if arn is None else str(arn),
        )


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
    approval_description: str | None = None
    approved_at: datetime | None = None
    attempts: int = 1
    #: Per-stage results of a rejection: stage -> what was done there.
    stages: Mapping[str, str] = field(default_factory=dict)
    stopped_executions: tuple[str, ...] = ()
    #: The rollback executions this outcome started, one per stage rolled back.
    rollbacks: tuple[RollbackStart, ...] = ()
    #: For an operator's request: who made it (an IAM ARN) and why.
    operator: str | None = None
    operator_reason: str | None = None

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
            "approvalDescription": self.approval_description,
            "approvedAt": None if self.approved_at is None else timestamp(self.approved_at),
            "attempts": self.attempts,
            "stages": dict(self.stages) or None,
            "stoppedExecutions": list(self.stopped_executions) or None,
            "rollbacks": [r.to_value() for r in self.rollbacks] or None,
            "operator": self.operator,
            "operatorReason": self.operator_reason,
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
            approval_description=raw.get("approvalDescription"),
            approved_at=_optional_time(raw.get("approvedAt")),
            attempts=int(raw.get("attempts", 1)),
            stages={str(k): str(v) for k, v in (raw.get("stages") or {}).items()},
            stopped_executions=tuple(str(v) for v in raw.get("stoppedExecutions") or ()),
            rollbacks=tuple(RollbackStart.from_value(v) for v in raw.get("rollbacks") or ()),
            operator=raw.get("operator"),
            operator_reason=raw.get("operatorReason"),
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
        return _serialize(
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


@dataclass(frozen=True, kw_only=True)
class MalformedRecord:
    """An event the recorder could not use, recorded once."""

    group: str
    event_id: str
    #: The field that could not be used, then why: ``event.<field>: <problem>``.
    reason: str
    recorded_at: datetime

    def key(self) -> dict[str, str]:
        return {PK: group_key(self.group), SK: f"MALFORMED#{self.event_id}"}

    def to_item(self) -> dict[str, Any]:
        return _serialize(
            {
                **self.key(),
                "kind": "malformed-event",
                "group": self.group,
                "eventId": self.event_id,
                "reason": self.reason,
                "recordedAt": timestamp(self.recorded_at),
            }
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> MalformedRecord:
        raw = _deserialize(item)
        return cls(
            group=str(raw["group"]),
            event_id=str(raw["eventId"]),
            reason=str(raw["reason"]),
            recorded_at=parse_timestamp(str(raw["recordedAt"])),
        )


# --- what the recorder saw ---------------------------------------------------------

RECORD_EXECUTION_STARTED: Final = "execution-started"
RECORD_EXECUTION_ENDED: Final = "execution-ended"
RECORD_STAGE_STARTED: Final = "stage-started"
RECORD_DEPLOYED: Final = "deployed"
RECORD_FAILED: Final = "failed"
RECORD_ROLLED_BACK: Final = "rolled-back"
RECORD_SUPERSEDED: Final = "superseded"
RECORD_STOPPED: Final = "stopped"
RECORD_AWAITING_APPROVAL: Final = "awaiting-approval"
RECORD_APPROVAL_ANSWERED: Final = "approval-answered"
RECORD_ACTION_FAILED: Final = "action-failed"
RECORDS: Final = (
    RECORD_EXECUTION_STARTED,
    RECORD_EXECUTION_ENDED,
    RECORD_STAGE_STARTED,
    RECORD_DEPLOYED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_SUPERSEDED,
    RECORD_STOPPED,
    RECORD_AWAITING_APPROVAL,
    RECORD_APPROVAL_ANSWERED,
    RECORD_ACTION_FAILED,
)
PIPELINE_PREFIX: Final = "PIPELINE#"


@dataclass(frozen=True, kw_only=True)
class PipelineRecord:
    """One CodePipeline state-change event the recorder acted on, and what it meant."""

    group: str
    event_id: str
    #: When the event happened (its ``time``); orders the records.
    at: datetime
    record: str
    execution_id: str
    #: STANDARD or ROLLBACK.
    execution_type: str = "STANDARD"
    #: CodePipeline's trigger type (StartPipelineExecution, AutomatedRollback, ...).
    trigger_type: str | None = None
    #: CodePipeline's trigger detail: for StartPipelineExecution and RollbackStage, the
    #: caller's identity ARN.
    trigger_detail: str | None = None
    #: The TriggerReason pipeline variable (approval, redeploy, ...).
    trigger_reason: str | None = None
    #: The RequestId pipeline variable: the trigger outcome's event id.
    request_id: str | None = None
    model_package_arn: str | None = None
    model_package_version: int | None = None
    stage: str | None = None
    action: str | None = None
    #: The state CodePipeline reported (SUCCEEDED, FAILED, SUPERSEDED, ...).
    state: str | None = None
    reason: str | None = None
    #: When the execution (or the stage, for stage records) started.
    started_at: datetime | None = None
    #: For rollbacks: the execution whose variables were put back, and its version.
    rollback_target_execution_id: str | None = None
    rollback_target_version: int | None = None
    #: For ``rolled-back``: the execution that failed in the stage, and its version.
    rolled_back_execution_id: str | None = None
    rolled_back_version: int | None = None
    #: For ``deployed``: what the Deploy action reported as live.
    endpoint_name: str | None = None
    endpoint_config_name: str | None = None
    #: For ``approval-answered``: who answered the manual approval (CodePipeline's
    #: ``updatedBy``, an identity ARN).
    answered_by: str | None = None
    #: When the recorder wrote it: orders records whose events share a second.
    recorded_at: datetime | None = None

    def sort_key(self) -> tuple[datetime, datetime, str]:
        """Event time, then recording time: the order things happened in."""
        return (self.at, self.recorded_at or self.at, self.event_id)

    def key(self) -> dict[str, str]:
        return {
            PK: group_key(self.group),
            SK: f"{PIPELINE_PREFIX}{timestamp(self.at)}#{self.event_id}",
        }

    def to_item(self) -> dict[str, Any]:
        return _serialize(
            {
                **self.key(),
                "kind": "pipeline-record",
                "group": self.group,
                "eventId": self.event_id,
                "at": timestamp(self.at),
                "record": self.record,
                "executionId": self.execution_id,
                "executionType": self.execution_type,
                "triggerType": self.trigger_type,
                "triggerDetail": self.trigger_detail,
                "triggerReason": self.trigger_reason,
                "requestId": self.request_id,
                "modelPackageArn": self.model_package_arn,
                "modelPackageVersion": self.model_package_version,
                "stage": self.stage,
                "action": self.action,
                "state": self.state,
                "reason": self.reason,
                "startedAt": None if self.started_at is None else timestamp(self.started_at),
                "rollbackTargetExecutionId": self.rollback_target_execution_id,
                "rollbackTargetVersion": self.rollback_target_version,
                "rolledBackExecutionId": self.rolled_back_execution_id,
                "rolledBackVersion": self.rolled_back_version,
                "endpointName": self.endpoint_name,
                "endpointConfigName": self.endpoint_config_name,
                "answeredBy": self.answered_by,
                "recordedAt": None if self.recorded_at is None else timestamp(self.recorded_at),
            }
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> PipelineRecord:
        raw = _deserialize(item)

        def number(name: str) -> int | None:
            value = raw.get(name)
            return None if value is None else int(value)

        return cls(
            group=str(raw["group"]),
            event_id=str(raw["eventId"]),
            at=parse_timestamp(str(raw["at"])),
            record=str(raw["record"]),
            execution_id=str(raw["executionId"]),
            execution_type=str(raw.get("executionType", "STANDARD")),
            trigger_type=raw.get("triggerType"),
            trigger_detail=raw.get("triggerDetail"),
            trigger_reason=raw.get("triggerReason"),
            request_id=raw.get("requestId"),
            model_package_arn=raw.get("modelPackageArn"),
            model_package_version=number("modelPackageVersion"),
            stage=raw.get("stage"),
            action=raw.get("action"),
            state=raw.get("state"),
            reason=raw.get("reason"),
            started_at=_optional_time(raw.get("startedAt")),
            rollback_target_execution_id=raw.get("rollbackTargetExecutionId"),
            rollback_target_version=number("rollbackTargetVersion"),
            rolled_back_execution_id=raw.get("rolledBackExecutionId"),
            rolled_back_version=number("rolledBackVersion"),
            endpoint_name=raw.get("endpointName"),
            endpoint_config_name=raw.get("endpointConfigName"),
            answered_by=raw.get("answeredBy"),
            recorded_at=_optional_time(raw.get("recordedAt")),
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

    def claim(
        self,
        act: Act,
        *,
        approval: GroupApproval | None = None,
        newest: NewestApproval | None = None,
    ) -> bool:
        """Append ``act``, with the group ``approval`` it starts and the raised mark
        ``newest``, all or nothing (one TransactWriteItems), unless one got there first.

        Returns False when a concurrent handler already claimed that act sequence, or
        raised the group's mark to ``newest``'s rank or above; the caller re-reads and
        decides again.
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
            # The same approval (time and version) claimed again after a release
            # writes the same item again.
            items.append({"Put": {"TableName": self.table_name, "Item": approval.to_item()}})
        if newest is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": newest.to_item(),
                        "ConditionExpression": "attribute_not_exists(#pk) OR #rank < :rank",
                        "ExpressionAttributeNames": {"#pk": PK, "#rank": "rank"},
                        "ExpressionAttributeValues": {":rank": {"S": newest.rank}},
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

    def newest_approval(self, group: str) -> NewestApproval | None:
        """The group's high-water mark (or, in a ledger from before it, the newest
        approval that started a deployment)."""
        key = {PK: group_key(group), SK: NEWEST_APPROVAL_KEY}
        response = self.client.get_item(
            TableName=self.table_name, Key=_serialize(key), ConsistentRead=True
        )
        item = response.get("Item")
        if item is not None:
            return NewestApproval.from_item(item)
        legacy = self.latest_group_approval(group)
        return None if legacy is None else NewestApproval.of(legacy)

    # --- approval times ---------------------------------------------------------------

    def record_approval_time(
        self, arn: str, *, after_act: int, approved_at: datetime, event_id: str
    ) -> datetime:
        """Record when ``arn`` was approved (the approval that followed act ``after_act``,
        the last rejection, 0 for the first approval) unless it is recorded already;
        return the recorded time."""
        key = {PK: package_key(arn), SK: f"APPROVED#{after_act:08d}"}
        item = {
            **key,
            "kind": "approval-time",
            "modelPackageArn": arn,
            "approvedAt": timestamp(approved_at),
            "eventId": event_id,
        }
        if not self._put_new(_serialize(item)):
            recorded = self.client.get_item(
                TableName=self.table_name, Key=_serialize(key), ConsistentRead=True
            )["Item"]
            return parse_timestamp(str(_deserialize(recorded)["approvedAt"]))
        return parse_timestamp(timestamp(approved_at))

    # --- malformed events ------------------------------------------------------------

    def put_malformed(self, record: MalformedRecord) -> bool:
        """Record ``record`` unless the event was recorded as malformed already."""
        return self._put_new(record.to_item())

    def malformed_events(self, group: str) -> list[MalformedRecord]:
        return [
            MalformedRecord.from_item(item)
            for item in self._query(group_key(group), "MALFORMED#", newest=False)
        ]

    # --- pipeline records -------------------------------------------------------------

    def has_pipeline_event(self, group: str, at: datetime, event_id: str) -> bool:
        key = {PK: group_key(group), SK: f"{PIPELINE_PREFIX}{timestamp(at)}#{event_id}"}
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_serialize(key),
            ConsistentRead=True,
            ProjectionExpression="#pk",
            ExpressionAttributeNames={"#pk": PK},
        )
        return "Item" in response

    def put_pipeline_record(self, record: PipelineRecord) -> bool:
        """Append ``record``; False when the same event was recorded already."""
        return self._put_new(record.to_item())

    def _put_new(self, item: Mapping[str, Any]) -> bool:
        """Put ``item`` (already serialized) unless an item with its key exists; False
        when one does. The ledger is append-only: nothing is overwritten."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pipeline_records(
        self, group: str, *, since: datetime | None = None, newest_first: bool = False
    ) -> Iterator[PipelineRecord]:
        """The group's pipeline records in event-time order (from ``since``), read page by
        page as the caller iterates."""
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        values: dict[str, Any] = {
            ":pk": {"S": group_key(group)},
            ":prefix": {"S": PIPELINE_PREFIX},
        }
        if since is not None:
            condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
            values = {
                ":pk": {"S": group_key(group)},
                ":low": {"S": f"{PIPELINE_PREFIX}{timestamp(since)}"},
                ":high": {"S": f"{PIPELINE_PREFIX}~"},
            }
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
        }
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                yield PipelineRecord.from_item(item)
            last = response.get("LastEvaluatedKey")
            if last is None:
                return
            kwargs["ExclusiveStartKey"] = last

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


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else parse_timestamp(str(value))


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
