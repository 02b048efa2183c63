"""Lambda entry point of the Bake action: ``bake.handler.handler``."""

from __future__ import annotations

from typing import Any

from bake.logic import run


def handler(event: dict[str, Any], context: object) -> dict[str, str]:
    return run(event)
