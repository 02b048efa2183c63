"""The history join: registry + ledger + CodePipeline → one :class:`HistoryRow` per
approval → execution → stage outcome.

Where each column comes from:

- version, ARN: the execution's pipeline variables, as the recorder kept them in the
  ledger (GetPipelineExecution only for an execution the recorder never saw);
- registrant, approver, approval description and time: the trigger's outcome for the
  approval (``RequestId`` variable → ledger outcome), which kept what DescribeModelPackage
  said when the trigger acted (CreatedBy / LastModifiedBy / ApprovalDescription); a
  redeploy or rollback shows the approval that first deployed the version;
- trigger: the ``TriggerReason`` variable; for a ROLLBACK execution, the ledger outcome
  that lists it in its ``rollbacks`` (a rejection's: ``rejection-rollback``;
  ``greenlight rollback``'s: ``manual-rollback``), or else CodePipeline's trigger type:
  AutomatedRollback (``OnFailure: ROLLBACK``) is ``automated-rollback``, ManualRollback
  (a RollbackStage no outcome started: the console, the AWS CLI, an SDK) is
  ``console-rollback``;
- started by (rollback rows): CodePipeline's trigger detail, the caller's identity ARN,
  as the recorder kept it (ListPipelineExecutions for executions it never saw), or
  ``CodePipeline`` for an automated rollback;
- stage approver: who answered the manual approval in front of the stage, as the
  recorder kept it from the approval's ``updatedBy``; ListActionExecutions for an
  execution whose approval was seen waiting but whose answer was never recorded;
- stage, result, reason, rollback target, times: the recorder's pipeline records, and
  ListPipelineExecutions for executions still running or never recorded;
- operator and operator reason: the ledger outcome of the operator's request that
  started the execution (its ``pipelineExecutionId``, or its ``rollbacks``); a request
  refused because the version is not Approved is a ``skipped`` row of its own;
- live_rejected: the newest deployed or rolled-back record of each stage is what is live
  there; its row is flagged when ListModelPackages says that version is Rejected now.

API calls grow with pages, not rows: DescribeModelPackageGroup once, ListModelPackages,
the two ledger queries and ListPipelineExecutions page by page; GetPipelineExecution
only for executions missing from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from pipeline_scripts.errors import NotFound, refused
from pipeline_scripts.history_model import (
    CODEPIPELINE,
    ROLLBACK_TRIGGERS,
    TRIGGERS,
    HistoryRow,
    Result,
    RollbackTarget,
    Trigger,
)
from shared import contract
from shared.contract import REJECTED
from shared.ledger import (
    OUTCOME_GATE_REJECTED,
    OUTCOME_ROLLBACK_STARTED,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_STALE,
    OUTCOME_STARTED,
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
    Outcome,
    PipelineRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_sagemaker import SageMakerClient

_ROLLBACK_TRIGGERS: Final = {
    "AutomatedRollback": "automated-rollback",
    "ManualRollback": "console-rollback",
}
#: Who asked for a ROLLBACK execution, by the trigger reason of the outcome that lists it.
_STARTER_TRIGGERS: Final[dict[str, Trigger]] = {
    contract.REASON_REJECTION_ROLLBACK: "rejection-rollback",
    contract.REASON_MANUAL_ROLLBACK: "manual-rollback",
}
_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC)
_STATUS_RESULTS: Final[dict[str, Result]] = {
    "Superseded": "superseded",
    "Stopped": "stopped",
    "Stopping": "stopped",
    "Cancelled": "stopped",
}


@dataclass
class _Execution:
    execution_id: str
    records: list[PipelineRecord] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    arn: str | None = None
    version: int | None = None
    trigger_reason: str | None = None
    request_id: str | None = None
    execution_type: str = "STANDARD"
    trigger_type: str | None = None
    rollback_target: str | None = None
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
        if record.record == RECORD_AWAITING_APPROVAL and record.stage:
            self.awaited.add(record.stage)
        if record.record == RECORD_APPROVAL_ANSWERED and record.stage:
            self.answered.add(record.stage)
        if (
            record.record == RECORD_APPROVAL_ANSWERED
            and record.state == "SUCCEEDED"
            and record.stage
            and record.answered_by
        ):
            self.answers[record.stage] = record.answered_by
        self.arn = self.arn or record.model_package_arn
        self.version = self.version or record.model_package_version
        self.trigger_reason = self.trigger_reason or record.trigger_reason
        self.request_id = self.request_id or record.request_id
        self.trigger_type = self.trigger_type or record.trigger_type
        self.rollback_target = self.rollback_target or record.rollback_target_execution_id
        if record.execution_type == "ROLLBACK":
            self.execution_type = "ROLLBACK"
        if record.record == RECORD_EXECUTION_STARTED:
            self.started = record.started_at or record.at
        if record.record in (RECORD_EXECUTION_ENDED, RECORD_SUPERSEDED, RECORD_STOPPED):
            self.ended = record.at
            self.status = {
                RECORD_SUPERSEDED: "Superseded",
                RECORD_STOPPED: "Stopped",
            }.get(record.record, (record.state or "").capitalize())

    def learn_summary(self, summary: Mapping[str, Any]) -> None:
        self.summary = dict(summary)
        self.status = str(summary.get("status") or self.status)
        self.execution_type = str(summary.get("executionType") or self.execution_type)
        trigger = summary.get("trigger") or {}
        self.trigger_type = trigger.get("triggerType") or self.trigger_type
        self.trigger_detail = self.trigger_detail or trigger.get("triggerDetail") or None
        self.rollback_target = self.rollback_target or (summary.get("rollbackMetadata") or {}).get(
            "rollbackTargetPipelineExecutionId"
        )
        self.started = self.started or summary.get("startTime")
        if self.status not in ("InProgress", "Stopping"):
            self.ended = self.ended or summary.get("lastUpdateTime")


@dataclass(frozen=True)
class _Approval:
    registrant: str | None
    approver: str | None
    description: str | None
    time: datetime | None

    @classmethod
    def of(cls, outcome: Outcome | None) -> _Approval:
        """The decision the trigger recorded with ``outcome`` (none: all unknown)."""
        if outcome is None:
            return cls(None, None, None, None)
        return cls(
            outcome.registered_by,
            outcome.approved_by,
            outcome.approval_description,
            outcome.approved_at,
        )


class HistoryReader:
    """Reads one group's history with list calls."""

    def __init__(
        self,
        *,
        group: str,
        stages: Sequence[str],
        ledger: Ledger,
        sagemaker: SageMakerClient,
        codepipeline: CodePipelineClient,
    ) -> None:
        self.group = group
        self.stages = tuple(stages)
        self.ledger = ledger
        self.sagemaker = sagemaker
        self.codepipeline = codepipeline
        self.pipeline = contract.pipeline_name(group)
        #: ModelApprovalStatus now, by package ARN (filled by :meth:`versions`).
        self.approval_statuses: dict[str, str] = {}

    # --- reading --------------------------------------------------------------------------

    def rows(self, *, since: datetime | None = None) -> list[HistoryRow]:
        versions = self.versions()
        outcomes = self.ledger.outcomes(self.group)
        by_event = {o.event_id: o for o in outcomes}
        first_approval: dict[str, Outcome] = {}
        for outcome in sorted(outcomes, key=lambda o: o.recorded_at):
            if (
                outcome.outcome == OUTCOME_STARTED
                and outcome.trigger_reason == contract.REASON_APPROVAL
                and outcome.model_package_arn
            ):
                first_approval.setdefault(outcome.model_package_arn, outcome)
        executions = self._executions(since)
        rows: list[HistoryRow] = []
        rolled_back_by = self._rollbacks(executions.values())
        started_by = rollback_starters(outcomes)
        starter_of = {
            start.execution_id: outcome for outcome in outcomes for start in outcome.rollbacks
        }
        operators = operator_requests(outcomes)

        def approval_of(arn: str) -> _Approval:
            return _Approval.of(first_approval.get(arn))

        for execution in executions.values():
            self._fill_variables(execution)
            if execution.version is None or execution.arn is None:
                continue
            approval = self._approval(execution, by_event, first_approval)
            trigger = self._trigger(execution, started_by)
            self._fill_answers(execution)
            produced = [
                *self._stage_rows(execution, approval, trigger, rolled_back_by),
                *self._replaced_rows(
                    execution, trigger, starter_of.get(execution.execution_id), approval_of
                ),
            ]
            starter = _started_by(execution, trigger)
            produced = [replace(row, started_by=starter) for row in produced]
            rows.extend(_with_operator(produced, operators.get(execution.execution_id)))
        rows = self._flag_live_rejected(rows, executions.values())
        rows.extend(self._decision_rows(outcomes, versions))
        rows.extend(self._refused_request_rows(outcomes))
        if since is not None:
            rows = [r for r in rows if _moment(r) >= since]
        order = {stage: i for i, stage in enumerate(self.stages)}
        rows.sort(key=lambda r: (_moment(r), order.get(r.stage or "", -1)))
        return rows

    def versions(self) -> dict[str, int]:
        try:
            self.sagemaker.describe_model_package_group(ModelPackageGroupName=self.group)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise NotFound(f"model package group {self.group!r} not found") from None
            raise refused(error, f"cannot read model package group {self.group}") from None
        versions: dict[str, int] = {}
        paginator = self.sagemaker.get_paginator("list_model_packages")
        for page in paginator.paginate(
            ModelPackageGroupName=self.group, ModelPackageType="Versioned"
        ):
            for summary in page["ModelPackageSummaryList"]:
                if summary.get("ModelPackageVersion"):
                    versions[summary["ModelPackageArn"]] = int(summary["ModelPackageVersion"])
                if summary.get("ModelApprovalStatus"):
                    self.approval_statuses[summary["ModelPackageArn"]] = str(
                        summary["ModelApprovalStatus"]
                    )
        return versions

    def _flag_live_rejected(
        self, rows: list[HistoryRow], executions: Iterable[_Execution]
    ) -> list[HistoryRow]:
        """Flag the row of what is live in each stage when that version is Rejected now."""
        live = live_records(
            (record for execution in executions for record in execution.records), self.stages
        )
        shown = {(record.execution_id, stage) for stage, record in live.items()}
        return [
            replace(row, live_rejected=True)
            if row.result == "deployed"
            and (row.execution_id, row.stage) in shown
            and self.approval_statuses.get(row.model_package_arn) == REJECTED
            else row
            for row in rows
        ]

    def _executions(self, since: datetime | None) -> dict[str, _Execution]:
        executions: dict[str, _Execution] = {}
        for record in self.ledger.pipeline_records(self.group, since=since):
            executions.setdefault(record.execution_id, _Execution(record.execution_id)).learn(
                record
            )
        try:
            paginator = self.codepipeline.get_paginator("list_pipeline_executions")
            for page in paginator.paginate(pipelineName=self.pipeline):
                older = False
                for summary in page["pipelineExecutionSummaries"]:
                    start = summary.get("startTime")
                    if since is not None and start is not None and start < since:
                        older = True
                        continue
                    execution_id = summary["pipelineExecutionId"]
                    executions.setdefault(execution_id, _Execution(execution_id)).learn_summary(
                        cast(Mapping[str, Any], summary)
                    )
                if older:
                    break  # newest first: every later page is older still
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "PipelineNotFoundException":
                raise refused(error, f"cannot list executions of {self.pipeline}") from None
        for execution in executions.values():
            execution.records.sort(key=PipelineRecord.sort_key)
        return executions

    def _fill_variables(self, execution: _Execution) -> None:
        if execution.arn is not None and execution.version is not None:
            return
        try:
            response = self.codepipeline.get_pipeline_execution(
                pipelineName=self.pipeline, pipelineExecutionId=execution.execution_id
            )["pipelineExecution"]
        except ClientError:
            return  # older than CodePipeline's 12 months: the ledger is all there is
        variables = {v["name"]: v["resolvedValue"] for v in response.get("variables", [])}
        arn = variables.get(contract.VAR_MODEL_PACKAGE_ARN, "")
        version = variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")
        execution.arn = arn if arn.startswith("arn:") else None
        execution.version = int(version) if version.isdigit() and int(version) > 0 else None
        execution.trigger_reason = variables.get(contract.VAR_TRIGGER_REASON)
        execution.request_id = variables.get(contract.VAR_REQUEST_ID)

    def _fill_answers(self, execution: _Execution) -> None:
        """Who answered the manual approvals the ledger saw waiting but never saw
        answered (an answer event lost, or recorded before answers were kept)."""
        unanswered = execution.awaited - execution.answered
        if not unanswered or execution.execution_type == "ROLLBACK":
            return
        try:
            paginator = self.codepipeline.get_paginator("list_action_executions")
            for page in paginator.paginate(
                pipelineName=self.pipeline,
                filter={"pipelineExecutionId": execution.execution_id},
            ):
                for action in page["actionExecutionDetails"]:
                    category = action.get("input", {}).get("actionTypeId", {}).get("category")
                    stage = _stage_after_approval(action.get("stageName", ""))
                    who = action.get("updatedBy")
                    if category == "Approval" and action.get("status") == "Succeeded" and who:
                        execution.answers.setdefault(stage, who)
        except ClientError:
            return  # older than CodePipeline's 12 months: the ledger is all there is

    @staticmethod
    def _rollbacks(executions: Iterable[_Execution]) -> dict[tuple[str, str], PipelineRecord]:
        """(failed execution, stage) -> the rolled-back record that replaced it."""
        found: dict[tuple[str, str], PipelineRecord] = {}
        for execution in executions:
            for record in execution.records:
                if record.record == RECORD_ROLLED_BACK and record.rolled_back_execution_id:
                    found[(record.rolled_back_execution_id, record.stage or "")] = record
        return found

    def _approval(
        self,
        execution: _Execution,
        by_event: Mapping[str, Outcome],
        first_approval: Mapping[str, Outcome],
    ) -> _Approval:
        outcome = by_event.get(execution.request_id or "")
        if (
            outcome is None
            or outcome.trigger_reason != contract.REASON_APPROVAL
            or outcome.model_package_arn != execution.arn
        ):
            outcome = first_approval.get(execution.arn or "", outcome)
        return _Approval.of(outcome)

    @staticmethod
    def _trigger(execution: _Execution, started_by: Mapping[str, Trigger]) -> Trigger:
        if execution.execution_type == "ROLLBACK":
            starter = started_by.get(execution.execution_id)
            if starter is not None:
                return starter
            return cast(
                Trigger, _ROLLBACK_TRIGGERS.get(execution.trigger_type or "", "manual-rollback")
            )
        reason = execution.trigger_reason or contract.REASON_APPROVAL
        return cast(Trigger, reason if reason in TRIGGERS else contract.REASON_APPROVAL)

    def _stage_rows(
        self,
        execution: _Execution,
        approval: _Approval,
        trigger: Trigger,
        rolled_back_by: Mapping[tuple[str, str], PipelineRecord],
    ) -> list[HistoryRow]:
        assert execution.version is not None
        assert execution.arn is not None
        rows: list[HistoryRow] = []

        def row(
            stage: str | None,
            result: Result,
            *,
            started: datetime | None,
            ended: datetime | None,
            reason: str | None = None,
            target: RollbackTarget | None = None,
        ) -> HistoryRow:
            assert execution.version is not None
            assert execution.arn is not None
            if started and ended and ended < started:
                ended = started
            return HistoryRow(
                group=self.group,
                version=execution.version,
                model_package_arn=execution.arn,
                registrant=approval.registrant,
                approver=approval.approver,
                approval_description=approval.description,
                approval_time=approval.time,
                execution_id=execution.execution_id,
                trigger=trigger,
                stage=stage,
                result=result,
                reason=reason,
                rollback_target=target,
                started=started,
                ended=ended,
                stage_approver=(
                    None
                    if stage is None or execution.execution_type == "ROLLBACK"
                    else execution.answers.get(stage)
                ),
            )

        stopped_at_stage = False
        for stage in self.stages:
            records = [r for r in execution.records if r.stage == stage]
            started_at = next(
                (r.started_at or r.at for r in records if r.record == RECORD_STAGE_STARTED), None
            )
            outcome = next(
                (
                    r
                    for r in reversed(records)
                    if r.record in (RECORD_DEPLOYED, RECORD_FAILED, RECORD_ROLLED_BACK)
                ),
                None,
            )
            if outcome is not None:
                started = started_at or outcome.started_at
                if outcome.record == RECORD_DEPLOYED:
                    rows.append(row(stage, "deployed", started=started, ended=outcome.at))
                elif outcome.record == RECORD_ROLLED_BACK:
                    rows.append(
                        row(
                            stage,
                            "deployed",
                            started=started,
                            ended=outcome.at,
                            reason=outcome.reason,
                            target=_target(
                                execution.version,
                                outcome.rollback_target_execution_id,
                                replacing=outcome.rolled_back_version,
                            ),
                        )
                    )
                else:
                    rollback = rolled_back_by.get((execution.execution_id, stage))
                    if rollback is not None:
                        rows.append(
                            row(
                                stage,
                                "rolled-back",
                                started=started,
                                ended=rollback.at,
                                reason=outcome.reason,
                                target=_target(
                                    rollback.model_package_version, rollback.execution_id
                                ),
                            )
                        )
                    else:
                        rows.append(
                            row(
                                stage,
                                "failed",
                                started=started,
                                ended=outcome.at,
                                reason=outcome.reason,
                            )
                        )
                continue
            if stopped_at_stage or (execution.execution_type == "ROLLBACK" and started_at is None):
                continue
            status = execution.status or "InProgress"
            if status == "InProgress" and started_at is not None:
                rows.append(row(stage, "in-progress", started=started_at, ended=None))
                stopped_at_stage = True
            elif status in _STATUS_RESULTS:
                rows.append(
                    row(
                        stage,
                        _STATUS_RESULTS[status],
                        started=started_at or execution.started,
                        ended=execution.ended,
                        reason=_status_reason(execution),
                    )
                )
                stopped_at_stage = True
            elif status == "InProgress" and not rows:
                rows.append(row(stage, "in-progress", started=execution.started, ended=None))
                stopped_at_stage = True
        return rows

    def _replaced_rows(
        self,
        execution: _Execution,
        trigger: Trigger,
        starter: Outcome | None,
        approval_of: Callable[[str], _Approval],
    ) -> list[HistoryRow]:
        """The version a rejection or a manual rollback took out of a stage: a
        ``rolled-back`` row for it, beside the row of the version put back. (A version
        whose own execution failed gets that row from its failure instead.)"""
        assert execution.arn is not None
        rows: list[HistoryRow] = []
        if trigger not in ("rejection-rollback", "manual-rollback", "console-rollback"):
            return rows  # an automated rollback's failed version has its own row
        for record in execution.records:
            if record.record != RECORD_ROLLED_BACK or not record.rolled_back_version:
                continue
            arn = f"{execution.arn.rsplit('/', 1)[0]}/{record.rolled_back_version}"
            if trigger == "rejection-rollback":
                why = f"v{record.rolled_back_version} was rejected"
                if starter is not None and starter.approval_description:
                    why += f": {starter.approval_description}"
            elif trigger == "console-rollback":
                who = execution.trigger_detail or "an unknown identity"
                why = f"rolled back by {who} with RollbackStage (console or AWS CLI)"
            else:
                why = "rolled back with greenlight rollback"
            approval = approval_of(arn)
            if trigger == "rejection-rollback" and starter is not None:
                # The decision shown is the rejection: who rejected it, why, and when.
                approval = _Approval(
                    approval.registrant,
                    starter.approved_by,
                    starter.approval_description,
                    starter.approved_at or starter.recorded_at,
                )
            rows.append(
                HistoryRow(
                    group=self.group,
                    version=record.rolled_back_version,
                    model_package_arn=arn,
                    registrant=approval.registrant,
                    approver=approval.approver,
                    approval_description=approval.description,
                    approval_time=approval.time,
                    execution_id=execution.execution_id,
                    trigger=trigger,
                    stage=record.stage,
                    result="rolled-back",
                    reason=why,
                    rollback_target=_target(execution.version, record.rollback_target_execution_id),
                    started=execution.started or record.started_at,
                    ended=record.at,
                )
            )
        return rows

    def _refused_request_rows(self, outcomes: Sequence[Outcome]) -> list[HistoryRow]:
        """An operator's request refused because the version is not Approved: a
        ``skipped`` row naming who asked and why (stage: the one a rollback named)."""
        rows: list[HistoryRow] = []
        for outcome in outcomes:
            trigger = outcome.trigger_reason or ""
            if (
                outcome.operator is None
                or outcome.outcome != OUTCOME_SKIPPED_NOT_APPROVED
                or trigger not in TRIGGERS
                or outcome.model_package_arn is None
                or not outcome.model_package_version
            ):
                continue
            rows.append(
                HistoryRow(
                    group=self.group,
                    version=outcome.model_package_version,
                    model_package_arn=outcome.model_package_arn,
                    registrant=outcome.registered_by,
                    approver=outcome.approved_by,
                    approval_description=outcome.approval_description,
                    approval_time=outcome.approved_at,
                    execution_id=None,
                    trigger=cast(Trigger, trigger),
                    stage=next(iter(outcome.stages), None),
                    result="skipped",
                    reason=outcome.reason,
                    rollback_target=None,
                    started=outcome.recorded_at,
                    ended=outcome.recorded_at,
                    operator=outcome.operator,
                    operator_reason=outcome.operator_reason,
                )
            )
        return rows

    def _decision_rows(
        self, outcomes: Sequence[Outcome], versions: Mapping[str, int]
    ) -> list[HistoryRow]:
        rows: list[HistoryRow] = []
        for outcome in outcomes:
            if outcome.outcome not in (OUTCOME_GATE_REJECTED, OUTCOME_SKIPPED_STALE):
                continue
            arn = outcome.model_package_arn
            version = outcome.model_package_version or versions.get(arn or "")
            if arn is None or not version:
                continue
            rows.append(
                HistoryRow(
                    group=self.group,
                    version=version,
                    model_package_arn=arn,
                    registrant=outcome.registered_by,
                    approver=outcome.approved_by,
                    approval_description=outcome.approval_description,
                    approval_time=outcome.approved_at or outcome.recorded_at,
                    execution_id=None,
                    trigger="approval",
                    stage=None,
                    result="gate-rejected"
                    if outcome.outcome == OUTCOME_GATE_REJECTED
                    else "skipped",
                    reason=outcome.reason,
                    rollback_target=None,
                    started=None,
                    ended=None,
                )
            )
        return rows


