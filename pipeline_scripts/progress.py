"""Progress of a long command (``make sandbox``, ``--all``, ``make bench``): which step
of how many is running, and the time since the command started.

It writes to stderr, so what the command prints on stdout (the story, the results, the
JSON) is the same with or without it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO


class Progress:
    """Announces the start and the end of each planned step."""

    def __init__(
        self,
        steps: Sequence[str],
        *,
        what: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.steps = tuple(steps)
        self.what = what
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self._step_started = self.started
        self._done = 0

    def begin(self, step: str) -> None:
        if self._done >= len(self.steps) or self.steps[self._done] != step:
            planned = self.steps[self._done] if self._done < len(self.steps) else "none"
            raise ValueError(f"{self.what} {step!r} is not the next one planned ({planned})")
        self._step_started = self.clock()
        self._say(f"{self._place(step)} ...")

    def end(self, step: str, verdict: str) -> None:
        now = self.clock()
        self._say(
            f"{self._place(step)} {verdict} in {now - self._step_started:.1f} s "
            f"(elapsed {now - self.started:.1f} s)"
        )
        self._done += 1

    def _place(self, step: str) -> str:
        return f"[{self._done + 1}/{len(self.steps)}] {self.what} {step}"

    def _say(self, line: str) -> None:
        stream = self.stream or sys.stderr
        print(line, file=stream, flush=True)
