"""How long the sandbox takes: the whole story and each scenario, in wall-clock seconds
(and the virtual minutes they cover), on the synthesized app; then the reliability
table of the fault drills (target: 0 lost events and 0 half deployments in every drill).

Run: ``python -m tests.bench.sandbox_bench --cdk-out cdk.out`` (``make bench``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipeline_scripts.progress import Progress
from pipeline_scripts.sandbox.cli import synthesize_variant, variant_of
from pipeline_scripts.sandbox.scenarios import SCENARIOS, Scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

#: The issue's budget for the whole story, checked here and not in the tests.
STORY_BUDGET_SECONDS = 15.0


def play(chosen: Scenario, cdk_out: Path) -> tuple[StoryResult, float]:
    """The scenario's result and the wall time of the whole run, sandbox start included."""
    started = time.perf_counter()
    with Sandbox(load_app(cdk_out)) as sandbox:
        story = Story(sandbox, name=chosen.name)
        sandbox.log = story.say
        chosen.run(story)
        result = story.finish()
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"))
    parser.add_argument("--config", type=Path, default=Path("cdk.json"))
    args = parser.parse_args(argv)
    print(f"greenlight sandbox scenarios on {args.cdk_out} (wall seconds, sandbox start included)")
    print(f"{'scenario':34} {'result':>7} {'wall s':>7} {'virtual min':>12}")
    failed = False
    drills: list[tuple[Scenario, StoryResult]] = []
    progress = Progress([s.name for s in SCENARIOS], what="scenario")  # on stderr
    with tempfile.TemporaryDirectory(prefix="greenlight-bench-variant-") as variants:
        for chosen in SCENARIOS:
            progress.begin(chosen.name)
            cdk_out = args.cdk_out
            variant = variant_of(chosen)
            if variant is not None:
                cdk_out = Path(variants) / chosen.name
                synthesize_variant(args.config, cdk_out, variant[1])
            result, seconds = play(chosen, cdk_out)
            if chosen.drill:
                drills.append((chosen, result))
            failed |= not result.passed
            verdict = "passed" if result.passed else "FAILED"
            progress.end(chosen.name, verdict)
            print(
                f"{chosen.name:34} {verdict:>7} {seconds:>7.2f} "
                f"{result.virtual_seconds / 60:>12.0f}"
            )
            if chosen.name == "story" and seconds > STORY_BUDGET_SECONDS:
                print(f"  over budget: the story must take under {STORY_BUDGET_SECONDS:.0f} s")
                failed = True
    print()
    failed |= reliability_table(drills)
    return 1 if failed else 0


_COLUMNS = (
    ("faults", "faults_injected"),
    ("delivered", "events_delivered"),
    ("started", "executions_started"),
    ("half", "half_deployments"),
    ("lost", "lost_events"),
    ("dlq", "dead_letters"),
)


def reliability_table(drills: list[tuple[Scenario, StoryResult]]) -> bool:
    """Print the drills' reliability table; True when a drill lost an event or left a
    half deployment (the target is 0 and 0)."""
    print("reliability: fault drills (outcomes/event: events with one outcome / events)")
    header = " ".join(f"{title:>9}" for title, _ in _COLUMNS)
    print(f"{'drill':34} {'result':>7} {header} {'outcomes/event':>15}")
    totals = dict.fromkeys((key for _, key in _COLUMNS), 0)
    outcomes = events = 0
    for chosen, result in drills:
        tally = result.tally or {}
        for _, key in _COLUMNS:
            totals[key] += tally.get(key, 0)
        outcomes += tally.get("events_with_outcome", 0)
        events += tally.get("distinct_events", 0)
        verdict = "passed" if result.passed else "FAILED"
        cells = " ".join(f"{tally.get(key, 0):>9}" for _, key in _COLUMNS)
        ratio = f"{tally.get('events_with_outcome', 0)}/{tally.get('distinct_events', 0)}"
        print(f"{chosen.name:34} {verdict:>7} {cells} {ratio:>15}")
    cells = " ".join(f"{totals[key]:>9}" for _, key in _COLUMNS)
    print(f"{f'{len(drills)} drills':34} {'':>7} {cells} {f'{outcomes}/{events}':>15}")
    return totals["lost_events"] > 0 or totals["half_deployments"] > 0


if __name__ == "__main__":
    raise SystemExit(main())
