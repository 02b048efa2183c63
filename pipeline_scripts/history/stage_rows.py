"""The rows of one execution: a row per stage it reached (deployed, failed, rolled back,
superseded, stopped, in progress), and, for a rejection's or an operator's rollback, a
``rolled-back`` row for the version it took out of a stage."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline_scripts.history.executions import STATUS_RESULTS, Approval, Execution
from pipeline_scripts.history.rows import HistoryRow, Result, RollbackTarget, Trigger
from shared import contract
from shared.ledger import (
    RECORD_DEPLOYED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_STAGE_STARTED,
    Outcome,
    PipelineRecord,
)

_STAGE_OUTCOMES = (RECORD_DEPLOYED, RECORD_FAILED, RECORD_ROLLED_BACK)
#: Rollbacks whose rows name the version they took out (an automated rollback's failed
#: version has its own row, from its failure).
_TAKING_OUT = ("rejection-rollback", "manual-rollback", "console-rollback")


@dataclass(frozen=True)
class RowMaker:
    """Rows of one execution, with its version, approval and trigger."""

    group: str
    execution: Execution
    approval: Approval
    trigger: Trigger

    def row(
        self,
        stage: str,
        result: Result,
        *,
        started: datetime | None,
        ended: datetime | None,
        reason: str | None = None,
        target: RollbackTarget | None = None,
    ) -> HistoryRow:
        execution = self.execution
        assert execution.version is not None
        assert execution.arn is not None
        if started and ended and ended < started:
            ended = started
        return self.approval.row(
            self.group,
            execution.version,
            execution.arn,
            execution_id=execution.execution_id,
            trigger=self.trigger,
            stage=stage,
            result=result,
            reason=reason,
            rollback_target=target,
            started=started,
            ended=ended,
            stage_approver=(
                None
                if execution.execution_type == contract.EXECUTION_ROLLBACK
                else execution.answers.get(stage)
            ),
        )


def stage_rows(
    maker: RowMaker,
    stages: Sequence[str],
    rolled_back_by: Mapping[tuple[str, str], PipelineRecord],
) -> list[HistoryRow]:
    """A row per stage the execution reached, in the pipeline's order: each stage's
    outcome, and the first stage it did not finish."""
    execution = maker.execution
    rows: list[HistoryRow] = []
    cut_short = False
    for stage in stages:
        records = [r for r in execution.records if r.stage == stage]
        started_at = next(
            (r.started_at or r.at for r in records if r.record == RECORD_STAGE_STARTED), None
        )
        outcome = next((r for r in reversed(records) if r.record in _STAGE_OUTCOMES), None)
        if outcome is not None:
            rows.append(_outcome_row(maker, stage, outcome, started_at, rolled_back_by))
            continue
        if cut_short or (
            execution.execution_type == contract.EXECUTION_ROLLBACK and started_at is None
        ):
            continue
        unfinished = _unfinished_row(maker, stage, started_at, first=not rows)
        if unfinished is not None:
            rows.append(unfinished)
            cut_short = True
    return rows


def _outcome_row(
    maker: RowMaker,
    stage: str,
    outcome: PipelineRecord,
    started_at: datetime | None,
    rolled_back_by: Mapping[tuple[str, str], PipelineRecord],
) -> HistoryRow:
    """The row of a stage the recorder saw end: deployed (a rollback's names what it put
    back), rolled back by a later rollback, or failed."""
    started = started_at or outcome.started_at
    if outcome.record == RECORD_DEPLOYED:
        return maker.row(stage, "deployed", started=started, ended=outcome.at)
    if outcome.record == RECORD_ROLLED_BACK:
        target = rollback_target(
            maker.execution.version,
            outcome.rollback_target_execution_id,
            replacing=outcome.rolled_back_version,
        )
        return maker.row(
            stage,
            "deployed",
            started=started,
            ended=outcome.at,
            reason=outcome.reason,
            target=target,
        )
    rollback = rolled_back_by.get((maker.execution.execution_id, stage))
    if rollback is None:
        return maker.row(stage, "failed", started=started, ended=outcome.at, reason=outcome.reason)
    return maker.row(
        stage,
        "rolled-back",
        started=started,
        ended=rollback.at,
        reason=outcome.reason,
        target=rollback_target(rollback.model_package_version, rollback.execution_id),
    )


def _unfinished_row(
    maker: RowMaker, stage: str, started_at: datetime | None, *, first: bool
) -> HistoryRow | None:
    """The row of a stage without an outcome: still running, or cut short by the
    execution's end (superseded, stopped); None for a stage not reached yet."""
    execution = maker.execution
    status = execution.status or contract.STATUS_IN_PROGRESS
    if status == contract.STATUS_IN_PROGRESS and started_at is not None:
        return maker.row(stage, "in-progress", started=started_at, ended=None)
    if status in STATUS_RESULTS:
        return maker.row(
            stage,
            STATUS_RESULTS[status],
            started=started_at or execution.started,
            ended=execution.ended,
            reason=execution.status_reason(),
        )
    if status == contract.STATUS_IN_PROGRESS and first:
        return maker.row(stage, "in-progress", started=execution.started, ended=None)
    return None


