"""Lambda entry point: CodePipeline pipeline, stage and action state-change events."""

from __future__ import annotations

import os
from typing import Any

from recorder.events import group_of_pipeline_event
from recorder.logic import Recorded, Recorder
from recorder.metrics import measurements
from shared.group_registry import PerGroup
from shared.observability import (
    event_ids,
    invocation,
    logger,
    publish_metrics,
)
from shared.settings import RecorderConfig

#: One recorder (settings and clients) per group, per execution environment: the function
#: records every Greenlight pipeline, and reads each group's settings from the registry.
_recorders = PerGroup(lambda entry: Recorder(RecorderConfig.for_group(os.environ, entry)))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    recorder = _recorders(group_of_pipeline_event(event))
    ids = event_ids(event, pipeline_execution_id="execution-id", stage="stage")
    with invocation(**ids, group=recorder.config.group):
        recorded = recorder.handle(event)
        _publish(recorded, recorder)
        logger.info("pipeline event handled: %s", recorded.result)
    return {
        "eventId": recorded.event_id,
        "result": recorded.result,
        "executionId": None if recorded.record is None else recorded.record.execution_id,
    }


def _publish(recorded: Recorded, recorder: Recorder) -> None:
    """The deployment metrics of a record this invocation wrote (not of a duplicate)."""
    record = recorded.record
    if record is None or record.stage is None or recorded.result != record.record:
        return
    publish_metrics(record.group, record.stage, measurements(record, recorder.ledger))
