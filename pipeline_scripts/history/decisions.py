"""Rows for decisions that started no execution: an approval a gate refused or skipped
as stale, and an operator's request refused because the version is not Approved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import cast

from pipeline_scripts.history.executions import Approval
from pipeline_scripts.history.rows import TRIGGERS, HistoryRow, Trigger
from shared.ledger import (
    OUTCOME_GATE_REJECTED,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_STALE,
    Outcome,
)


def decision_rows(
    group: str, outcomes: Sequence[Outcome], versions: Mapping[str, int]
) -> list[HistoryRow]:
    """An approval refused by a gate, or skipped as older than the last one acted on."""
    rows: list[HistoryRow] = []
    for outcome in outcomes:
        if outcome.outcome not in (OUTCOME_GATE_REJECTED, OUTCOME_SKIPPED_STALE):
            continue
        arn = outcome.model_package_arn
        version = outcome.model_package_version or versions.get(arn or "")
        if arn is None or not version:
            continue
        decision = Approval.of(outcome)
        rows.append(
            replace(decision, time=outcome.approved_at or outcome.recorded_at).row(
                group,
                version,
                arn,
                execution_id=None,
                trigger="approval",
                stage=None,
                result="gate-rejected" if outcome.outcome == OUTCOME_GATE_REJECTED else "skipped",
                reason=outcome.reason,
                rollback_target=None,
                started=None,
                ended=None,
            )
        )
    return rows


def refused_request_rows(group: str, outcomes: Sequence[Outcome]) -> list[HistoryRow]:
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
            Approval.of(outcome).row(
                group,
                outcome.model_package_version,
                outcome.model_package_arn,
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