def replaced_rows(
    maker: RowMaker,
    starter: Outcome | None,
    approval_of: Callable[[str], Approval],
) -> list[HistoryRow]:
    """The version a rejection or a manual rollback took out of a stage: a
    ``rolled-back`` row for it, beside the row of the version put back. (A version
    whose own execution failed gets that row from its failure instead.)"""
    execution, trigger = maker.execution, maker.trigger
    assert execution.arn is not None
    if trigger not in _TAKING_OUT:
        return []
    rows: list[HistoryRow] = []
    for record in execution.records:
        if record.record != RECORD_ROLLED_BACK or not record.rolled_back_version:
            continue
        arn = f"{execution.arn.rsplit('/', 1)[0]}/{record.rolled_back_version}"
        approval = approval_of(arn)
        if trigger == "rejection-rollback" and starter is not None:
            # The decision shown is the rejection: who rejected it, why, and when.
            approval = Approval(
                approval.registrant,
                starter.approved_by,
                starter.approval_description,
                starter.approved_at or starter.recorded_at,
            )
        rows.append(
            approval.row(
                maker.group,
                record.rolled_back_version,
                arn,
                execution_id=execution.execution_id,
                trigger=trigger,
                stage=record.stage,
                result="rolled-back",
                reason=_why_taken_out(execution, trigger, record.rolled_back_version, starter),
                rollback_target=rollback_target(
                    execution.version, record.rollback_target_execution_id
                ),
                started=execution.started or record.started_at,
                ended=record.at,
            )
        )
    return rows


def _why_taken_out(
    execution: Execution, trigger: Trigger, version: int, starter: Outcome | None
) -> str:
    if trigger == "rejection-rollback":
        why = f"v{version} was rejected"
        if starter is not None and starter.approval_description:
            why += f": {starter.approval_description}"
        return why
    if trigger == "console-rollback":
        who = execution.trigger_detail or "an unknown identity"
        return f"rolled back by {who} with RollbackStage (console or AWS CLI)"
    return "rolled back with greenlight rollback"


def rollback_target(
    version: int | None, execution_id: str | None, *, replacing: int | None = None
) -> RollbackTarget | None:
    """The version a rollback put back, when the records name it."""
    if version is None:
        return None
    return RollbackTarget(version=version, execution_id=execution_id, replacing=replacing)


def execution_rows(
    maker: RowMaker,
    stages: Sequence[str],
    rolled_back_by: Mapping[tuple[str, str], PipelineRecord],
    starter: Outcome | None,
    approval_of: Callable[[str], Approval],
) -> list[HistoryRow]:
    """Every row of one execution: its stages', then the versions it took out."""
    return [
        *stage_rows(maker, stages, rolled_back_by),
        *replaced_rows(maker, starter, approval_of),
    ]
