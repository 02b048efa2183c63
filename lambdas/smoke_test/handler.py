"""Lambda entry point of the SmokeTest action: ``smoke_test.handler.handler``."""

from __future__ import annotations

from typing import Any

from smoke_test.logic import run


def handler(event: dict[str, Any], context: object) -> dict[str, str]:
    return run(event)
