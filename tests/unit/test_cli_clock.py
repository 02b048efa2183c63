"""The CLI's clock: the system clock on AWS, the sandbox's when pointed at a served one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pipeline_scripts.cli_clock import CLOCK_PATH, ServedClock, cli_clock

SANDBOX_TIME = "2026-01-05T09:30:00+00:00"


class _Endpoint(BaseHTTPRequestHandler):
    """Answers the clock path like a sandbox server when ``sandbox`` is set, else 404."""

    sandbox = True

    def do_GET(self) -> None:
        if self.sandbox and self.path == CLOCK_PATH:
            body = json.dumps({"now": SANDBOX_TIME}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


def _serve(sandbox: bool) -> Iterator[str]:
    handler = type("Handler", (_Endpoint,), {"sandbox": sandbox})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def sandbox_endpoint() -> Iterator[str]:
    yield from _serve(sandbox=True)


@pytest.fixture
def other_endpoint() -> Iterator[str]:
    yield from _serve(sandbox=False)


def test_without_an_endpoint_url_the_cli_uses_the_system_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the CLI pointed at AWS itself
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    # WHEN it picks its clock
    clock = cli_clock()

    # THEN it is the process's clock, which tells the wall-clock time
    assert not isinstance(clock, ServedClock)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_pointed_at_a_sandbox_the_cli_reads_the_sandboxs_time(
    monkeypatch: pytest.MonkeyPatch, sandbox_endpoint: str
) -> None:
    # GIVEN the CLI pointed at a served sandbox
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_endpoint)

    # WHEN it picks its clock and reads the time
    clock = cli_clock()

    # THEN it is the sandbox's time, not the wall clock's
    assert isinstance(clock, ServedClock)
    assert clock.now() == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_pointed_at_another_endpoint_the_cli_uses_the_system_clock(
    monkeypatch: pytest.MonkeyPatch, other_endpoint: str
) -> None:
    # GIVEN the CLI pointed at an endpoint that is no sandbox (it has no clock path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", other_endpoint)

    # WHEN it picks its clock
    clock = cli_clock()

    # THEN it is the process's clock, which tells the wall-clock time
    assert not isinstance(clock, ServedClock)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