def live_records(
    records: Iterable[PipelineRecord], stages: Sequence[str]
) -> dict[str, PipelineRecord]:
    """Stage -> the record of what is live there: its newest ``deployed`` or
    ``rolled-back`` record (a rollback's names the version it put back)."""
    live: dict[str, PipelineRecord] = {}
    for record in sorted(records, key=PipelineRecord.sort_key):
        stage = record.stage or ""
        if stage in stages and record.record in (RECORD_DEPLOYED, RECORD_ROLLED_BACK):
            live[stage] = record
    return live


def operator_requests(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """Execution id -> the outcome of the operator's request that started it
    (``greenlight redeploy`` or ``greenlight rollback``): who asked, and why."""
    found: dict[str, Outcome] = {}
    for outcome in outcomes:
        if outcome.operator is None:
            continue
        if outcome.pipeline_execution_id:
            found[outcome.pipeline_execution_id] = outcome
        for started in outcome.rollbacks:
            found[started.execution_id] = outcome
    return found


def _with_operator(rows: list[HistoryRow], request: Outcome | None) -> list[HistoryRow]:
    if request is None:
        return rows
    return [
        replace(row, operator=request.operator, operator_reason=request.operator_reason)
        for row in rows
    ]


def rollback_starters(outcomes: Iterable[Outcome]) -> dict[str, Trigger]:
    """ROLLBACK execution id -> who started it, from the outcomes that list their
    rollback executions (``Outcome.rollbacks``)."""
    found: dict[str, Trigger] = {}
    for outcome in outcomes:
        starter = _STARTER_TRIGGERS.get(outcome.trigger_reason or "")
        if starter is None or outcome.outcome != OUTCOME_ROLLBACK_STARTED:
            continue
        for started in outcome.rollbacks:
            found[started.execution_id] = starter
    return found


def _started_by(execution: _Execution, trigger: Trigger) -> str | None:
    """Who or what started a rollback: CodePipeline itself, or the caller CodePipeline
    names in the trigger detail (an identity ARN); None for other executions."""
    if trigger not in ROLLBACK_TRIGGERS:
        return None
    if trigger == "automated-rollback":
        return CODEPIPELINE
    detail = execution.trigger_detail or ""
    return detail if detail.startswith("arn:") else None


def _stage_after_approval(approval_stage: str) -> str:
    """The deployment stage a manual approval stage stands in front of."""
    prefix = contract.approval_stage_name("")
    return approval_stage[len(prefix) :] if approval_stage.startswith(prefix) else approval_stage


def _status_reason(execution: _Execution) -> str | None:
    for record in reversed(execution.records):
        if record.record in (RECORD_STOPPED, RECORD_SUPERSEDED) and record.reason:
            return record.reason
    if execution.status == "Superseded":
        return "a newer execution overtook it"
    summary = execution.summary or {}
    reason = (summary.get("stopTrigger") or {}).get("reason")
    return str(reason) if reason else None


def _moment(row: HistoryRow) -> datetime:
    """When the row happened, for ordering and ``--since``."""
    return row.started or row.approval_time or row.ended or _END_OF_TIME


def _target(
    version: int | None, execution_id: str | None, *, replacing: int | None = None
) -> RollbackTarget | None:
    """The version a rollback put back, when the records name it."""
    if version is None:
        return None
    return RollbackTarget(version=version, execution_id=execution_id, replacing=replacing)
