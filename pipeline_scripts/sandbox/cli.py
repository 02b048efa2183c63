"""``greenlight sandbox``: the approval-to-deploy story on a local emulator.

    greenlight sandbox                      the whole story, then the audit history
    greenlight sandbox --list               the scenarios
    greenlight sandbox --scenario NAME      one scenario (repeatable; --all for every one)
    greenlight sandbox --json               results as JSON
    greenlight sandbox serve [--port 4566]  keep the emulator running for boto3 clients
    greenlight sandbox approve-stage        approve a waiting manual approval (serve mode)

The sandbox runs the synthesized app in ``--cdk-out`` (``make synth`` writes it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pipeline_scripts.errors import EXIT_FAILURE, EXIT_OK, NotFound, UsageError
from pipeline_scripts.progress import Progress
from pipeline_scripts.sandbox.app_spec import TemplateError
from pipeline_scripts.sandbox.scenario_accounts import place_stages_in_their_own_accounts
from pipeline_scripts.sandbox.scenarios import SCENARIOS, Scenario, scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

DEFAULT_PORT = 4566


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the approval-to-deploy story on a local AWS emulator",
        description=(
            "Run the synthesized app on an in-process AWS emulator (moto plus Greenlight's "
            "emulation of what moto lacks): scripted scenarios, or a server for boto3."
        ),
    )
    _add_cdk_out(parser, default=Path("cdk.out"))
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="run this scenario (repeatable); default: the whole story",
    )
    parser.add_argument("--all", action="store_true", help="run every scenario")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("cdk.json"),
        metavar="PATH",
        help="the app's cdk.json, for scenarios that synthesize a variant (gate-refusal)",
    )
    parser.set_defaults(func=_run)
    actions = parser.add_subparsers(dest="sandbox_command", metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="keep the emulator running on 127.0.0.1 for boto3 clients",
        description=(
            "Serve the sandbox on 127.0.0.1:PORT with the stacks' resources in place. Point "
            "boto3 at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT; approvals flow through "
            "the pipeline within seconds. Ctrl-C stops it."
        ),
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"1-65535 (default: {DEFAULT_PORT})"
    )
    # Given after `serve` as well as before it; the value given last wins.
    _add_cdk_out(serve, default=argparse.SUPPRESS)
    serve.set_defaults(func=_serve)
    approve = actions.add_parser(
        "approve-stage",
        help="approve the manual approvals waiting in a sandbox server's pipelines",
        description=(
            "Give the waiting manual approvals of the pipelines (or of --pipeline) an "
            "Approved result, as a reviewer would in the console. Uses AWS_ENDPOINT_URL."
        ),
    )
    approve.add_argument("--pipeline", help="only this pipeline (default: every pipeline)")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.add_argument("--summary", default="approved from the greenlight CLI")
    approve.set_defaults(func=_approve_stage)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {port}")
    return port


def _add_cdk_out(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--cdk-out",
        type=Path,
        default=default,
        metavar="DIR",
        help="the synthesized cloud assembly (default: cdk.out; `make synth` writes it)",
    )


# --- scripted scenarios --------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
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
    if chosen.needs_gates:
        with tempfile.TemporaryDirectory(prefix="greenlight-gated-") as outdir:
            say(f"== {chosen.name}: synthesizing {config} with the first group's gates on")
            _synthesize_variant(config, Path(outdir), _gates_on)
            return _play(chosen, Path(outdir), say, history=history)
    if chosen.needs_accounts:
        with tempfile.TemporaryDirectory(prefix="greenlight-accounts-") as outdir:
            say(f"== {chosen.name}: synthesizing {config} with staging and production elsewhere")
            _synthesize_variant(config, Path(outdir), place_stages_in_their_own_accounts)
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


def _synthesize_variant(
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


def _serve(args: argparse.Namespace) -> int:
    from pipeline_scripts.sandbox.server import serve  # noqa: PLC0415 - needs moto's server

    try:
        app = load_app(args.cdk_out)
    except TemplateError as error:
        raise NotFound(str(error)) from None
    return serve(app, port=args.port)


def _approve_stage(args: argparse.Namespace) -> int:
    import boto3  # noqa: PLC0415

    codepipeline = boto3.client("codepipeline")
    names = (
        [args.pipeline]
        if args.pipeline
        else [p["name"] for p in codepipeline.list_pipelines().get("pipelines", [])]
    )
    given = 0
    for name in names:
        state = codepipeline.get_pipeline_state(name=name)
        for stage in state["stageStates"]:
            for action in stage["actionStates"]:
                token = action.get("latestExecution", {}).get("token")
                if not token:
                    continue
                status: Literal["Approved", "Rejected"] = "Rejected" if args.reject else "Approved"
                codepipeline.put_approval_result(
                    pipelineName=name,
                    stageName=stage["stageName"],
                    actionName=action["actionName"],
                    result={"summary": args.summary, "status": status},
                    token=token,
                )
                print(f"{name}: {stage['stageName']}.{action['actionName']} {status}")
                given += 1
    if not given:
        print("no manual approval is waiting")
    return EXIT_OK
