"""The default event bus of the sandbox's account: CodePipeline's state-change events
put on it as AWS puts them, and the rules' synthesized patterns matched against events."""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import events_backends

from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, REGION
from pipeline_scripts.sandbox.changes import Change, change_event


def put_pipeline_event(kind: str, change: Change) -> dict[str, Any]:
    """Put CodePipeline's state-change event for ``change`` on the default bus, as AWS
    does; returns the event, with the id the bus gave it."""
    event = change_event(kind, change)
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


def rule_matches(rule_name: str, event: dict[str, Any]) -> bool:
    """Whether the default bus's rule ``rule_name`` matches ``event``."""
    bus = events_backends[ACCOUNT_ID][REGION].describe_event_bus("default")
    matcher = bus.rules[rule_name].event_pattern
    matched: bool = matcher.matches_event(event)  # type: ignore[arg-type]
    return matched
