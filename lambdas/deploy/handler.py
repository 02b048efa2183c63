"""Lambda entry point of the Deploy action: ``deploy.handler.handler``."""

from __future__ import annotations

from typing import Any

from deploy.logic import run


def handler(event: dict[str, Any], context: object) -> dict[str, str]:
    return run(event)
