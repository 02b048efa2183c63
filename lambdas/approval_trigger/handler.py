"""Lambda entry point: EventBridge "SageMaker Model Package State Change" events."""

from __future__ import annotations

import os
from typing import Any

from approval_trigger.logic import ApprovalTrigger
from shared.events import group_of
from shared.group_registry import PerGroup
from shared.observability import (
    correlate,
    event_ids,
    invocation,
    logger,
)
from shared.settings import TriggerConfig

#: One trigger (settings and clients) per group, per execution environment: the function
#: serves every group, and reads each group's settings from the group registry.
_triggers = PerGroup(lambda entry: ApprovalTrigger(TriggerConfig.for_group(os.environ, entry)))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    trigger = _triggers(group_of(event))
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
