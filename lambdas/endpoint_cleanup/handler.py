"""Custom resource onEvent handler (CDK Provider framework): delete endpoints on stack Delete."""

from __future__ import annotations

from typing import Any

from endpoint_cleanup.logic import CleanupRequest, on_event
from shared import contract
from shared.observability import invocation


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    properties = event.get("ResourceProperties") or {}
    with invocation(
        event_id=event.get("RequestId"), group=properties.get(contract.PROP_GROUP_NAME)
    ):
        return on_event(CleanupRequest.from_event(event)).to_response()
