"""Lambda entry point: EventBridge "SageMaker Model Package State Change" events."""

from __future__ import annotations

import logging
import os
from typing import Any

from approval_trigger.logic import ApprovalTrigger, TriggerConfig

logging.getLogger().setLevel(logging.INFO)

_trigger: ApprovalTrigger | None = None


def _get_trigger() -> ApprovalTrigger:
    global _trigger  # noqa: PLW0603 - one trigger (config and clients) per execution environment
    if _trigger is None:
        _trigger = ApprovalTrigger(TriggerConfig.from_env(os.environ))
    return _trigger


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    outcome = _get_trigger().handle(event)
    return {
        "eventId": outcome.event_id,
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "pipelineExecutionId": outcome.pipeline_execution_id,
    }
