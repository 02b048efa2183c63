"""The sandbox suites run the app as synthesized for the example and the gated configs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from tests.synthesis import Synthesized

pytestmark = pytest.mark.e2e

RunScenario = Callable[[str, Path], StoryResult]


@pytest.fixture
def run_scenario() -> RunScenario:
    """Play one scenario on a fresh sandbox of the cloud assembly at ``cdk_out``."""

    def run(name: str, cdk_out: Path) -> StoryResult:
        chosen = scenario(name)
        lines: list[str] = []
        with Sandbox(load_app(cdk_out)) as sandbox:
            story = Story(sandbox, name=name, say=lines.append)
            sandbox.log = story.say
            chosen.run(story)
            return story.finish()

    return run


@pytest.fixture(scope="session")
def example_out(example: Synthesized) -> Path:
    """The example app's cloud assembly."""
    return example.outdir


@pytest.fixture(scope="session")
def gated_out(gated: Synthesized) -> Path:
    """The gated app's cloud assembly (gates on, two groups)."""
    return gated.outdir
