"""How the history ties ledger outcomes to executions: who started a rollback, which
operator request started an execution, and what is live in each stage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Final, cast

from pipeline_scripts.history.executions import Execution
from pipeline_scripts.history.rows import (
    CODEPIPELINE,
    ROLLBACK_TRIGGERS,
    TRIGGERS,
    HistoryRow,
    Trigger,
)
from shared import contract
from shared.ledger import (
    OUTCOME_ROLLBACK_STARTED,
    RECORD_DEPLOYED,
    RECORD_ROLLED_BACK,
    Outcome,
    PipelineRecord,
)

#: Who started a ROLLBACK execution no outcome lists, by CodePipeline's trigger type.
_ROLLBACK_TRIGGERS: Final[dict[str, Trigger]] = {
    contract.TRIGGER_AUTOMATED_ROLLBACK: "automated-rollback",
    contract.TRIGGER_MANUAL_ROLLBACK: "console-rollback",
}
#: Who asked for a ROLLBACK execution, by the trigger reason of the outcome that lists it.
_STARTER_TRIGGERS: Final[dict[str, Trigger]] = {
    contract.REASON_REJECTION_ROLLBACK: "rejection-rollback",
    contract.REASON_MANUAL_ROLLBACK: "manual-rollback",
}


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


def with_operator(rows: list[HistoryRow], request: Outcome | None) -> list[HistoryRow]:
    """``rows`` naming who ran the operator request that started their execution."""
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


def trigger_of(execution: Execution, started_by: Mapping[str, Trigger]) -> Trigger:
    """Why ``execution`` ran: who started a rollback, or its ``TriggerReason`` variable."""
    if execution.execution_type == contract.EXECUTION_ROLLBACK:
        starter = started_by.get(execution.execution_id)
        if starter is not None:
            return starter
        return _ROLLBACK_TRIGGERS.get(execution.trigger_type or "", "manual-rollback")
    reason = execution.trigger_reason or contract.REASON_APPROVAL
    return cast(Trigger, reason if reason in TRIGGERS else contract.REASON_APPROVAL)


def rollback_starter(execution: Execution, trigger: Trigger) -> str | None:
    """Who or what started a rollback: CodePipeline itself, or the caller CodePipeline
    names in the trigger detail (an identity ARN); None for other executions."""
    if trigger not in ROLLBACK_TRIGGERS:
        return None
    if trigger == "automated-rollback":
        return CODEPIPELINE
    detail = execution.trigger_detail or ""
    return detail if detail.startswith("arn:") else None


def rolled_back_by(executions: Iterable[Execution]) -> dict[tuple[str, str], PipelineRecord]:
    """(failed execution, stage) -> the rolled-back record that replaced it."""
    found: dict[tuple[str, str], PipelineRecord] = {}
    for execution in executions:
        for record in execution.records:
            if record.record == RECORD_ROLLED_BACK and record.rolled_back_execution_id:
                found[(record.rolled_back_execution_id, record.stage or "")] = record
    return found
