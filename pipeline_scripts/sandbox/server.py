"""Serve mode: the sandbox behind a moto server on 127.0.0.1.

The moto server runs in this process, on the same in-memory AWS the sandbox has
provisioned, and with the same emulation routes installed, so a boto3 client pointed at
it with ``AWS_ENDPOINT_URL`` sees the stacks' resources and the emulated operations. A
background loop delivers events and runs the pipelines, letting virtual time pass, so an
approval made with plain boto3 reaches the endpoints within seconds of wall time.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from pipeline_scripts.cli_clock import CLOCK_PATH
from pipeline_scripts.errors import EXIT_OK, UsageError
from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY, REGION
from pipeline_scripts.sandbox.app_spec import AppSpec
from pipeline_scripts.sandbox.world import Sandbox
from shared.clock import Clock

#: How often the background loop looks for work, in wall-clock seconds.
TICK_SECONDS = 0.2

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def with_clock_route(app: WsgiApp, clock: Clock) -> WsgiApp:
    """``app``, also answering ``GET CLOCK_PATH`` with the sandbox's time, so the
    ``greenlight`` CLI stamps what it records in the sandbox's time."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CLOCK_PATH and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"now": clock.now().isoformat()}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return serve


class _SandboxMotoServer(ThreadedMotoServer):
    """moto's threaded server, with the sandbox's clock route in front of it."""

    def __init__(self, clock: Clock, *, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._clock = clock

    def start(self) -> None:
        """Bind the port here, so that a port in use fails at once, in this thread,
        rather than in the server's thread while this one waits for it forever."""
        _check_port_free(self._ip_address, self._port)
        app = with_clock_route(DomainDispatcherApplication(create_backend_app), self._clock)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        super().start()

    def _server_entry(self) -> None:
        assert self._server is not None
        self._server_ready_event.set()
        self._server.serve_forever()


def _check_port_free(host: str, port: int) -> None:
    """Raise OSError if ``port`` cannot be bound, as the server would bind it (address
    reuse on): werkzeug itself would print its own message and exit the process."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class SandboxServer:
    """A started sandbox, served on ``port``, with its background loop."""

    def __init__(self, app: AppSpec, *, port: int, log: Any = print) -> None:
        self.port = port
        self.sandbox = Sandbox(app, log=log)
        self._server = _SandboxMotoServer(self.sandbox.clock, port=port)
        self._stop = threading.Event()
        self._loop = threading.Thread(target=self._run, name="greenlight-sandbox", daemon=True)
        self.lock = threading.Lock()
        self._entered = False
        self._serving = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.sandbox.__enter__()
        self._entered = True
        self._server.start()
        self._serving = True
        self._loop.start()

    def stop(self) -> None:
        """Stop whatever ``start`` got to; safe to call once start has failed."""
        self._stop.set()
        if self._loop.is_alive():
            self._loop.join(timeout=5)
        if self._serving:
            self._server.stop()
            self._serving = False
        if self._entered:
            self.sandbox.__exit__(None, None, None)
            self._entered = False

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                try:
                    self.sandbox.settle()
                except Exception as error:
                    self.sandbox.log(f"sandbox loop: {type(error).__name__}: {error}")
            self._stop.wait(TICK_SECONDS)


def serve(app: AppSpec, *, port: int) -> int:
    """Serve until Ctrl-C (SIGINT) or SIGTERM, then stop cleanly."""
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    server = SandboxServer(app, port=port)
    try:
        # The loop's first step waits for the lock: the banner comes before its narration.
        with server.lock:
            try:
                server.start()
            except OSError as error:
                raise UsageError(
                    f"cannot serve on 127.0.0.1:{port}: {error.strerror or error}; "
                    "choose another port with --port"
                ) from None
            print(f"Greenlight sandbox serving on {server.endpoint_url}", flush=True)
            for line in client_exports(server.endpoint_url):
                print(f"  {line}")
            print(f"  model package groups: {', '.join(app.model_package_groups)}")
            print(f"  ledger table: {next(iter(app.tables), '-')}")
            print("Ctrl-C stops it.", flush=True)
        while not stopping.wait(0.2):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print("sandbox stopped", flush=True)
    return EXIT_OK


def client_exports(endpoint_url: str) -> tuple[str, ...]:
    """The shell lines that point a new shell's AWS clients (boto3, the AWS CLI,
    ``greenlight``) at the server: endpoint, credentials and region. The banner prints
    them; the sandbox guide (docs/sandbox.md) shows them."""
    return (
        f"export AWS_ENDPOINT_URL={endpoint_url}",
        f"export AWS_ACCESS_KEY_ID={DATA_SCIENTIST_KEY} AWS_SECRET_ACCESS_KEY=sandbox",
        f"export AWS_DEFAULT_REGION={REGION}",
    )


def describe(app: AppSpec) -> str:
    """What the server holds, as JSON (for scripts)."""
    return json.dumps(
        {
            "modelPackageGroups": list(app.model_package_groups),
            "pipelines": [p.name for p in app.pipelines],
            "ledgerTable": next(iter(app.tables), None),
        }
    )
