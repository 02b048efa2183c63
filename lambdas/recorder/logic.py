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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import boto3

from recorder.events import MalformedPipelineEvent, PipelineStateChange, parse_pipeline_event
from shared import contract
from shared.clock import Clock, current_clock
from shared.environment import required, stage_names
from shared.events import event_id_of
from shared.group_registry import GroupEntry, group_settings
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
    Ledger,
    MalformedRecord,
    PipelineRecord,
    timestamp,
)
from shared.metadata import metadata_value
from shared.notify import publish
from shared.observability import correlate, logger

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient

#: ModelLifeCycle StageStatus values Greenlight writes.
STATUS_DEPLOYED: Final = "Deployed"
STATUS_FAILED: Final = "Failed"
STATUS_ROLLED_BACK: Final = "RolledBack"

#: What a handled event came to, besides a record kind.
IGNORED: Final = "ignored"
DUPLICATE: Final = "duplicate"
MALFORMED: Final = "malformed"

_CACHE_LIMIT: Final = 256


@dataclass(frozen=True, kw_only=True)
class RecorderConfig:
    ledger_table: str
    topic_arn: str
    group: str
    pipeline_name: str
    stages: tuple[str, ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RecorderConfig:
        return cls(
            ledger_table=required(environ, contract.ENV_LEDGER_TABLE),
            topic_arn=required(environ, contract.ENV_TOPIC_ARN),
            group=required(environ, contract.ENV_GROUP_NAME),
            pipeline_name=required(environ, contract.ENV_PIPELINE_NAME),
            stages=stage_names(environ),
        )

    @classmethod
    def for_group(cls, environ: Mapping[str, str], entry: GroupEntry) -> RecorderConfig:
        """The shared recorder's settings for one group: the ledger and topic from its
        environment, the rest from the group's registry entry."""
        return cls(**group_settings(environ, entry))


@dataclass(frozen=True, kw_only=True)
class Execution:
    """What GetPipelineExecution says about one execution (it never changes)."""

    execution_id: str
    arn: str | None
    version: int | None
    trigger_reason: str | None
    request_id: str | None
    trigger_type: str | None
    execution_type: str
    rollback_target: str | None
    #: CodePipeline's trigger detail: who called StartPipelineExecution or RollbackStage.
    trigger_detail: str | None = None

    @property
    def is_rollback(self) -> bool:
        return self.execution_type == "ROLLBACK"

    @property
    def deploys_nothing(self) -> bool:
        """No model version (pipeline creation, a "Release change" with the defaults, or
        a stage rollback to one of those): its actions deploy nothing, so only its start
        and end are worth recording."""
        return self.arn is None

    @property
    def label(self) -> str:
        return "an unknown version" if self.version is None else f"version {self.version}"


@dataclass(frozen=True)
class Recorded:
    """What one event came to: a record kind, ``ignored``, ``duplicate`` or ``malformed``."""

    event_id: str
    result: str
    record: PipelineRecord | None = None


class Recorder:
    def __init__(
        self,
        config: RecorderConfig,
        *,
        codepipeline: CodePipelineClient | None = None,
        sagemaker: SageMakerClient | None = None,
        sns: SNSClient | None = None,
        dynamodb: DynamoDBClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._codepipeline = codepipeline
        self._sagemaker = sagemaker
        self._sns = sns
        self.ledger = Ledger(config.ledger_table, client=dynamodb)
        self.clock: Clock = clock or current_clock()
        self._executions: dict[str, Execution] = {}

    @property
    def codepipeline(self) -> CodePipelineClient:
        if self._codepipeline is None:
            self._codepipeline = boto3.client("codepipeline")
        return self._codepipeline

    @property
    def sagemaker(self) -> SageMakerClient:
        if self._sagemaker is None:
            self._sagemaker = boto3.client("sagemaker")
        return self._sagemaker

    @property
    def sns(self) -> SNSClient:
        if self._sns is None:
            self._sns = boto3.client("sns")
        return self._sns

    # --- entry point --------------------------------------------------------------

    def handle(self, event: object) -> Recorded:
        try:
            change = parse_pipeline_event(event)
        except MalformedPipelineEvent as error:
            return self._malformed(event, error)
        if change.pipeline != self.config.pipeline_name:
            logger.info("event %s is for pipeline %s: ignored", change.event_id, change.pipeline)
            return Recorded(change.event_id, IGNORED)
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
            "STARTED": RECORD_EXECUTION_STARTED,
            "SUCCEEDED": RECORD_EXECUTION_ENDED,
            "FAILED": RECORD_EXECUTION_ENDED,
            "CANCELED": RECORD_EXECUTION_ENDED,
            "SUPERSEDED": RECORD_SUPERSEDED,
            "STOPPED": RECORD_STOPPED,
        }
        kind = kinds.get(change.state)
        if kind is None:
            return None
        record = self._base(change, kind)
        if change.state == "FAILED" and change.summary:
            record = replace(record, reason=change.summary)
        if kind == RECORD_STOPPED:
            record = replace(record, reason=self._stop_reason(change.execution_id))
        return record

    def _versionless_change(
        self, change: PipelineStateChange, execution: Execution
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
        if change.state == "STARTED":
            return replace(self._base(change, RECORD_STAGE_STARTED), started_at=change.at)
        if change.state == "SUCCEEDED":
            record = self._base(change, RECORD_DEPLOYED)
            endpoint, config_name = self._deployed_endpoint(change.execution_id, stage)
            record = replace(record, endpoint_name=endpoint, endpoint_config_name=config_name)
            record = replace(record, started_at=self._stage_started(change))
            if record.execution_type == "ROLLBACK":
                return self._rolled_back(record)
            return record
        if change.state == "FAILED":
            record = self._base(change, RECORD_FAILED)
            return replace(
                record,
                reason=self._failure_reason(change.execution_id, stage),
                started_at=self._stage_started(change),
            )
        return None

    def _action_change(self, change: PipelineStateChange) -> PipelineRecord | None:
        if change.category == "Approval" and change.state == "STARTED":
            record = self._base(change, RECORD_AWAITING_APPROVAL)
            return replace(record, stage=_stage_after_approval(change.stage or ""))
        if change.category == "Approval" and change.state in ("SUCCEEDED", "FAILED"):
            return self._approval_answered(change)
        if change.state == "FAILED":
            summary = change.summary or change.error_code or "no summary"
            return replace(
                self._base(change, RECORD_ACTION_FAILED),
                reason=f"{change.action} failed: {summary}",
            )
        return None

    def _approval_answered(self, change: PipelineStateChange) -> PipelineRecord:
        """A manual approval was answered: who answered it is not in the event, so it is
        read from the approval's action execution (``updatedBy``)."""
        answered_by = next(
            (
                a.get("updatedBy")
                for a in self._actions(change.execution_id)
                if a.get("stageName") == change.stage and a.get("actionName") == change.action
            ),
            None,
        )
        verdict = "approved" if change.state == "SUCCEEDED" else "rejected"
        return replace(
            self._base(change, RECORD_APPROVAL_ANSWERED),
            stage=_stage_after_approval(change.stage or ""),
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

    # --- CodePipeline reads (one per execution and invocation) -----------------------

    def _execution(self, execution_id: str) -> Execution:
        cached = self._executions.get(execution_id)
        if cached is not None:
            return cached
        response = self.codepipeline.get_pipeline_execution(
            pipelineName=self.config.pipeline_name, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        variables = {v["name"]: v["resolvedValue"] for v in response.get("variables", [])}
        arn = variables.get(contract.VAR_MODEL_PACKAGE_ARN)
        version_text = variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")
        execution = Execution(
            execution_id=execution_id,
            arn=arn if arn and arn.startswith("arn:") else None,
            version=int(version_text) if version_text.isdigit() and int(version_text) else None,
            trigger_reason=variables.get(contract.VAR_TRIGGER_REASON),
            request_id=variables.get(contract.VAR_REQUEST_ID),
            trigger_type=response.get("trigger", {}).get("triggerType"),
            trigger_detail=response.get("trigger", {}).get("triggerDetail") or None,
            execution_type=str(response.get("executionType", "STANDARD")),
            rollback_target=response.get("rollbackMetadata", {}).get(
                "rollbackTargetPipelineExecutionId"
            ),
        )
        if len(self._executions) >= _CACHE_LIMIT:
            self._executions.clear()
        self._executions[execution_id] = execution
        return execution

    def _actions(self, execution_id: str) -> list[dict[str, Any]]:
        paginator = self.codepipeline.get_paginator("list_action_executions")
        return [
            dict(detail)
            for page in paginator.paginate(
                pipelineName=self.config.pipeline_name,
                filter={"pipelineExecutionId": execution_id},
            )
            for detail in page["actionExecutionDetails"]
        ]

    def _failure_reason(self, execution_id: str, stage: str) -> str:
        failed = [
            a
            for a in self._actions(execution_id)
            if a.get("stageName") == stage and a.get("status") == "Failed"
        ]
        if not failed:
            return f"stage {stage} failed (no failed action reported)"
        action = failed[0]
        summary = (
            (action.get("output") or {}).get("executionResult", {}).get("externalExecutionSummary")
        )
        return f"{action['actionName']} failed: {summary or 'no summary'}"

    def _deployed_endpoint(self, execution_id: str, stage: str) -> tuple[str | None, str | None]:
        for action in self._actions(execution_id):
            if action.get("stageName") == stage and action.get("actionName") == (
                contract.ACTION_DEPLOY
            ):
                outputs = (action.get("output") or {}).get("outputVariables") or {}
                return (
                    outputs.get(contract.OUT_ENDPOINT_NAME),
                    outputs.get(contract.OUT_ENDPOINT_CONFIG_NAME),
                )
        return None, None

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

    def _stop_reason(self, execution_id: str) -> str:
        paginator = self.codepipeline.get_paginator("list_pipeline_executions")
        for page in paginator.paginate(pipelineName=self.config.pipeline_name):
            for summary in page["pipelineExecutionSummaries"]:
                if summary["pipelineExecutionId"] == execution_id:
                    reason = (summary.get("stopTrigger") or {}).get("reason")
                    return reason or "stopped"
        return "stopped"

    # --- side effects -------------------------------------------------------------------

    def _act(self, record: PipelineRecord) -> None:
        if record.record == RECORD_DEPLOYED:
            self._write_back(record, record.model_package_arn, STATUS_DEPLOYED)
        elif record.record == RECORD_FAILED:
            self._write_back(record, record.model_package_arn, STATUS_FAILED)
        elif record.record == RECORD_ROLLED_BACK:
            self._write_back(record, record.model_package_arn, STATUS_DEPLOYED)
            failed_arn = _arn_of_version(record.model_package_arn, record.rolled_back_version)
            if failed_arn and record.rolled_back_version != record.model_package_version:
                self._write_back(record, failed_arn, STATUS_ROLLED_BACK)
        message = None if self._deploys_nothing(record) else self._message(record)
        if message is not None:
            subject, body = message
            publish(
                self.sns,
                topic_arn=self.config.topic_arn,
                subject=subject,
                body=body,
                attributes={
                    "group": self.config.group,
                    "stage": record.stage or "",
                    "outcome": record.record,
                    "version": (
                        ""
                        if record.model_package_version is None
                        else str(record.model_package_version)
                    ),
                },
            )

    def _deploys_nothing(self, record: PipelineRecord) -> bool:
        return record.model_package_arn is None

    def _write_back(self, record: PipelineRecord, arn: str | None, status: str) -> None:
        if arn is None or record.stage is None:
            return
        at = timestamp(record.at)
        description = f"execution {record.execution_id} at {at}"
        if status == STATUS_ROLLED_BACK:
            description += f" rolled back to version {record.model_package_version}"
        self.sagemaker.update_model_package(
            ModelPackageArn=arn,
            ModelLifeCycle={
                "Stage": record.stage,
                "StageStatus": status,
                "StageDescription": description[:1024],
            },
            CustomerMetadataProperties={
                contract.stage_execution_metadata_key(record.stage): metadata_value(
                    record.execution_id
                ),
                contract.stage_time_metadata_key(record.stage): metadata_value(at),
            },
        )

    def _message(self, record: PipelineRecord) -> tuple[str, str] | None:
        group = self.config.group
        version = (
            "an unknown version"
            if record.model_package_version is None
            else f"version {record.model_package_version}"
        )
        facts = (
            f"Group: {group}\nVersion: {record.model_package_version}\n"
            f"Package: {record.model_package_arn}\nExecution: {record.execution_id}\n"
            f"Trigger: {record.trigger_reason or record.trigger_type}\n"
            f"At: {timestamp(record.at)}\n"
        )
        if record.record == RECORD_EXECUTION_STARTED:
            if record.execution_type == "ROLLBACK":
                return (
                    f"Greenlight: {group} rollback to {version} started",
                    f"A rollback execution started ({record.trigger_type}); it puts "
                    f"{version} back (target execution "
                    f"{record.rollback_target_execution_id}).\n\n{facts}",
                )
            return (
                f"Greenlight: {group} {version} deployment started",
                f"The pipeline started deploying {version} "
                f"({record.trigger_reason or 'unknown reason'}).\n\n{facts}",
            )
        if record.record == RECORD_DEPLOYED:
            return (
                f"Greenlight: {group} {version} deployed to {record.stage}",
                f"{version.capitalize()} is live in {record.stage} "
                f"(endpoint {record.endpoint_name}, config {record.endpoint_config_name}).\n\n"
                f"{facts}",
            )
        if record.record == RECORD_FAILED:
            return (
                f"Greenlight: {group} {version} failed in {record.stage}",
                f"{version.capitalize()} failed in {record.stage}.\n\nWhy: {record.reason}\n\n"
                f"{facts}",
            )
        if record.record == RECORD_ROLLED_BACK:
            return (
                f"Greenlight: {group} {record.stage} rolled back from version "
                f"{record.rolled_back_version} to version {record.model_package_version}",
                f"{record.stage} was rolled back from version {record.rolled_back_version} "
                f"(execution {record.rolled_back_execution_id}) to version "
                f"{record.model_package_version} (execution "
                f"{record.rollback_target_execution_id}).\n\n"
                f"Cause: {record.reason or 'a rollback was requested'}\n\n{facts}",
            )
        if record.record == RECORD_AWAITING_APPROVAL:
            return (
                f"Greenlight: {group} {version} awaits approval for {record.stage}",
                f"{version.capitalize()} is waiting for a manual approval before "
                f"{record.stage}. Approve or reject it in the CodePipeline console "
                f"(pipeline {self.config.pipeline_name}).\n\n{facts}",
            )
        if record.record == RECORD_SUPERSEDED:
            return (
                f"Greenlight: {group} {version} superseded",
                f"A newer execution overtook {version}; it stops where it was.\n\n{facts}",
            )
        if record.record == RECORD_STOPPED:
            return (
                f"Greenlight: {group} {version} stopped",
                f"The execution deploying {version} was stopped.\n\nWhy: {record.reason}\n\n"
                f"{facts}",
            )
        return None


def _stage_after_approval(approval_stage: str) -> str:
    prefix = contract.approval_stage_name("")
    return approval_stage[len(prefix) :] if approval_stage.startswith(prefix) else approval_stage


def _arn_of_version(arn: str | None, version: int | None) -> str | None:
    """The ARN of another version of the same group (``…/<group>/<version>``)."""
    if arn is None or version is None:
        return None
    return f"{arn.rsplit('/', 1)[0]}/{version}"
