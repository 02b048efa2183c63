"""Every function runs under its synthesized role: take one statement out of a role's
policy and the scenario that needs it fails with AccessDenied naming the action."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.emulation.iam import function_access_key
from pipeline_scripts.sandbox.app_spec import AppSpec
from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e


def _without_statement(app: AppSpec, handler: str, action: str) -> AppSpec:
    """The app with the statement granting ``action`` taken out of the role of the
    function with ``handler`` (the template is left alone: only the loaded copy)."""
    (function,) = [f for f in app.functions.values() if f.handler == handler]
    role = app.roles[function.name]
    kept = tuple(s for s in role.statements if action not in _actions(s))
    assert len(kept) == len(role.statements) - 1, f"one statement of {role.name} grants {action}"
    roles = {**app.roles, function.name: dataclasses.replace(role, statements=kept)}
    return dataclasses.replace(app, roles=roles)


def _actions(statement: object) -> list[str]:
    actions = statement.get("Action", []) if isinstance(statement, dict) else []
    return actions if isinstance(actions, list) else [actions]


def _play(app: AppSpec, name: str) -> tuple[StoryResult, list[str]]:
    lines: list[str] = []
    with Sandbox(app) as sandbox:
        story = Story(sandbox, name=name, say=lines.append)
        sandbox.log = story.say
        scenario(name).run(story)
        return story.finish(), lines


@pytest.mark.parametrize(
    ("handler", "removed", "denied", "scenario_name"),
    [
        # the trigger cannot start the pipeline
        (
            "approval_trigger.handler.handler",
            "codepipeline:StartPipelineExecution",
            "codepipeline:",
            "happy-path",
        ),
        # the trigger cannot roll a stage back when a live version is rejected
        (
            "approval_trigger.handler.handler",
            "codepipeline:RollbackStage",
            "codepipeline:RollbackStage",
            "reject-live-version",
        ),
        # Deploy cannot create the model, config and endpoint (one tag-conditioned grant)
        (
            "deploy.handler.handler",
            "sagemaker:CreateEndpoint",
            "sagemaker:Create",
            "happy-path",
        ),
        # the trigger cannot read the group's registry entry
        (
            "approval_trigger.handler.handler",
            "ssm:GetParameter",
            "ssm:GetParameter",
            "happy-path",
        ),
        # Deploy cannot pass the model execution role to SageMaker in CreateModel
        ("deploy.handler.handler", "iam:PassRole", "iam:PassRole", "happy-path"),
        # the smoke test cannot invoke the endpoint
        (
            "smoke_test.handler.handler",
            "sagemaker:InvokeEndpoint",
            "sagemaker:InvokeEndpoint",
            "happy-path",
        ),
        # Bake cannot read the stage's alarms
        (
            "bake.handler.handler",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:DescribeAlarms",
            "happy-path",
        ),
        # the recorder cannot write the stage outcome back to the registry
        (
            "recorder.handler.handler",
            "sagemaker:UpdateModelPackage",
            "sagemaker:UpdateModelPackage",
            "happy-path",
        ),
    ],
    ids=lambda value: value if "." not in value or ":" in value else value.split(".")[0],
)
def test_removing_one_statement_from_a_role_makes_its_scenario_fail_with_access_denied(
    example_out: Path, handler: str, removed: str, denied: str, scenario_name: str
) -> None:
    # GIVEN the example app, whose scenario passes with every role as synthesized,
    # with the statement granting one action taken out of one function's role
    app = _without_statement(load_app(example_out), handler, removed)

    # WHEN the scenario that needs it plays
    result, lines = _play(app, scenario_name)

    # THEN an expectation of the scenario fails
    assert any(not expectation.passed for expectation in result.expectations)
    # AND the sandbox said why: AccessDenied for an action of that statement
    assert any(f"is not authorized to perform: {denied}" in line for line in lines), lines


# --- shared roles, scoped to what Greenlight made ---------------------------------------


def _function_key(app: AppSpec, handler: str) -> str:
    (function,) = [f for f in app.functions.values() if f.handler == handler]
    return function_access_key(function.name)


def _denied(call: Callable[[], object], action: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException", error
    assert f"is not authorized to perform: {action}" in error["Message"], error


def test_shared_functions_are_refused_on_an_endpoint_greenlight_did_not_create(
    example_out: Path,
) -> None:
    app = load_app(example_out)
    with Sandbox(app) as sandbox:
        # GIVEN a version live in staging (Deploy made and tagged its endpoint), and
        # another team's endpoint in the same account, without Greenlight's tag
        story = Story(sandbox, name="scoping")
        story.approve(story.register("a good model"))
        story.settle()
        operator = sandbox.client("sagemaker")
        live = operator.describe_endpoint(EndpointName="house-price-staging")
        operator.create_endpoint(
            EndpointName="team-b-endpoint", EndpointConfigName=live["EndpointConfigName"]
        )
        deploy = sandbox.client(
            "sagemaker", access_key=_function_key(app, "deploy.handler.handler")
        )
        smoke = sandbox.client(
            "sagemaker-runtime", access_key=_function_key(app, "smoke_test.handler.handler")
        )
        cleanup = sandbox.client(
            "sagemaker", access_key=_function_key(app, "endpoint_cleanup.handler.handler")
        )

        # WHEN the shared functions act on it THEN IAM refuses each change
        _denied(
            lambda: deploy.delete_endpoint(EndpointName="team-b-endpoint"),
            "sagemaker:DeleteEndpoint",
        )
        _denied(
            lambda: deploy.update_endpoint(
                EndpointName="team-b-endpoint", EndpointConfigName=live["EndpointConfigName"]
            ),
            "sagemaker:UpdateEndpoint",
        )
        _denied(
            lambda: smoke.invoke_endpoint(EndpointName="team-b-endpoint", Body=b"1,2,3"),
            "sagemaker:InvokeEndpoint",
        )
        _denied(
            lambda: cleanup.delete_endpoint(EndpointName="team-b-endpoint"),
            "sagemaker:DeleteEndpoint",
        )
        # AND the same calls on Greenlight's own endpoint are allowed (probe and invoke)
        assert deploy.describe_endpoint(EndpointName="team-b-endpoint")["EndpointName"]
        smoke.invoke_endpoint(EndpointName="house-price-staging", Body=b"1,2,3")
        # AND the other team's endpoint is untouched
        assert operator.describe_endpoint(EndpointName="team-b-endpoint")["EndpointStatus"]
