"""The recorder: what the group's pipeline did, kept, written back and told.

For every CodePipeline state-change event of the group's pipeline it

1. appends one :class:`~shared.ledger.PipelineRecord` to the ledger (deployed, failed,
   rolled back, superseded, stopped, started, awaiting approval ...), linking the
   execution to the exact package ARN and version it carries (read once per execution
   with GetPipelineExecution);
2. writes stage outcomes back to the registry: ``ModelLifeCycle`` (Stage, StageStatus,
   StageDescription) and the ``greenlight:<stage>:execution`` / ``greenlight:<stage>:at``
   metadata, with an UpdateModelPackage that names only those fields;
3. publishes a readable message with the attributes ``group``, ``stage``, ``outcome`` and
   ``version``.

It only observes: nothing it does can fail a deployment. An event it cannot use (a
field missing or of the wrong shape) is recorded once as malformed, naming the field,
and the function returns normally. Any other error is raised, so Lambda retries the
event and, in the end, puts it in the dead-letter queue. A
redelivered event finds its record in the ledger and does nothing again.

Write-back makes SageMaker emit another state-change event for the package; the
approval trigger sees an approval it already acted on and starts nothing (DESIGN rule 3).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Final, Unpack

from recorder.events import MalformedPipelineEvent, PipelineStateChange, parse_pipeline_event
from recorder.messages import notify
from recorder.write_back import write_back
from shared import contract
from shared.events import event_id_of
from shared.function_clients import Clients, LedgerFunction
from shared.ledger import (
    RECORD_ACTION_FAILED,
    RECORD_APPROVAL_ANSWERED,
    RECORD_AWAITING_APPROVAL,
    RECORD_DEPLOYED,
    RECORD_EXECUTION_ENDED,
    RECORD_EXECUTION_STARTED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_STAGE_STARTED,
    RECORD_STOPPED,
    RECORD_SUPERSEDED,
    MalformedRecord,
    PipelineRecord,
)
from shared.observability import correlate, logger
from shared.pipeline_history import ExecutionFacts, PipelineHistory
from shared.settings import RecorderConfig

if TYPE_CHECKING:
    pass

#: What a handled event came to, besides a record kind.
IGNORED: Final = "ignored"
DUPLICATE: Final = "duplicate"
MALFORMED: Final = "malformed"

_CACHE_LIMIT: Final = 256


@dataclass(frozen=True)
class Recorded:
    """What one event came to: a record kind, ``ignored``, ``duplicate`` or ``malformed``."""

    event_id: str
    result: str
    record: PipelineRecord | None = None


class Recorder(LedgerFunction[RecorderConfig]):
    def __init__(self, config: RecorderConfig, **clients: Unpack[Clients]) -> None:
        super().__init__(config, **clients)
        self._executions: dict[str, ExecutionFacts] = {}
        self._history: PipelineHistory | None = None

    # --- entry point --------------------------------------------------------------

    def handle(self, event: object) -> Recorded:
        try:
            change = parse_pipeline_event(event)
        except MalformedPipelineEvent as error:
            return self._malformed(event, error)
        if change.pipeline != self.config.pipeline_name:
            logger.info("event %s is for pipeline %s: ignored", change.event_id, change.pipeline)
            return Recorded(change.event_id, IGNORED)
        # Action executions change as the pipeline runs: read them afresh for each event.
        self._history = PipelineHistory(self.codepipeline, self.config.pipeline_name)
        if self.ledger.has_pipeline_event(self.config.group, change.at, change.event_id):
            logger.info("event %s was recorded already", change.event_id)
            return Recorded(change.event_id, DUPLICATE)
        record = self._decide(change)
        if record is None:
            return Recorded(change.event_id, IGNORED)
        record = replace(record, recorded_at=self.clock.now())
        self._act(record)
        if not self.ledger.put_pipeline_record(record):
            logger.info("event %s was recorded by a concurrent delivery", change.event_id)
            return Recorded(change.event_id, DUPLICATE, record)
        logger.info(
            "event %s: %s of execution %s (%s)",
            change.event_id,
            record.record,
            record.execution_id,
            record.stage or "pipeline",
        )
        return Recorded(change.event_id, record.record, record)

    def _malformed(self, event: object, error: MalformedPipelineEvent) -> Recorded:
        """Record an event that cannot be used, once, and return normally: retrying it
        would fail the same way, so it must not reach the dead-letter queue."""
        record = MalformedRecord(
            group=self.config.group,
            event_id=event_id_of(event),
            reason=str(error)[:2000],
            recorded_at=self.clock.now(),
        )
        if self.ledger.put_malformed(record):
            logger.warning("event %s is malformed: %s", record.event_id, record.reason)
        return Recorded(record.event_id, MALFORMED)

    # --- what the event means --------------------------------------------------------

    def _decide(self, change: PipelineStateChange) -> PipelineRecord | None:
        execution = self._execution(change.execution_id)
        correlate(model_package_arn=execution.arn)
        if execution.deploys_nothing:
            return self._versionless_change(change, execution)
        if change.kind == "pipeline":
            return self._pipeline_change(change)
        if change.kind == "stage":
            return self._stage_change(change)
        return self._action_change(change)

    def _base(self, change: PipelineStateChange, record: str) -> PipelineRecord:
        execution = self._execution(change.execution_id)
        return PipelineRecord(
            group=self.config.group,
            event_id=change.event_id,
            at=change.at,
            record=record,
            execution_id=change.execution_id,
            execution_type=execution.execution_type,
            trigger_type=execution.trigger_type or change.trigger_type,
            trigger_detail=execution.trigger_detail or change.trigger_detail,
            trigger_reason=execution.trigger_reason,
            request_id=execution.request_id,
            model_package_arn=execution.arn,
            model_package_version=execution.version,
            stage=change.stage,
            action=change.action,
            state=change.state,
            started_at=change.start_time,
            rollback_target_execution_id=execution.rollback_target,
            rollback_target_version=execution.version if execution.is_rollback else None,
        )

    def _pipeline_change(self, change: PipelineStateChange) -> PipelineRecord | None:
        kinds = {
            contract.STATE_STARTED: RECORD_EXECUTION_STARTED,
            contract.STATE_SUCCEEDED: RECORD_EXECUTION_ENDED,
            contract.STATE_FAILED: RECORD_EXECUTION_ENDED,
            contract.STATE_CANCELED: RECORD_EXECUTION_ENDED,
            contract.STATE_SUPERSEDED: RECORD_SUPERSEDED,
            contract.STATE_STOPPED: RECORD_STOPPED,
        }
        kind = kinds.get(change.state)
        if kind is None:
            return None
        record = self._base(change, kind)
        if change.state == contract.STATE_FAILED and change.summary:
            record = replace(record, reason=change.summary)
        if kind == RECORD_STOPPED:
            record = replace(record, reason=self.history.stop_reason(change.execution_id))
        return record

    def _versionless_change(
        self, change: PipelineStateChange, execution: ExecutionFacts
    ) -> PipelineRecord | None:
        """The start and the end of an execution without a model version, saying so; its
        stages and actions deployed nothing and are not recorded."""
        if change.kind != "pipeline":
            return None
        record = self._pipeline_change(change)
        if record is None:
            return None
        why = (
            f"no model version (trigger {execution.trigger_type or change.trigger_type}): "
            "the execution deploys nothing and leaves the endpoints untouched"
        )
        return replace(record, reason=f"{why}; {record.reason}" if record.reason else why)

    def _stage_change(self, change: PipelineStateChange) -> PipelineRecord | None:
        stage = change.stage or ""
        if stage not in self.config.stages:
            return None  # the source stage and the manual approval stages
        if change.state == contract.STATE_STARTED:
            return replace(self._base(change, RECORD_STAGE_STARTED), started_at=change.at)
        if change.state == contract.STATE_SUCCEEDED:
            record = self._base(change, RECORD_DEPLOYED)
            endpoint, config_name = self._deployed_endpoint(change.execution_id, stage)
            record = replace(record, endpoint_name=endpoint, endpoint_config_name=config_name)
            record = replace(record, started_at=self._stage_started(change))
            if record.execution_type == contract.EXECUTION_ROLLBACK:
                return self._rolled_back(record)
            return record
        if change.state == contract.STATE_FAILED:
            record = self._base(change, RECORD_FAILED)
            return replace(
                record,
                reason=self.history.failure_summary(change.execution_id, stage),
                started_at=self._stage_started(change),
            )
        return None

    def _action_change(self, change: PipelineStateChange) -> PipelineRecord | None:
        if change.category == contract.CATEGORY_APPROVAL and change.state == contract.STATE_STARTED:
            record = self._base(change, RECORD_AWAITING_APPROVAL)
            return replace(record, stage=contract.stage_after_approval(change.stage or ""))
        if change.category == contract.CATEGORY_APPROVAL and change.state in (
            contract.STATE_SUCCEEDED,
            contract.STATE_FAILED,
        ):
            return self._approval_answered(change)
        if change.state == contract.STATE_FAILED:
            summary = change.summary or change.error_code or "no summary"
            return replace(
                self._base(change, RECORD_ACTION_FAILED),
                reason=f"{change.action} failed: {summary}",
            )
        return None

    def _approval_answered(self, change: PipelineStateChange) -> PipelineRecord:
        """A manual approval was answered: who answered it is not in the event, so it is
        read from the approval's action execution (``updatedBy``)."""
        answered_by = self.history.answered_by(
            change.execution_id, change.stage or "", change.action or ""
        )
        verdict = "approved" if change.state == contract.STATE_SUCCEEDED else "rejected"
        return replace(
            self._base(change, RECORD_APPROVAL_ANSWERED),
            stage=contract.stage_after_approval(change.stage or ""),
            answered_by=answered_by,
            reason=f"{verdict} by {answered_by or 'an unknown identity'}"
            + (f": {change.summary}" if change.summary else ""),
        )

    def _rolled_back(self, record: PipelineRecord) -> PipelineRecord:
        """A ROLLBACK execution finished its stage: the version that failed (or was live)
        there is replaced by the target's. Find it in the ledger, newest first."""
        for earlier in self.ledger.pipeline_records(self.config.group, newest_first=True):
            if earlier.stage != record.stage or earlier.execution_id == record.execution_id:
                continue
            if earlier.record in (RECORD_FAILED, RECORD_DEPLOYED, RECORD_ROLLED_BACK):
                return replace(
                    record,
                    record=RECORD_ROLLED_BACK,
                    rolled_back_execution_id=earlier.execution_id,
                    rolled_back_version=earlier.model_package_version,
                    reason=earlier.reason if earlier.record == RECORD_FAILED else None,
                )
        return replace(record, record=RECORD_ROLLED_BACK)

    # --- CodePipeline reads (an execution's facts once per execution environment) -------

    @property
    def history(self) -> PipelineHistory:
        if self._history is None:
            self._history = PipelineHistory(self.codepipeline, self.config.pipeline_name)
        return self._history

    def _execution(self, execution_id: str) -> ExecutionFacts:
        cached = self._executions.get(execution_id)
        if cached is not None:
            return cached
        execution = self.history.facts(execution_id)
        if len(self._executions) >= _CACHE_LIMIT:
            self._executions.clear()
        self._executions[execution_id] = execution
        return execution

    def _deployed_endpoint(self, execution_id: str, stage: str) -> tuple[str | None, str | None]:
        outputs = self.history.output_variables(execution_id, stage, contract.ACTION_DEPLOY)
        return (
            outputs.get(contract.OUT_ENDPOINT_NAME),
            outputs.get(contract.OUT_ENDPOINT_CONFIG_NAME),
        )

    def _stage_started(self, change: PipelineStateChange) -> datetime | None:
        for record in self.ledger.pipeline_records(
            self.config.group, since=change.start_time, newest_first=True
        ):
            if (
                record.execution_id == change.execution_id
                and record.stage == change.stage
                and record.record == RECORD_STAGE_STARTED
            ):
                return record.started_at
        return change.start_time

    # --- side effects -------------------------------------------------------------------

    def _act(self, record: PipelineRecord) -> None:
        write_back(self.sagemaker, record)
        notify(
            self.sns,
            topic_arn=self.config.topic_arn,
            group=self.config.group,
            pipeline_name=self.config.pipeline_name,
            record=record,
        )
