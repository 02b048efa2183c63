"""The toolchain the repository pins: Node.js comes from npm, not from the system.

The system's Node.js may be out of support (the CDK's bindings then print an
end-of-life banner on every synthesis); `make install` brings a supported one from the
npm registry, and every make target runs the CDK on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"
SUPPORTED_NODE_MAJORS = {"22", "24"}


def _make_path() -> str:
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval=show-path: ; @echo $$PATH", "show-path"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_package_json_pins_a_supported_node_exactly_and_the_lock_agrees() -> None:
    # GIVEN the repository's npm files
    package = json.loads((REPO / "package.json").read_text())
    lock = json.loads((REPO / "package-lock.json").read_text())

    # WHEN the pinned Node.js is read from each
    pinned = package["devDependencies"]["node"]
    locked = lock["packages"]["node_modules/node"]["version"]

    # THEN it is one exact version of a supported major, the same in both
    assert pinned == locked
    assert pinned.split(".")[0] in SUPPORTED_NODE_MAJORS
    assert all(part.isdigit() for part in pinned.split(".")), f"not an exact pin: {pinned}"


def test_make_runs_the_pinned_node_before_the_systems() -> None:
    # GIVEN the PATH every make target runs with
    path = _make_path().split(os.pathsep)

    # WHEN the first node on it is asked its version
    version = subprocess.run(
        ["node", "--version"],
        env={**os.environ, "PATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    # THEN it is the installed, pinned one
    assert path[0] == str(NODE_BIN)
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["node"]
    assert version == f"v{pinned}"


def test_the_cdk_bindings_start_without_an_end_of_life_banner() -> None:
    # GIVEN make's PATH, whatever Node.js the system has
    env = {**os.environ, "PATH": _make_path()}

    # WHEN the CDK's Python bindings start their Node.js process
    result = subprocess.run(
        [sys.executable, "-c", "import aws_cdk; aws_cdk.App()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    # THEN they start cleanly and say nothing about an unsupported Node.js
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr
    assert "not supported" not in result.stderr
