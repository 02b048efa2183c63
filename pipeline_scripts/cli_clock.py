"""The clock the ``greenlight`` commands stamp what they record with.

On AWS that is the system clock. Pointed at a served sandbox (``AWS_ENDPOINT_URL``), it
is the sandbox's virtual clock, read from the server: a redeploy or a rollback recorded
in wall-clock time would sit months away from everything else the sandbox records, and
every later approval would look older than it (skipped as stale).

A sandbox server answers ``GET {endpoint}/_greenlight/clock`` with ``{"now": ISO 8601}``
(``_`` cannot start a bucket name, so the path is no S3 request). Any other endpoint
(a VPC endpoint, another emulator) does not, and the system clock is used.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from datetime import datetime

from pipeline_scripts.errors import GreenlightError
from shared.clock import Clock, current_clock

#: Where a sandbox server tells its time.
CLOCK_PATH = "/_greenlight/clock"
#: How long the probe waits for an endpoint that may not be a sandbox, in seconds.
PROBE_TIMEOUT_SECONDS = 2.0


class SandboxTimeUnavailable(GreenlightError):
    """The endpoint did not answer with a sandbox's time."""

    def __init__(self, endpoint_url: str, why: str) -> None:
        super().__init__(f"{endpoint_url} gave no sandbox time: {why}")


class ServedClock:
    """The virtual time of the sandbox served at ``endpoint_url``."""

    def __init__(self, endpoint_url: str) -> None:
        self.url = endpoint_url.rstrip("/") + CLOCK_PATH

    def now(self) -> datetime:
        try:
            with urllib.request.urlopen(self.url, timeout=PROBE_TIMEOUT_SECONDS) as response:  # noqa: S310 - the configured endpoint
                answer = json.loads(response.read())
            now = datetime.fromisoformat(answer["now"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SandboxTimeUnavailable(self.url, f"{type(error).__name__}: {error}") from None
        if now.tzinfo is None:
            raise SandboxTimeUnavailable(self.url, f"time without a zone: {answer['now']!r}")
        return now

    def sleep(self, seconds: float) -> None:
        """The server's own loop lets virtual time pass; the CLI waits in wall time."""
        time.sleep(seconds)


def cli_clock() -> Clock:
    """The sandbox's clock when ``AWS_ENDPOINT_URL`` is a sandbox server, otherwise the
    process's clock (the system clock, on AWS)."""
    endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint_url:
        return current_clock()
    served = ServedClock(endpoint_url)
    try:
        served.now()
    except SandboxTimeUnavailable:
        return current_clock()
    return served
