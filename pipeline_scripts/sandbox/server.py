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
import threading
from types import FrameType
from typing import Any

from moto.server import ThreadedMotoServer

from pipeline_scripts.errors import EXIT_OK
from pipeline_scripts.sandbox.template import AppSpec
from pipeline_scripts.sandbox.world import Sandbox

#: How often the background loop looks for work, in wall-clock seconds.
TICK_SECONDS = 0.2


class SandboxServer:
    """A started sandbox, served on ``port``, with its background loop."""

    def __init__(self, app: AppSpec, *, port: int, log: Any = print) -> None:
        self.port = port
        self.sandbox = Sandbox(app, log=log)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
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
        server.start()
        print(f"Greenlight sandbox serving on {server.endpoint_url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL={server.endpoint_url}")
        print("  export AWS_ACCESS_KEY_ID=AKIADATASCIENTIST001 AWS_SECRET_ACCESS_KEY=sandbox")
        print("  export AWS_DEFAULT_REGION=us-east-1")
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


def describe(app: AppSpec) -> str:
    """What the server holds, as JSON (for scripts)."""
    return json.dumps(
        {
            "modelPackageGroups": list(app.model_package_groups),
            "pipelines": [p.name for p in app.pipelines],
            "ledgerTable": next(iter(app.tables), None),
        }
    )
