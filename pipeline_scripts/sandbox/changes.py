"""A state change of a pipeline execution, and the EventBridge event CodePipeline puts
on the bus for it (``pipeline_events`` builds the shapes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline_scripts.emulation.codepipeline import PipelineExecution
from pipeline_scripts.emulation.pipeline_events import (
    action_execution_event,
    pipeline_execution_event,
    stage_execution_event,
)


@dataclass(frozen=True)
class Change:
    """A state change of an execution, one of its stages, or one of its actions."""

    execution: PipelineExecution
    state: str
    at: datetime
    stage: str | None = None
    action: str | None = None
    action_type: dict[str, str] | None = None
    summary: str | None = None


#: Called with the kind ("execution", "stage" or "action") and the change.
Transition = Callable[[str, Change], None]


def change_event(kind: str, change: Change) -> dict[str, Any]:
    """CodePipeline's state-change event for ``change`` of ``kind``."""
    execution = change.execution
    common: dict[str, Any] = {
        "pipeline": execution.pipeline_name,
        "execution_id": execution.pipeline_execution_id,
        "state": change.state,
        "start_time": execution.start_time,
        "at": change.at,
    }
    if kind == "execution":
        return pipeline_execution_event(
            **common,
            trigger_type=execution.trigger_type,
            trigger_detail=execution.trigger_detail,
            summary=change.summary,
        )
    if kind == "stage":
        return stage_execution_event(**common, stage=change.stage or "")
    return action_execution_event(
        **common,
        stage=change.stage or "",
        action=change.action or "",
        action_type=change.action_type,
        summary=change.summary,
    )
