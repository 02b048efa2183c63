"""How long each Lambda handler takes to import in a fresh interpreter: its cold start's
share that our code and its libraries (Powertools, boto3) decide.

Each handler module is imported in a new ``python`` process with only ``lambdas/`` on
the path, as the Lambda runtime loads it from the asset, several times. The fastest run
is held to the budget (the others measure what else the machine was doing too); the
median is shown beside it. Milliseconds.

Run: ``python -m tests.bench.cold_import_bench`` (``make bench``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Final

LAMBDAS: Final = Path(__file__).resolve().parents[2] / "lambdas"
HANDLERS: Final = (
    "approval_trigger.handler",
    "deploy.handler",
    "smoke_test.handler",
    "bake.handler",
    "recorder.handler",
    "endpoint_cleanup.handler",
)
BUDGET_MS: Final = 300.0
RUNS: Final = 5
_PROBE: Final = (
    "import time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - started) * 1000)\n"
)


def cold_import_ms(module: str) -> float:
    """One import of ``module`` in a fresh interpreter, in milliseconds."""
    environment = {**os.environ, "PYTHONPATH": str(LAMBDAS), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=LAMBDAS,
    )
    return float(done.stdout.strip())


def main() -> int:
    print(f"handler cold import, fresh interpreter, {RUNS} runs (ms; budget {BUDGET_MS:.0f})")
    print(f"{'handler':28} {'best':>7} {'median':>7}")
    failed = False
    for module in HANDLERS:
        runs = [cold_import_ms(module) for _ in range(RUNS)]
        best, median = min(runs), statistics.median(runs)
        over = best > BUDGET_MS
        failed |= over
        verdict = "  OVER BUDGET" if over else ""
        print(f"{module:28} {best:>7.0f} {median:>7.0f}{verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
