"""Reading one JSON object of the ``greenlight`` context, with errors that name the key path."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar


class ConfigError(ValueError):
    """A value in the ``greenlight`` context that Greenlight refuses, with its key path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


T = TypeVar("T")
MISSING: Final = object()


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class JsonObject:
    """One JSON object being read: tracks its path and which keys were consumed."""

    def __init__(self, raw: Any, path: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(path, f"expected an object, got {describe(raw)}")
        self.raw: dict[str, Any] = raw
        self.path = path
        unknown = [key for key in raw if key not in allowed]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(allowed)
            raise ConfigError(f"{path}.{key}", f"unknown key (known keys: {known}){hint}")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def get(self, key: str, default: Any = MISSING) -> Any:
        if key not in self.raw:
            if default is MISSING:
                raise ConfigError(self.at(key), "required, but missing")
            return default
        return self.raw[key]

    def string(
        self,
        key: str,
        *,
        default: Any = MISSING,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a string",
    ) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        return read_string(value, self.at(key), pattern=pattern, expected=expected)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.at(key), f"expected true or false, got {describe(value)}")
        return value

    def integer(self, key: str, *, low: int, high: int | None, default: Any = MISSING) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        return read_integer(value, self.at(key), low=low, high=high)

    def number(
        self,
        key: str,
        *,
        low: float,
        high: float | None,
        low_inclusive: bool,
        default: Any = MISSING,
    ) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        path = self.at(key)
        bounds = bounds_text(low, high, low_inclusive=low_inclusive)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected a number {bounds}, got {describe(value)}")
        too_low = value < low if low_inclusive else value <= low
        if too_low or (high is not None and value > high) or math.isnan(value):
            raise ConfigError(path, f"expected a number {bounds}, got {value!r}")
        return float(value)

    def items(
        self,
        key: str,
        read: Callable[[Any, str], T],
        *,
        default: Any = MISSING,
        non_empty: bool = False,
    ) -> tuple[T, ...]:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return tuple(value)
        path = self.at(key)
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {describe(value)}")
        if non_empty and not value:
            raise ConfigError(path, "expected at least one entry, got an empty list")
        return tuple(read(item, f"{path}[{index}]") for index, item in enumerate(value))


def bounds_text(low: float, high: float | None, *, low_inclusive: bool) -> str:
    if high is None:
        return f">= {low}" if low_inclusive else f"> {low}"
    if low_inclusive:
        return f"in {low}..{high}"
    return f"with {low} < x <= {high}"


def read_string(
    value: Any, path: str, *, pattern: re.Pattern[str] | None = None, expected: str = "a string"
) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, f"expected {expected}, got {describe(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ConfigError(path, f"expected {expected}, got {json.dumps(value)}")
    if pattern is None and not value.strip():
        raise ConfigError(path, f"expected {expected}, got an empty string")
    return value


def read_integer(value: Any, path: str, *, low: int, high: int | None) -> int:
    bounds = f"{low}..{high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, f"expected {bounds}, got {describe(value)}")
    if value < low or (high is not None and value > high):
        raise ConfigError(path, f"expected {bounds}, got {value}")
    return value
