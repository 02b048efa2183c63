"""Lambda time in the sandbox: every invocation of the story runs well within the
``Timeout`` its function is synthesized with (docs/aws-behaviour.md, Lambda)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_scripts.sandbox.runtime import InvocationRecord
from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e

#: "Not near its timeout": at most half of it.
MARGIN = 0.5


def _play(name: str, cdk_out: Path) -> tuple[list[str], list[InvocationRecord]]:
    with Sandbox(load_app(cdk_out)) as sandbox:
        story = Story(sandbox, name=name, say=lambda _line: None)
        sandbox.log = story.say
        scenario(name).run(story)
        result = story.finish()
        failed = [e.description for e in result.expectations if not e.passed]
        return failed, list(sandbox.runtime.invocations)


@pytest.mark.parametrize("name", ["happy-path", "bake-alarm-rollback"])
def test_every_invocation_of_the_scenario_ends_well_within_its_timeout(
    name: str, example_out: Path
) -> None:
    # GIVEN the example app, each function held to its synthesized Timeout
    # WHEN the scenario plays
    failed, invocations = _play(name, example_out)

    # THEN no invocation was killed or came near its timeout, and the story held
    functions = {record.function for record in invocations}
    assert any("Bake" in function for function in functions)
    near = [
        f"{r.function}: {r.outcome} after {r.seconds:.1f} s of {r.timeout_seconds} s"
        for r in invocations
        if r.outcome == "timed out" or r.seconds > MARGIN * r.timeout_seconds
    ]
    assert near == []
    assert failed == []
