"""The history join: registry + ledger + CodePipeline → one :class:`HistoryRow` per
approval → execution → stage outcome.

Where each column comes from:

- version, ARN: the execution's pipeline variables, as the recorder kept them in the
  ledger (GetPipelineExecution only for an execution the recorder never saw);
- registrant, approver, approval description and time: the trigger's outcome for the
  approval (``RequestId`` variable → ledger outcome), which kept what DescribeModelPackage
  said when the trigger acted (CreatedBy / LastModifiedBy / ApprovalDescription); a
  redeploy or rollback shows the approval in force when it started (one rule with
  ``greenlight status``: ``shared.pipeline_history.deployment_approval``);
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
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from pipeline_scripts.errors import aws_code, refused
from pipeline_scripts.history.decisions import decision_rows, refused_request_rows
from pipeline_scripts.history.executions import Approval, Execution
from pipeline_scripts.history.joins import (
    live_records,
    operator_requests,
    rollback_starter,
    rollback_starters,
    rolled_back_by,
    trigger_of,
    with_operator,
)
from pipeline_scripts.history.rows import HistoryRow
from pipeline_scripts.history.stage_rows import RowMaker, execution_rows
from pipeline_scripts.model_registry import require_group
from shared import contract
from shared.contract import REJECTED
from shared.ledger import Ledger, Outcome, PipelineRecord
from shared.pipeline_history import PipelineHistory, deployment_approval

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_sagemaker import SageMakerClient

_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC)


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
        self.pipeline = contract.pipeline_name(group)
        self.pipeline_history = PipelineHistory(codepipeline, self.pipeline)
        #: ModelApprovalStatus now, by package ARN (filled by :meth:`versions`).
        self.approval_statuses: dict[str, str] = {}

    def rows(self, *, since: datetime | None = None) -> list[HistoryRow]:
        versions = self.versions()
        outcomes = self.ledger.outcomes(self.group)
        executions = self._executions(since)
        rows = self._execution_rows(executions, outcomes)
        rows = self._flag_live_rejected(rows, executions.values())
        rows.extend(decision_rows(self.group, outcomes, versions))
        rows.extend(refused_request_rows(self.group, outcomes))
        if since is not None:
            rows = [r for r in rows if _moment(r) >= since]
        order = {stage: i for i, stage in enumerate(self.stages)}
        rows.sort(key=lambda r: (_moment(r), order.get(r.stage or "", -1)))
        return rows

    def _execution_rows(
        self, executions: Mapping[str, Execution], outcomes: Sequence[Outcome]
    ) -> list[HistoryRow]:
        """The rows of every execution that names its version, with who started it."""
        replaced_by = rolled_back_by(executions.values())
        started_by = rollback_starters(outcomes)
        starter_of = {
            start.execution_id: outcome for outcome in outcomes for start in outcome.rollbacks
        }
        operators = operator_requests(outcomes)

        rows: list[HistoryRow] = []
        for execution in executions.values():
            self._fill_variables(execution)
            if execution.version is None or execution.arn is None:
                continue
            trigger = trigger_of(execution, started_by)
            self._fill_answers(execution)
            maker = RowMaker(self.group, execution, _approval(outcomes, execution), trigger)
            produced = execution_rows(
                maker,
                self.stages,
                replaced_by,
                starter_of.get(execution.execution_id),
                _approval_of(outcomes, execution),
            )
            starter = rollback_starter(execution, trigger)
            produced = [replace(row, started_by=starter) for row in produced]
            rows.extend(with_operator(produced, operators.get(execution.execution_id)))
        return rows

    def versions(self) -> dict[str, int]:
        require_group(self.sagemaker, self.group)
        versions: dict[str, int] = {}
        paginator = self.sagemaker.get_paginator("list_model_packages")
        for page in paginator.paginate(
            ModelPackageGroupName=self.group, ModelPackageType=contract.MODEL_PACKAGE_TYPE_VERSIONED
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
        self, rows: list[HistoryRow], executions: Iterable[Execution]
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

    def _executions(self, since: datetime | None) -> dict[str, Execution]:
        executions: dict[str, Execution] = {}
        for record in self.ledger.pipeline_records(self.group, since=since):
            executions.setdefault(record.execution_id, Execution(record.execution_id)).learn(record)
        try:
            for summary in self.pipeline_history.summaries_since(since):
                execution_id = summary.execution_id
                executions.setdefault(execution_id, Execution(execution_id)).learn_summary(summary)
        except ClientError as error:
            if aws_code(error) != "PipelineNotFoundException":
                raise refused(error, f"cannot list executions of {self.pipeline}") from None
        for execution in executions.values():
            execution.records.sort(key=PipelineRecord.sort_key)
        return executions

    def _fill_variables(self, execution: Execution) -> None:
        """The version an execution the recorder never saw deploys, from its variables."""
        if execution.arn is not None and execution.version is not None:
            return
        try:
            facts = self.pipeline_history.facts(execution.execution_id)
        except ClientError:
            return  # older than CodePipeline's 12 months: the ledger is all there is
        execution.arn = facts.arn
        execution.version = facts.version
        execution.trigger_reason = facts.trigger_reason
        execution.request_id = facts.request_id

    def _fill_answers(self, execution: Execution) -> None:
        """Who answered the manual approvals the ledger saw waiting but never saw
        answered (an answer event lost, or recorded before answers were kept)."""
        unanswered = execution.awaited - execution.answered
        if not unanswered or execution.execution_type == contract.EXECUTION_ROLLBACK:
            return
        try:
            answers = self.pipeline_history.approval_answers(execution.execution_id)
        except ClientError:
            return  # older than CodePipeline's 12 months: the ledger is all there is
        for stage, who in answers.items():
            execution.answers.setdefault(stage, who)


def _approval(outcomes: Sequence[Outcome], execution: Execution) -> Approval:
    """The approval ``execution`` went out on: the one whose event started it, or else the
    one in force for its version when it started."""
    assert execution.arn is not None
    return Approval.of(
        deployment_approval(
            outcomes,
            arn=execution.arn,
            request_id=execution.request_id,
            execution_type=execution.execution_type,
            started_at=execution.started,
        )
    )


def _approval_of(outcomes: Sequence[Outcome], execution: Execution) -> Callable[[str], Approval]:
    """The approval in force for a version (by ARN) when ``execution`` started: for the
    version a rollback took out."""

    def approval_of(arn: str) -> Approval:
        return Approval.of(
            deployment_approval(
                outcomes,
                arn=arn,
                request_id=None,
                execution_type=execution.execution_type,
                started_at=execution.started,
            )
        )

    return approval_of


def _moment(row: HistoryRow) -> datetime:
    """When the row happened, for ordering and ``--since``."""
    return row.started or row.approval_time or row.ended or _END_OF_TIME
