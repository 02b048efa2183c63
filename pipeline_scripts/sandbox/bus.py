"""The default event bus of the sandbox's account: CodePipeline's state-change events
put on it as AWS puts them, and the rules' synthesized patterns matched against events."""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import events_backends

from pipeline_scripts.emulation.pipeline_events import (
    action_execution_event,
    pipeline_execution_event,
    stage_execution_event,
)
from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, REGION
from pipeline_scripts.sandbox.engine import Change


def put_pipeline_event(kind: str, change: Change) -> dict[str, Any]:
    """Put CodePipeline's state-change event for ``change`` on the default bus, as AWS
    does; returns the event, with the id the bus gave it."""
    event = _pipeline_event(kind, change)
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Resources": event["resources"],
        "Detail": json.dumps(event["detail"]),
        "Time": change.at.timestamp(),
    }
    (result,) = events_backends[ACCOUNT_ID][REGION].put_events([entry])
    event["id"] = result["EventId"]
    return event


def _pipeline_event(kind: str, change: Change) -> dict[str, Any]:
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


def rule_matches(rule_name: str, event: dict[str, Any]) -> bool:
    """Whether the default bus's rule ``rule_name`` matches ``event``."""
    bus = events_backends[ACCOUNT_ID][REGION].describe_event_bus("default")
    matcher = bus.rules[rule_name].event_pattern
    matched: bool = matcher.matches_event(event)  # type: ignore[arg-type]
    return matched
