"""What the history knows of one pipeline execution and of the approval behind it,
gathered from the recorder's ledger records and CodePipeline's execution summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from pipeline_scripts.history.rows import HistoryRow, Result
from shared import contract
from shared.ledger import (
    RECORD_APPROVAL_ANSWERED,
    RECORD_AWAITING_APPROVAL,
    RECORD_EXECUTION_ENDED,
    RECORD_EXECUTION_STARTED,
    RECORD_STOPPED,
    RECORD_SUPERSEDED,
    Outcome,
    PipelineRecord,
)
from shared.pipeline_history import ExecutionSummary

#: A stage's result when its execution ended with this CodePipeline status before the
#: stage had an outcome of its own.
STATUS_RESULTS: Final[dict[str, Result]] = {
    contract.STATUS_SUPERSEDED: "superseded",
    contract.STATUS_STOPPED: "stopped",
    contract.STATUS_STOPPING: "stopped",
    contract.STATUS_CANCELLED: "stopped",
}


@dataclass
class Execution:
    execution_id: str
    records: list[PipelineRecord] = field(default_factory=list)
    summary: ExecutionSummary | None = None
    arn: str | None = None
    version: int | None = None
    trigger_reason: str | None = None
    request_id: str | None = None
    execution_type: str = contract.EXECUTION_STANDARD
    trigger_type: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    status: str | None = None
    trigger_detail: str | None = None
    #: Stage -> who approved the manual approval in front of it.
    answers: dict[str, str] = field(default_factory=dict)
    #: Stages whose manual approval was seen waiting, and those seen answered.
    awaited: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)

    def learn(self, record: PipelineRecord) -> None:
        self.records.append(record)
        self.trigger_detail = self.trigger_detail or record.trigger_detail
        self._learn_answer(record)
        self.arn = self.arn or record.model_package_arn
        self.version = self.version or record.model_package_version
        self.trigger_reason = self.trigger_reason or record.trigger_reason
        self.request_id = self.request_id or record.request_id
        self.trigger_type = self.trigger_type or record.trigger_type
        if record.execution_type == contract.EXECUTION_ROLLBACK:
            self.execution_type = contract.EXECUTION_ROLLBACK
        if record.record == RECORD_EXECUTION_STARTED:
            self.started = record.started_at or record.at
        if record.record in (RECORD_EXECUTION_ENDED, RECORD_SUPERSEDED, RECORD_STOPPED):
            self.ended = record.at
            self.status = {
                RECORD_SUPERSEDED: contract.STATUS_SUPERSEDED,
                RECORD_STOPPED: contract.STATUS_STOPPED,
            }.get(record.record, (record.state or "").capitalize())

    def _learn_answer(self, record: PipelineRecord) -> None:
        if not record.stage:
            return
        if record.record == RECORD_AWAITING_APPROVAL:
            self.awaited.add(record.stage)
        if record.record == RECORD_APPROVAL_ANSWERED:
            self.answered.add(record.stage)
            if record.state == contract.STATE_SUCCEEDED and record.answered_by:
                self.answers[record.stage] = record.answered_by

    def learn_summary(self, summary: ExecutionSummary) -> None:
        self.summary = summary
        self.status = summary.status or self.status
        self.execution_type = summary.execution_type or self.execution_type
        self.trigger_type = summary.trigger_type or self.trigger_type
        self.trigger_detail = self.trigger_detail or summary.trigger_detail
        self.started = self.started or summary.started
        if self.status not in contract.RUNNING_STATUSES:
            self.ended = self.ended or summary.last_update

    def status_reason(self) -> str | None:
        """Why the execution stopped short: the recorder's reason, else CodePipeline's."""
        for record in reversed(self.records):
            if record.record in (RECORD_STOPPED, RECORD_SUPERSEDED) and record.reason:
                return record.reason
        if self.status == contract.STATUS_SUPERSEDED:
            return "a newer execution overtook it"
        return None if self.summary is None else self.summary.stop_reason


@dataclass(frozen=True)
class Approval:
    registrant: str | None
    approver: str | None
    description: str | None
    time: datetime | None

    def row(self, group: str, version: int, arn: str, **fields: Any) -> HistoryRow:
        """A history row of ``group``'s ``version`` (``arn``) under this approval."""
        return HistoryRow(
            group=group,
            version=version,
            model_package_arn=arn,
            registrant=self.registrant,
            approver=self.approver,
            approval_description=self.description,
            approval_time=self.time,
            **fields,
        )

    @classmethod
    def of(cls, outcome: Outcome | None) -> Approval:
        """The decision the trigger recorded with ``outcome`` (none: all unknown)."""
        if outcome is None:
            return cls(None, None, None, None)
        return cls(
            outcome.registered_by,
            outcome.approved_by,
            outcome.approval_description,
            outcome.approved_at,
        )
