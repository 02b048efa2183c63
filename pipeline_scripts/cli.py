"""The ``greenlight`` command line.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``; the parser
it adds sets ``func`` (``args -> int``). Errors become one line on stderr and their
documented exit code (``pipeline_scripts.errors``), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from pipeline_scripts.errors import EXIT_OK, error_line

#: Modules that contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "pipeline_scripts.approval",
    "pipeline_scripts.register.command",
    "pipeline_scripts.status",
    "pipeline_scripts.history.command",
    "pipeline_scripts.rollback",
    "pipeline_scripts.sandbox_command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenlight",
        description="Safe, audited deployments from SageMaker Model Registry approvals.",
    )
    parser.add_argument("--version", action="version", version=f"greenlight {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        code: int = args.func(args)
    except Exception as raised:
        error = error_line(raised)
        if error is None:
            raise
        print(f"greenlight: {error}", file=sys.stderr)
        return error.exit_code
    return code


def _version() -> str:
    try:
        return version("greenlight")
    except PackageNotFoundError:
        return "unknown (not installed)"


if __name__ == "__main__":
    sys.exit(main())
