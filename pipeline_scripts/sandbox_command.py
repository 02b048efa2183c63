"""``greenlight sandbox``: the approval-to-deploy story on a local emulator.

    greenlight sandbox                      the whole story, then the audit history
    greenlight sandbox --list               the scenarios
    greenlight sandbox --scenario NAME      one scenario (repeatable; --all for every one)
    greenlight sandbox --json               results as JSON
    greenlight sandbox serve [--port 4566]  keep the emulator running for boto3 clients
    greenlight sandbox approve-stage        approve a waiting manual approval (serve mode)

The sandbox runs the synthesized app in ``--cdk-out`` (``make synth`` writes it).

The parser lives in the CLI core, so that ``greenlight sandbox --help`` works on a plain
install; running a scenario or a server imports the sandbox (:mod:`pipeline_scripts.sandbox`,
moto and the rest of the ``sandbox`` extra), and says how to install it when it is missing.
``approve-stage`` only calls CodePipeline, and needs nothing more than boto3.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal

import boto3

from pipeline_scripts.errors import EXIT_OK, UsageError

DEFAULT_PORT = 4566
#: How a user gets what the sandbox needs; quoted when it is missing.
SANDBOX_INSTALL_HINT: Final = "pip install 'greenlight[sandbox]'"
#: The top-level packages of the ``sandbox`` extra that the sandbox imports.
SANDBOX_PACKAGES: Final = frozenset(
    {"moto", "werkzeug", "policy_sentry", "regex", "aws_cdk", "constructs", "cdk_nag"}
)


class SandboxNotInstalled(UsageError):
    """The sandbox was asked for, but a package of the ``sandbox`` extra is missing."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"the sandbox needs {missing}, which is not installed: install the sandbox "
            f"with {SANDBOX_INSTALL_HINT}"
        )


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


def _sandbox_cli() -> ModuleType:
    """The sandbox's runner, or SandboxNotInstalled naming the package that is missing."""
    try:
        from pipeline_scripts.sandbox import cli  # noqa: PLC0415 - needs the sandbox extra
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".", maxsplit=1)[0]
        if missing not in SANDBOX_PACKAGES:
            raise
        raise SandboxNotInstalled(missing) from None
    return cli


def _run(args: argparse.Namespace) -> int:
    code: int = _sandbox_cli().run(args)
    return code


def _serve(args: argparse.Namespace) -> int:
    code: int = _sandbox_cli().serve(args)
    return code


def _approve_stage(args: argparse.Namespace) -> int:
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
