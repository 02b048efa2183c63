"""End to end: the recorder's write-back makes SageMaker emit more events, and none of
them starts another deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, DATA_SCIENTIST_KEY
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


def _session_arn(sandbox: Sandbox, handler_package: str) -> str:
    """The ARN AWS gives the calls of the function whose handler is in the package:
    its execution role's session, named after the function."""
    (spec,) = [f for f in sandbox.app.functions.values() if f.handler.startswith(handler_package)]
    role = sandbox.app.roles[spec.name]
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role.name}/{spec.name}"


def test_the_registry_and_the_pipeline_name_the_functions_by_their_role_sessions(
    example_out: Path,
) -> None:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="who-wrote")
        # GIVEN a version a reviewer approved, deployed through both stages
        version = story.register("house prices")
        story.approve(version)
        story.settle(approve_stages=True)

        # THEN the execution the trigger started names the trigger's role session
        (execution,) = story.started_executions()
        trigger = _session_arn(sandbox, "approval_trigger.")
        assert execution["trigger"]["triggerDetail"] == trigger
        # AND the version's last change, the recorder's write-back, names the recorder's
        described = sandbox.client("sagemaker").describe_model_package(ModelPackageName=version.arn)
        recorder = _session_arn(sandbox, "recorder.")
        assert described["LastModifiedBy"]["IamIdentity"]["Arn"] == recorder
        # AND the data scientist who registered it is still a person, the IAM user
        assert described["CreatedBy"]["IamIdentity"]["Arn"].endswith(f":user/{DATA_SCIENTIST_KEY}")
