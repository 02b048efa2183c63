"""What the recorder kept: one item per CodePipeline state-change event it acted on, and
the events it could not use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared import contract
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
        return serialize(
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
        raw = deserialize(item)
        return cls(
            group=str(raw["group"]),
            event_id=str(raw["eventId"]),
            reason=str(raw["reason"]),
            recorded_at=parse_timestamp(str(raw["recordedAt"])),
        )


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
    execution_type: str = contract.EXECUTION_STANDARD
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
        return serialize(
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
        raw = deserialize(item)

        def number(name: str) -> int | None:
            value = raw.get(name)
            return None if value is None else int(value)

        return cls(
            group=str(raw["group"]),
            event_id=str(raw["eventId"]),
            at=parse_timestamp(str(raw["at"])),
            record=str(raw["record"]),
            execution_id=str(raw["executionId"]),
            execution_type=str(raw.get("executionType", contract.EXECUTION_STANDARD)),
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
            started_at=optional_time(raw.get("startedAt")),
            rollback_target_execution_id=raw.get("rollbackTargetExecutionId"),
            rollback_target_version=number("rollbackTargetVersion"),
            rolled_back_execution_id=raw.get("rolledBackExecutionId"),
            rolled_back_version=number("rolledBackVersion"),
            endpoint_name=raw.get("endpointName"),
            endpoint_config_name=raw.get("endpointConfigName"),
            answered_by=raw.get("answeredBy"),
            recorded_at=optional_time(raw.get("recordedAt")),
        )
