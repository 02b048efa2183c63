"""The deployment metrics one new pipeline record stands for.

The recorder is the one function that emits deployment metrics: it sees every stage of
every execution start and end, once (a redelivered event finds its record and emits
nothing again). The trigger does not count starts: an execution it starts is not yet a
deployment to any stage, and may be superseded before it reaches one. Per group and
stage (``contract.METRIC_*``):

- ``DeploymentsStarted``: a standard execution entered the stage;
- ``DeploymentsSucceeded`` and ``LeadTime``: it finished the stage, the version is live
  there; lead time runs from the approval (the trigger outcome that started the
  execution) to that moment;
- ``DeploymentsFailed``: a standard execution failed in the stage;
- ``DeploymentsRolledBack`` and ``TimeToRestore``: a rollback execution finished the
  stage, the earlier version is live again; time to restore runs from the failure of
  the execution it replaced there, or, when that one had not failed (a rejection or an
  operator's rollback of a live version), from the rollback's start in the stage.

Rollback executions count only as rolled back: their starts and failures are not
deployments of a new version.
"""

from __future__ import annotations

from datetime import datetime

from shared import contract
from shared.ledger import (
    RECORD_DEPLOYED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_STAGE_STARTED,
    Ledger,
    PipelineRecord,
)
from shared.observability import Measurement


def measurements(record: PipelineRecord, ledger: Ledger) -> tuple[Measurement, ...]:
    """What ``record`` (newly written to ``ledger``) counts for; empty when nothing."""
    if record.stage is None or record.model_package_arn is None:
        return ()
    standard = record.execution_type != contract.EXECUTION_ROLLBACK
    if record.record == RECORD_STAGE_STARTED and standard:
        return (_count(contract.METRIC_DEPLOYMENTS_STARTED),)
    if record.record == RECORD_FAILED and standard:
        return (_count(contract.METRIC_DEPLOYMENTS_FAILED),)
    if record.record == RECORD_DEPLOYED and standard:
        approved_at = _approved_at(record, ledger)
        succeeded = _count(contract.METRIC_DEPLOYMENTS_SUCCEEDED)
        if approved_at is None:
            return (succeeded,)
        return (succeeded, _seconds(contract.METRIC_LEAD_TIME, approved_at, record.at))
    if record.record == RECORD_ROLLED_BACK:
        down_since = _failed_at(record, ledger) or record.started_at
        rolled_back = _count(contract.METRIC_DEPLOYMENTS_ROLLED_BACK)
        if down_since is None:
            return (rolled_back,)
        return (rolled_back, _seconds(contract.METRIC_TIME_TO_RESTORE, down_since, record.at))
    return ()


def _count(name: str) -> Measurement:
    return Measurement(name, "Count", 1)


def _seconds(name: str, start: datetime, end: datetime) -> Measurement:
    return Measurement(name, "Seconds", max((end - start).total_seconds(), 0.0))


def _approved_at(record: PipelineRecord, ledger: Ledger) -> datetime | None:
    """When the version was approved, as the trigger outcome that started the execution
    recorded it (``RequestId`` is that outcome's event id)."""
    if record.request_id is None:
        return None
    outcome = ledger.get_outcome(record.group, record.request_id)
    return None if outcome is None else outcome.approved_at


def _failed_at(record: PipelineRecord, ledger: Ledger) -> datetime | None:
    """When the execution that was rolled back failed in the record's stage, if it did."""
    if record.rolled_back_execution_id is None:
        return None
    for earlier in ledger.pipeline_records(record.group, newest_first=True):
        if earlier.execution_id != record.rolled_back_execution_id or earlier.stage != record.stage:
            continue
        if earlier.record == RECORD_FAILED:
            return earlier.at
        if earlier.record == RECORD_STAGE_STARTED:
            return None  # back at its start in the stage: it did not fail there
    return None
