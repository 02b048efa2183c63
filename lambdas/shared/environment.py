"""A function's environment, read once at cold start and refused with the variable named."""

from __future__ import annotations

from collections.abc import Mapping


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
