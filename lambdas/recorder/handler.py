"""Lambda entry point: CodePipeline pipeline, stage and action state-change events."""

from __future__ import annotations

import logging
import os
from typing import Any

from recorder.logic import Recorder, RecorderConfig

logging.getLogger().setLevel(logging.INFO)

_recorder: Recorder | None = None


def _get_recorder() -> Recorder:
    global _recorder  # noqa: PLW0603 - one recorder (config and clients) per execution environment
    if _recorder is None:
        _recorder = Recorder(RecorderConfig.from_env(os.environ))
    return _recorder


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    recorded = _get_recorder().handle(event)
    return {
        "eventId": recorded.event_id,
        "result": recorded.result,
        "executionId": None if recorded.record is None else recorded.record.execution_id,
    }
