"""A function's environment, read once at cold start and refused with the variable named."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared import contract


class ConfigError(ValueError):
    """An environment variable of a function is missing or holds a bad value."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"environment {name}: {problem}")
        self.name = name


def required(environ: Mapping[str, str], name: str) -> str:
    """The variable's value; ConfigError when it is missing or blank."""
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(name, "missing")
    return value


def json_value(text: str, name: str) -> Any:
    """``text`` (the value of ``name``) parsed as JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(name, f"not valid JSON ({error.msg})") from None


def stage_names(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The group's deployment stages, in pipeline order (``GREENLIGHT_STAGES``)."""
    stages = json_value(required(environ, contract.ENV_STAGES), contract.ENV_STAGES)
    if (
        not isinstance(stages, list)
        or not stages
        or not all(isinstance(stage, str) and stage for stage in stages)
    ):
        raise ConfigError(
            contract.ENV_STAGES, f"expected a non-empty JSON list of names, got {stages!r}"
        )
    return tuple(stages)
