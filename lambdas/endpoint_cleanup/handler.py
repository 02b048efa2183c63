"""Custom resource onEvent handler (CDK Provider framework): delete endpoints on stack Delete."""

from __future__ import annotations

from typing import Any

from endpoint_cleanup.logic import CleanupRequest, on_event


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return on_event(CleanupRequest.from_event(event)).to_response()
