"""The sandbox guide's serve mode works when pasted into a new shell: the shell blocks
after the server starts run in a clean environment (no venv on PATH, no AWS settings)
from the repository root, against a sandbox server, and the exports they show are the
ones the server's banner prints. The Python snippet runs once, there."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY
from pipeline_scripts.sandbox.server import SandboxServer, client_exports
from pipeline_scripts.sandbox.template import load_app
from tests.doc_snippets import ROOT, blocks, guide, read, section

pytestmark = pytest.mark.e2e

PORT_SHOWN = "4566"
PIPELINE = "greenlight-house-price-linear-learner"


def _serve_mode() -> str:
    return section(read(guide("sandbox")), "Serve mode")


def _bodies(lang: str) -> list[str]:
    return [block.body for block in blocks(_serve_mode(), lang)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _new_shell(script: str, port: int) -> subprocess.CompletedProcess[str]:
    """``script`` in a new bash at the repository root, with a bare environment."""
    bash = shutil.which("bash")
    assert bash is not None
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [bash, "-e", "-c", script.replace(PORT_SHOWN, str(port))],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_serve_mode_exports_are_the_ones_the_server_banner_prints() -> None:
    # GIVEN the shell blocks of the serve-mode section
    setup = _bodies("sh")[1]

    # THEN the second (a new shell's setup) activates the venv and exports exactly what
    # the banner prints for the port the first one serves on
    lines = [line for line in setup.splitlines() if line and not line.startswith("#")]
    assert lines[0] == ". .venv/bin/activate"
    assert lines[1:] == list(client_exports(f"http://127.0.0.1:{PORT_SHOWN}"))
    assert f"--port {PORT_SHOWN}" in _bodies("sh")[0]


def test_the_sandbox_guide_says_what_the_sandbox_proves_and_what_it_does_not() -> None:
    text = " ".join(read(guide("sandbox")).split())
    assert "What the sandbox proves" in text
    assert "does not prove" in text


def test_the_serve_mode_section_runs_in_a_new_shell(example_out: Path) -> None:
    # GIVEN a sandbox server, as the section's first block starts one
    port = _free_port()
    server = SandboxServer(load_app(example_out), port=port, log=lambda _line: None)
    server.start()
    setup, *after = _bodies("sh")[1:]
    (snippet,) = _bodies("python")
    assert DATA_SCIENTIST_KEY in snippet
    try:
        # WHEN a new shell runs the setup, then the Python snippet (and prints its ARN)
        script = f"{setup}\npython - <<'PYTHON'\n{snippet}\nprint(arn)\nPYTHON\n"
        registered = _new_shell(script, port)
        assert registered.returncode == 0, registered.stderr
        arn = registered.stdout.strip().splitlines()[-1]
        with server.lock:
            server.sandbox.settle()
            executions = server.sandbox.codepipeline.pipeline_record(PIPELINE).executions
            started = [
                e.variables["ModelPackageArn"]
                for e in executions
                if e.trigger_type != "CreatePipeline"
            ]

        # AND another new shell runs the setup, then the commands that follow it
        followed = _new_shell(f"{setup}\n{''.join(after)}", port)

        # THEN the version the snippet registered and approved is the one deployed
        assert started == [arn]
        # AND each shell worked: production's approval was given and the history shows it
        assert followed.returncode == 0, followed.stderr
        assert "approve-production.Approve Approved" in followed.stdout
        assert "AKIAREVIEWER00000001" in followed.stdout
        assert "command not found" not in registered.stderr + followed.stderr
    finally:
        server.stop()
