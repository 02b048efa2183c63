"""moto's own timestamps, on the sandbox's virtual clock.

moto stamps what it creates (a table's CreationDateTime, an alarm's
StateUpdatedTimestamp, a role's CreateDate, a stack's CreationTime, a queue's
CreatedTimestamp, an event's time …) through ``moto.core.utils``: ``utcnow``,
``unix_time`` and the ISO 8601 helpers all read ``datetime.datetime.now`` from that
module's ``datetime``. S3 reads ``datetime.datetime.now`` itself (a bucket's
CreationDate). While ``MotoClock`` is installed, those modules see a ``datetime`` whose
``now`` is the sandbox's clock, so every time the sandbox shows is virtual time, and
``uninstall`` puts the real module back.
"""

from __future__ import annotations

import datetime as real_datetime
import importlib
import types
from typing import Any

from shared.clock import Clock

#: The moto modules that read the time themselves.
MOTO_TIME_MODULES = ("moto.core.utils", "moto.s3.models")


def _virtual_datetime_module(clock: Clock) -> types.ModuleType:
    """A stand-in for the ``datetime`` module whose ``datetime.now`` is ``clock``'s."""

    class VirtualDatetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz: real_datetime.tzinfo | None = None) -> Any:
            now = clock.now()
            if tz is None:  # naive local time, as datetime.now() gives it
                return now.astimezone().replace(tzinfo=None)
            return now.astimezone(tz)

        @classmethod
        def utcnow(cls) -> Any:
            return clock.now().astimezone(real_datetime.UTC).replace(tzinfo=None)

    module = types.ModuleType("datetime", "datetime, on the sandbox's virtual clock")
    module.__dict__.update({k: v for k, v in vars(real_datetime).items() if not k.startswith("__")})
    module.datetime = VirtualDatetime  # type: ignore[attr-defined]
    return module


class MotoClock:
    """Installs ``clock`` as moto's time source; ``uninstall`` restores the real one."""

    def __init__(self, clock: Clock) -> None:
        self._virtual = _virtual_datetime_module(clock)
        self._saved: dict[str, Any] = {}

    def install(self) -> MotoClock:
        for name in MOTO_TIME_MODULES:
            module = importlib.import_module(name)
            self._saved[name] = module.datetime
            module.datetime = self._virtual  # type: ignore[attr-defined]
        return self

    def uninstall(self) -> None:
        for name, original in self._saved.items():
            importlib.import_module(name).datetime = original  # type: ignore[attr-defined]
        self._saved.clear()
