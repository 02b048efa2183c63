"""``greenlight`` on a plain install: every ``--help`` works without moto, the CDK or the
SageMaker SDK, and the sandbox says how to install what it needs.

Each check runs in a fresh interpreter whose import system refuses those packages, as an
install without the extras would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from pipeline_scripts.errors import EXIT_OK, EXIT_USAGE
from pipeline_scripts.sandbox_command import SANDBOX_INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ("moto", "aws_cdk", "sagemaker")

#: Runs in the child: hides HIDDEN, then runs the code that follows it.
_PRELUDE = textwrap.dedent(
    """
    import importlib.abc, io, json, sys
    from contextlib import redirect_stderr, redirect_stdout

    HIDDEN = set(sys.argv[1].split(","))

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())

    from pipeline_scripts.cli import build_parser, main

    def run(argv):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit:
                code = exit.code
        return {"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()}
    """
)

_EVERY_HELP = textwrap.dedent(
    """
    import argparse

    def commands(parser, prefix):
        yield prefix
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from commands(sub, [*prefix, name])

    results = [run([*argv, "--help"]) for argv in commands(build_parser(), [])]
    results.append({"loaded": sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN)})
    print(json.dumps(results))
    """
)


def _child(code: str) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lambdas")])}
    completed = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code, ",".join(HIDDEN)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def test_every_help_works_without_moto_the_cdk_or_the_sagemaker_sdk() -> None:
    # GIVEN an interpreter in which moto, aws_cdk and sagemaker cannot be imported
    # WHEN `greenlight --help` and every subcommand's `--help` run in it
    *results, loaded = _child(_EVERY_HELP)

    # THEN each prints its usage and exits 0, and none of them was imported
    commands = {" ".join(r["argv"][:-1]) for r in results}
    assert {"", "approve", "reject", "register", "status", "history", "rollback"} <= commands
    assert {"redeploy", "sandbox", "sandbox serve", "sandbox approve-stage"} <= commands
    for result in results:
        assert (result["code"], result["err"]) == (EXIT_OK, ""), result
        assert result["out"].startswith("usage: greenlight"), result
    assert loaded == {"loaded": []}


def test_the_sandbox_without_its_extra_says_how_to_install_it() -> None:
    # GIVEN an interpreter in which moto cannot be imported
    # WHEN the sandbox is asked to run
    (result,) = _child('print(json.dumps([run(["sandbox", "--list"])]))')

    # THEN one line names the missing package and the install command, with exit code 2
    assert (result["code"], result["out"]) == (EXIT_USAGE, "")
    assert result["err"] == (
        "greenlight: the sandbox needs moto, which is not installed: install the sandbox "
        f"with {SANDBOX_INSTALL_HINT}\n"
    )
