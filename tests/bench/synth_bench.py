"""How long ``cdk synth`` takes for 1, 10 and 100 model package groups.

Each size is a real ``cdk synth --quiet`` (the CDK CLI running ``app.py``, cdk-nag
included), in a scratch folder whose ``cdk.json`` is the repository's with the groups
replaced by a fleet of copies of the example group (``tests/fleet.py``). The wall time
counts everything a platform team waits for: the CLI, the Python app, jsii and the
writing of the cloud assembly. The best of a few runs is shown; the goal is that a
hundred groups synthesize within 4x the time of one.

Run: ``python -m tests.bench.synth_bench`` (``make bench``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from tests.fleet import REPO, fleet_context

SIZES: Final = (1, 10, 100)
RUNS: Final = 2
MAX_RATIO: Final = 4.0


def _project(folder: Path, groups: int) -> None:
    """A cdk.json in ``folder`` that runs the repository's app on ``groups`` groups."""
    document = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))
    document["app"] = f"{sys.executable} {REPO / 'app.py'}"
    document["context"]["greenlight"] = fleet_context(groups)
    document.pop("watch", None)
    (folder / "cdk.json").write_text(json.dumps(document), encoding="utf-8")


def synth_seconds(groups: int) -> float:
    """One ``cdk synth`` of ``groups`` groups, wall clock."""
    cdk = shutil.which(
        "cdk", path=f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
    )
    if cdk is None:
        raise SystemExit("the CDK CLI is missing: run `make install`")
    path = os.pathsep.join([str(REPO), str(REPO / "lambdas"), os.environ.get("PYTHONPATH", "")])
    environment = {**os.environ, "PYTHONPATH": path, "CDK_DISABLE_VERSION_CHECK": "1"}
    environment["PATH"] = f"{Path(cdk).parent}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory(prefix=f"synth-{groups}-") as scratch:
        folder = Path(scratch)
        _project(folder, groups)
        started = time.perf_counter()
        subprocess.run(
            [cdk, "synth", "--quiet", "--no-notices", "--output", str(folder / "cdk.out")],
            cwd=folder,
            env=environment,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
        stacks = len(list((folder / "cdk.out").glob("*.template.json")))
    if stacks != groups + 1:
        raise SystemExit(f"cdk synth of {groups} groups wrote {stacks} stacks, not {groups + 1}")
    return elapsed


def main() -> int:
    print(f"cdk synth wall time, real CLI, best of {RUNS} runs (s)")
    print(f"{'groups':>6} {'stacks':>6} {'best':>7} {'x one':>6}")
    best: dict[int, float] = {}
    for groups in SIZES:
        best[groups] = min(synth_seconds(groups) for _ in range(RUNS))
        ratio = best[groups] / best[SIZES[0]]
        print(f"{groups:>6} {groups + 1:>6} {best[groups]:>7.1f} {ratio:>6.2f}", flush=True)
    ratio = best[SIZES[-1]] / best[SIZES[0]]
    within = ratio <= MAX_RATIO
    verdict = "within" if within else "OVER"
    print(f"{SIZES[-1]} groups take {ratio:.2f}x one group's time: {verdict} {MAX_RATIO:.0f}x")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
