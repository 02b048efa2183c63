"""Trigger outcomes: the one recorded result of each event (or CLI request) the trigger
handled, ``GROUP#<group>`` / ``EVENT#<event id>``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from shared.contract import LEDGER_PARTITION_KEY as PK
from shared.contract import LEDGER_SORT_KEY as SK
from shared.ledger.codec import (
    deserialize,
    group_key,
    optional_time,
    parse_timestamp,
    serialize,
    timestamp,
)

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
        return serialize(values)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Outcome:
        raw = deserialize(item)
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
            approved_at=optional_time(raw.get("approvedAt")),
            attempts=int(raw.get("attempts", 1)),
            stages={str(k): str(v) for k, v in (raw.get("stages") or {}).items()},
            stopped_executions=tuple(str(v) for v in raw.get("stoppedExecutions") or ()),
            rollbacks=tuple(RollbackStart.from_value(v) for v in raw.get("rollbacks") or ()),
            operator=raw.get("operator"),
            operator_reason=raw.get("operatorReason"),
        )
