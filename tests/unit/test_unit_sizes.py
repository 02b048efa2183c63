"""Every unit a newcomer reads stays small enough to hold in mind.

Files in ``lambdas/``, ``stacks/`` and ``pipeline_scripts/`` stay under 400 lines and
functions under 60, unless this module names the exception and why it reads better whole.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("lambdas", "stacks", "pipeline_scripts")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

#: "path" or "path:function" -> why it reads better whole. Empty: no exception today.
EXCEPTIONS: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def _too_long() -> list[str]:
    found = []
    for path in _sources():
        name = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_FILE_LINES:
            found.append(name)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.name}")
    return found


def test_the_units_over_the_limits_are_exactly_the_named_exceptions() -> None:
    # GIVEN every product module
    # WHEN their files and functions are measured
    offenders = _too_long()

    # THEN each one over the limits is a named exception, and each exception still is one
    # (a unit that was split leaves the list)
    assert sorted(offenders) == sorted(EXCEPTIONS)
