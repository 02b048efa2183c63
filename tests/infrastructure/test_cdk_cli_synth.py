"""`cdk synth` as a platform team runs it: the pinned CLI on the pinned Node.js, the
flags `cdk init` recommends all set, and nothing printed but the result."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cdk_synth_prints_no_end_of_life_banner_and_no_unconfigured_flags(
    tmp_path: Path,
) -> None:
    # GIVEN the pinned toolchain first on PATH, as make puts it
    env = {
        **os.environ,
        "PATH": f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "lambdas")]),
    }

    # WHEN the app is synthesized with the CDK CLI
    result = subprocess.run(
        ["npx", "cdk", "synth", "--quiet", "--output", str(tmp_path / "cdk.out")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it succeeds without the Node.js end-of-life banner or the flags notice
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "end-of-life" not in output
    assert "feature flags are not configured" not in output
