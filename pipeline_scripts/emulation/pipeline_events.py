"""CodePipeline state-change events, shaped as EventBridge delivers them.

What real CodePipeline does
---------------------------
CodePipeline puts an event on the account's default bus (source ``aws.codepipeline``)
whenever a pipeline execution, a stage execution or an action execution changes state:

``CodePipeline Pipeline Execution State Change``
    ``detail``: ``pipeline``, ``execution-id``, ``start-time``, ``execution-trigger``
    (``trigger-type``, ``trigger-detail``), ``state`` (STARTED, STOPPING, STOPPED,
    SUCCEEDED, FAILED, SUPERSEDED, CANCELED, RESUMED), ``version`` (the pipeline
    structure version) and ``pipeline-execution-attempt``; a FAILED execution adds
    ``execution-result`` (``external-execution-summary``, ``error-code``).
``CodePipeline Stage Execution State Change``
    the same, without the trigger, plus ``stage``; states STARTED, SUCCEEDED, FAILED,
    STOPPING, STOPPED, CANCELED, RESUMED.
``CodePipeline Action Execution State Change``
    plus ``stage``, ``action``, ``region`` and ``type`` (owner, provider, category,
    version); states STARTED, SUCCEEDED, FAILED, CANCELED, ABANDONED; a finished action
    adds ``execution-result`` (``external-execution-summary``, ``external-execution-id``,
    ``external-execution-url``, ``error-code`` when it failed).

The envelope is EventBridge's: ``version`` "0", ``id``, ``detail-type``, ``source``,
``account``, ``time`` (seconds, ``Z``), ``region`` and ``resources`` (the pipeline ARN).
Delivery is at least once and unordered. Rollback executions are not marked in the
event; ``GetPipelineExecution`` says ``executionType`` ROLLBACK and the trigger type
(AutomatedRollback or ManualRollback).

What is emulated here
---------------------
Nothing runs: these builders make the events, the sandbox engine emits them as it moves
executions forward, and the recorder's tests read them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from shared import contract

ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"

PIPELINE_STATES: Final = (
    contract.STATE_STARTED,
    contract.STATE_STOPPING,
    contract.STATE_STOPPED,
    contract.STATE_SUCCEEDED,
    contract.STATE_FAILED,
    contract.STATE_SUPERSEDED,
    contract.STATE_CANCELED,
    contract.STATE_RESUMED,
)
STAGE_STATES: Final = (
    contract.STATE_STARTED,
    contract.STATE_SUCCEEDED,
    contract.STATE_FAILED,
    contract.STATE_STOPPING,
    contract.STATE_STOPPED,
    contract.STATE_CANCELED,
    contract.STATE_RESUMED,
)
ACTION_STATES: Final = (
    contract.STATE_STARTED,
    contract.STATE_SUCCEEDED,
    contract.STATE_FAILED,
    contract.STATE_CANCELED,
    contract.STATE_ABANDONED,
)

#: The ``type`` of Greenlight's actions, by action name.
LAMBDA_ACTION_TYPE: Final = {
    "owner": "AWS",
    "provider": "Lambda",
    "category": contract.CATEGORY_INVOKE,
    "version": "1",
}
APPROVAL_ACTION_TYPE: Final = {
    "owner": "AWS",
    "provider": "Manual",
    "category": contract.CATEGORY_APPROVAL,
    "version": "1",
}
SOURCE_ACTION_TYPE: Final = {
    "owner": "AWS",
    "provider": "S3",
    "category": contract.CATEGORY_SOURCE,
    "version": "1",
}


def event_time(moment: datetime) -> str:
    """EventBridge's ``time``: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def detail_time(moment: datetime) -> str:
    """CodePipeline's ``start-time`` in a detail: UTC with milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _envelope(
    detail_type: str,
    pipeline: str,
    detail: dict[str, Any],
    *,
    at: datetime,
    event_id: str | None,
    account: str,
    region: str,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": contract.PIPELINE_EVENT_SOURCE,
        "account": account,
        "time": event_time(at),
        "region": region,
        "resources": [f"arn:aws:codepipeline:{region}:{account}:{pipeline}"],
        "detail": detail,
    }


def _check(state: str, allowed: tuple[str, ...], what: str) -> None:
    if state not in allowed:
        raise ValueError(f"{what} state must be one of {', '.join(allowed)}, got {state!r}")


def pipeline_execution_event(
    *,
    pipeline: str,
    execution_id: str,
    state: str,
    start_time: datetime,
    at: datetime,
    trigger_type: str = contract.TRIGGER_START_PIPELINE_EXECUTION,
    trigger_detail: str = "arn:aws:sts::123456789012:assumed-role/greenlight-trigger/session",
    summary: str | None = None,
    error_code: str | None = None,
    pipeline_version: int = 1,
    event_id: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """A "CodePipeline Pipeline Execution State Change" event."""
    _check(state, PIPELINE_STATES, "pipeline execution")
    detail: dict[str, Any] = {
        "pipeline": pipeline,
        "execution-id": execution_id,
        "start-time": detail_time(start_time),
        "execution-trigger": {"trigger-type": trigger_type, "trigger-detail": trigger_detail},
        "state": state,
        "version": float(pipeline_version),
        "pipeline-execution-attempt": 1.0,
    }
    if state == contract.STATE_FAILED and (summary or error_code):
        detail["execution-result"] = _result(summary=summary, error_code=error_code)
    return _envelope(
        contract.PIPELINE_EXECUTION_DETAIL_TYPE,
        pipeline,
        detail,
        at=at,
        event_id=event_id,
        account=account,
        region=region,
    )


def stage_execution_event(
    *,
    pipeline: str,
    execution_id: str,
    stage: str,
    state: str,
    start_time: datetime,
    at: datetime,
    pipeline_version: int = 1,
    event_id: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """A "CodePipeline Stage Execution State Change" event."""
    _check(state, STAGE_STATES, "stage execution")
    detail = {
        "pipeline": pipeline,
        "execution-id": execution_id,
        "start-time": detail_time(start_time),
        "stage": stage,
        "state": state,
        "version": float(pipeline_version),
        "pipeline-execution-attempt": 1.0,
    }
    return _envelope(
        contract.STAGE_EXECUTION_DETAIL_TYPE,
        pipeline,
        detail,
        at=at,
        event_id=event_id,
        account=account,
        region=region,
    )


def action_execution_event(
    *,
    pipeline: str,
    execution_id: str,
    stage: str,
    action: str,
    state: str,
    start_time: datetime,
    at: datetime,
    action_type: Mapping[str, str] | None = None,
    summary: str | None = None,
    external_execution_id: str | None = None,
    error_code: str | None = None,
    pipeline_version: int = 1,
    event_id: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """A "CodePipeline Action Execution State Change" event. ``action_type`` defaults to
    a Lambda invoke action (an Approval one for ``contract.ACTION_APPROVE``)."""
    _check(state, ACTION_STATES, "action execution")
    if action_type is None:
        action_type = (
            APPROVAL_ACTION_TYPE if action == contract.ACTION_APPROVE else LAMBDA_ACTION_TYPE
        )
    detail: dict[str, Any] = {
        "pipeline": pipeline,
        "execution-id": execution_id,
        "start-time": detail_time(start_time),
        "stage": stage,
        "action": action,
        "state": state,
        "region": region,
        "type": dict(action_type),
        "version": float(pipeline_version),
        "pipeline-execution-attempt": 1.0,
    }
    if state in (contract.STATE_SUCCEEDED, contract.STATE_FAILED) and (
        summary or external_execution_id or error_code
    ):
        detail["execution-result"] = _result(
            summary=summary,
            error_code=error_code if state == contract.STATE_FAILED else None,
            external_execution_id=external_execution_id,
        )
    return _envelope(
        contract.ACTION_EXECUTION_DETAIL_TYPE,
        pipeline,
        detail,
        at=at,
        event_id=event_id,
        account=account,
        region=region,
    )


def _result(
    *,
    summary: str | None,
    error_code: str | None,
    external_execution_id: str | None = None,
) -> dict[str, str]:
    result: dict[str, str] = {}
    if external_execution_id:
        result["external-execution-id"] = external_execution_id
    if summary:
        result["external-execution-summary"] = summary
    if error_code:
        result["error-code"] = error_code
    return result
