"""The ``greenlight`` command line.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``; the parser
it adds sets ``func`` (``args -> int``). Errors derived from ``GreenlightError`` become
one line on stderr and their exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from botocore.exceptions import NoCredentialsError

from pipeline_scripts.errors import EXIT_NO_CREDENTIALS, GreenlightError

#: Modules that contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "pipeline_scripts.review",
    "pipeline_scripts.register",
    "pipeline_scripts.status",
    "pipeline_scripts.history_cli",
    "pipeline_scripts.rollback",
    "pipeline_scripts.sandbox.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenlight",
        description="Safe, audited deployments from SageMaker Model Registry approvals.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except GreenlightError as error:
        print(f"greenlight: {error}", file=sys.stderr)
        return error.exit_code
    except NoCredentialsError:
        print(
            "greenlight: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, "
            "or point AWS_ENDPOINT_URL at a sandbox)",
            file=sys.stderr,
        )
        return EXIT_NO_CREDENTIALS
    return code


if __name__ == "__main__":
    sys.exit(main())
