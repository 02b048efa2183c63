"""What ``greenlight sandbox`` runs: the scripted scenarios (then the audit history) and
the server, on a local emulator. The parser, and what each form of the command does, is
in :mod:`pipeline_scripts.sandbox_command`, in the CLI core.

The sandbox runs the synthesized app in ``--cdk-out`` (``make synth`` writes it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline_scripts.errors import EXIT_FAILURE, EXIT_OK, NotFound, UsageError
from pipeline_scripts.progress import Progress
from pipeline_scripts.sandbox.app_spec import TemplateError
from pipeline_scripts.sandbox.scenario_accounts import place_stages_in_their_own_accounts
from pipeline_scripts.sandbox.scenarios import SCENARIOS, Scenario, scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

# --- scripted scenarios --------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if args.list:
        if args.json:
            listed = [
                {
                    "name": s.name,
                    "summary": s.summary,
                    "needsGates": s.needs_gates,
                    "needsAccounts": s.needs_accounts,
                }
                for s in SCENARIOS
            ]
            print(json.dumps(listed, indent=2))
            return EXIT_OK
        for known in SCENARIOS:
            gated = " (synthesizes a gates-on variant)" if known.needs_gates else ""
            placed = " (synthesizes a multi-account variant)" if known.needs_accounts else ""
            print(f"{known.name:28} {known.summary}{gated}{placed}")
        return EXIT_OK
    names = [s.name for s in SCENARIOS] if args.all else (args.scenario or ["story"])
    try:
        chosen = [scenario(name) for name in names]
    except KeyError as error:
        raise UsageError(str(error.args[0])) from None
    say: Callable[[str], None] = (lambda _line: None) if args.json else print
    progress = Progress([s.name for s in chosen], what="scenario")
    results = []
    for chosen_scenario in chosen:
        progress.begin(chosen_scenario.name)
        result = _run_scenario(
            chosen_scenario, args.cdk_out, args.config, say, history=not args.json
        )
        progress.end(chosen_scenario.name, "passed" if result.passed else "FAILED")
        results.append(result)
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    else:
        for result in results:
            verdict = "passed" if result.passed else "FAILED"
            print(
                f"{result.name}: {verdict} — {len(result.expectations)} expectation(s), "
                f"{result.virtual_seconds / 60:.0f} virtual minutes in "
                f"{result.wall_seconds:.2f} s"
            )
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILURE


def _run_scenario(
    chosen: Scenario,
    cdk_out: Path,
    config: Path,
    say: Callable[[str], None],
    *,
    history: bool,
) -> StoryResult:
    variant = variant_of(chosen)
    if variant is not None:
        what, change = variant
        with tempfile.TemporaryDirectory(prefix="greenlight-variant-") as outdir:
            say(f"== {chosen.name}: synthesizing {config} {what}")
            synthesize_variant(config, Path(outdir), change)
            return _play(chosen, Path(outdir), say, history=history)
    return _play(chosen, cdk_out, say, history=history)


def _play(
    chosen: Scenario, cdk_out: Path, say: Callable[[str], None], *, history: bool
) -> StoryResult:
    try:
        app = load_app(cdk_out)
    except TemplateError as error:
        raise NotFound(str(error)) from None
    say(f"== {chosen.name}: {chosen.summary}")
    with Sandbox(app) as sandbox:
        story = Story(sandbox, name=chosen.name, say=say)
        sandbox.log = story.say
        chosen.run(story)
        result = story.finish()
        if history:
            _print_history(sandbox, story, say)
    return result


def _print_history(sandbox: Sandbox, story: Story, say: Callable[[str], None]) -> None:
    """The audit history, as ``greenlight history`` prints it."""
    try:
        from pipeline_scripts.cli import main  # noqa: PLC0415 - the CLI imports this module
    except ImportError:  # pragma: no cover - the CLI is part of the package
        return
    table = next(iter(sandbox.app.tables))
    say("")
    say(f"== audit history of {story.group} (greenlight history {story.group})")
    sys.stdout.flush()
    stages = ",".join(stage.name for stage in story.stages)
    main(["history", story.group, "--ledger-table", table, "--stages", stages])


def _gates_on(settings: dict[str, Any]) -> None:
    settings["modelGroups"][0]["gates"] = {
        "requiredReports": ["ModelQuality", "Bias"],
        "separationOfDuties": True,
    }


def variant_of(chosen: Scenario) -> tuple[str, Callable[[dict[str, Any]], None]] | None:
    """How a scenario's app differs from the configured one (what, and the change), or
    None when it runs on the synthesized app as it is."""
    if chosen.needs_gates:
        return "with the first group's gates on", _gates_on
    if chosen.needs_accounts:
        return "with staging and production elsewhere", place_stages_in_their_own_accounts
    return None


def synthesize_variant(
    config_path: Path, outdir: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    """The app for ``config_path`` with its ``greenlight`` context changed by ``change``."""
    from shared.config import CONTEXT_KEY, parse_config  # noqa: PLC0415
    from stacks.app import build_app  # noqa: PLC0415 - aws_cdk loads only when needed

    try:
        context: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))["context"]
    except (OSError, KeyError, json.JSONDecodeError) as error:
        raise UsageError(f"{config_path}: cannot read the app's context ({error})") from None
    settings = json.loads(json.dumps(context[CONTEXT_KEY]))
    change(settings)
    flags = {key: value for key, value in context.items() if key != CONTEXT_KEY}
    build_app(parse_config(settings), outdir=str(outdir), context=flags).synth()


# --- serve mode ------------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    from pipeline_scripts.sandbox.server import serve  # noqa: PLC0415 - needs moto's server

    try:
        app = load_app(args.cdk_out)
    except TemplateError as error:
        raise NotFound(str(error)) from None
    return serve(app, port=args.port)
