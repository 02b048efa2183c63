"""Time, injected: the Lambda functions use the system clock, tests and the sandbox a
virtual one that canary waits, bake minutes and polling advance without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _CurrentClock:
    """Whatever clock is installed at the moment of each call, so a function that keeps
    ``current_clock()`` from its cold start still sees a clock installed later (the
    sandbox's Lambda runtime installs one per invocation, to hold it to its timeout)."""

    def now(self) -> datetime:
        return _installed.now()

    def sleep(self, seconds: float) -> None:
        _installed.sleep(seconds)


_installed: Clock = SystemClock()
_CURRENT = _CurrentClock()


def current_clock() -> Clock:
    """The clock a function uses when none is injected: the system clock in Lambda; the
    sandbox installs its virtual clock here so waits inside the real handlers pass in
    virtual time."""
    return _CURRENT


def installed_clock() -> Clock:
    """The clock installed right now (not the forwarding ``current_clock()``)."""
    return _installed


def install_clock(clock: Clock | None) -> None:
    """Make ``clock`` the process's default (``None`` restores the system clock)."""
    global _installed  # noqa: PLW0603 - one process-wide default, set by the sandbox only
    if isinstance(clock, _CurrentClock):
        raise ValueError("install a clock, not current_clock() itself (it forwards to it)")
    _installed = clock or SystemClock()
