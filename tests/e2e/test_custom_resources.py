"""The stack's custom resource (the endpoint cleanup) runs as CloudFormation runs it:
Create with the stack, Delete on ``cdk destroy``, under its function's timeout and role."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e

CLEANUP = "EndpointCleanupFunction"


def _cleanup_invocations(sandbox: Sandbox) -> list[str]:
    return [i.outcome for i in sandbox.runtime.invocations if CLEANUP in i.function]


def test_the_stack_creates_its_custom_resource_through_the_cleanup_function(
    example_out: Path,
) -> None:
    # GIVEN / WHEN the example app is provisioned
    with Sandbox(load_app(example_out)) as sandbox:
        # THEN the custom resource was created by one timed invocation of its function,
        # which named it
        assert [spec.resource_type for spec in sandbox.app.custom_resources] == [
            "Custom::GreenlightEndpointCleanup"
        ]
        assert _cleanup_invocations(sandbox) == ["returned"]
        (physical_id,) = sandbox.custom_resources.physical_ids.values()
        assert physical_id.startswith("greenlight-endpoint-cleanup")


def test_destroy_deletes_the_endpoints_the_pipeline_created(example_out: Path) -> None:
    # GIVEN the happy path deployed to staging and production
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="teardown")
        scenario("happy-path").run(story)
        assert story.finish().passed
        sagemaker = sandbox.client("sagemaker")
        live = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
        assert live == {"house-price-staging", "house-price-production"}

        # WHEN the stack is destroyed
        sandbox.destroy()

        # THEN the cleanup function ran Delete within its timeout, under its own role,
        # and no endpoint is left running
        assert _cleanup_invocations(sandbox) == ["returned", "returned"]
        assert sagemaker.list_endpoints()["Endpoints"] == []
        assert sandbox.custom_resources.physical_ids == {}


def test_destroy_without_the_cleanup_roles_delete_grant_is_refused(example_out: Path) -> None:
    # GIVEN the app whose cleanup role lost its (tag-conditioned) delete statement
    app = load_app(example_out)
    name = next(n for n in app.roles if CLEANUP in n)
    app = dataclasses.replace(
        app, roles={**app.roles, name: app.roles[name].without("DeleteTagged")}
    )

    with Sandbox(app) as sandbox:
        story = Story(sandbox, name="teardown")
        scenario("happy-path").run(story)

        # WHEN the stack is destroyed
        # THEN the Delete fails with AccessDenied naming the action, as it would on AWS
        with pytest.raises(ClientError, match="sagemaker:DeleteEndpoint"):
            sandbox.destroy()
