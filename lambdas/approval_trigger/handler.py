"""Lambda entry point: EventBridge "SageMaker Model Package State Change" events."""

from __future__ import annotations

import os
from typing import Any

from approval_trigger.logic import ApprovalTrigger
from shared.observability import (
    correlate,
    event_ids,
    invocation,
    logger,
)
from shared.settings import TriggerConfig

_trigger: ApprovalTrigger | None = None


def _get_trigger() -> ApprovalTrigger:
    global _trigger  # noqa: PLW0603 - one trigger (config and clients) per execution environment
    if _trigger is None:
        _trigger = ApprovalTrigger(TriggerConfig.from_env(os.environ))
    return _trigger


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    trigger = _get_trigger()
    ids = event_ids(event, model_package_arn="ModelPackageArn")
    with invocation(**ids, group=trigger.config.group):
        outcome = trigger.handle(event)
        correlate(pipeline_execution_id=outcome.pipeline_execution_id)
        logger.info("approval event handled: %s", outcome.outcome)
    return {
        "eventId": outcome.event_id,
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "pipelineExecutionId": outcome.pipeline_execution_id,
    }
