"""End to end: the recorder's write-back makes SageMaker emit more events, and none of
them starts another deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e


def test_the_write_back_is_seen_by_the_trigger_and_starts_nothing(example_out: Path) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="write-back")
        # GIVEN a version approved once
        version = story.register("house prices")
        story.approve(version)
        emitted_before = len(sandbox.registry.emitted)

        # WHEN it goes through staging and production, the recorder writing back each stage
        story.settle(approve_stages=True)

        # THEN the registry holds the write-back of the last stage ...
        described = story.sandbox.client("sagemaker").describe_model_package(
            ModelPackageName=version.arn
        )
        assert described["ModelLifeCycle"]["Stage"] == "production"
        assert described["ModelLifeCycle"]["StageStatus"] == "Deployed"
        metadata = described["CustomerMetadataProperties"]
        assert {"greenlight:staging:execution", "greenlight:production:execution"} <= set(metadata)
        # ... each write-back made SageMaker emit an Approved event again ...
        write_backs = [
            event
            for event in list(sandbox.registry.emitted.values())[emitted_before:]
            if event["detail"]["ModelApprovalStatus"] == "Approved"
        ]
        assert len(write_backs) >= 2
        # ... the trigger saw every one of them, and only the approval started anything
        outcomes = [record["outcome"] for record in story.outcomes()]
        assert outcomes.count("started") == 1
        assert outcomes.count("skipped-duplicate") == len(write_backs)
        assert len(story.started_executions()) == 1
