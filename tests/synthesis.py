"""Synthesizing the app for the test suites: each configuration once per session.

The infrastructure suite asserts on the templates; the e2e suite runs them in the
sandbox. Both share these session fixtures, so each xdist worker synthesizes a
configuration at most once, when its first test needs it. (Pinning both suites to one
worker would synthesize each configuration once per run, but leave that worker with
most of the suite's time: two workers sharing the tests finish sooner.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from pipeline_scripts.sandbox.scenario_accounts import place_stages_in_their_own_accounts
from shared.config import CONTEXT_KEY, GreenlightConfig, load_config, parse_config
from stacks.app import GreenlightApp, add_greenlight
from stacks.greenlight_stack import STACK_NAME, GreenlightStack
from stacks.shared_refs import export_name
from tests.fleet import fleet_context

REPO = Path(__file__).resolve().parents[1]

#: Gates on, two groups, a LINEAR rollout, a shared registry, a configured role, and
#: model data encrypted with a customer managed key.
GATED_CONTEXT: dict[str, Any] = {
    "notificationEmails": ["ml-platform@example.com", "risk@example.com"],
    "modelGroups": [
        {
            "name": "fraud-detector",
            "description": "Card fraud scores",
            "shareWithAccounts": ["111122223333"],
            "modelDataBuckets": ["fraud-model-artifacts"],
            "modelDataKmsKeyArns": [
                "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
            ],
            "keepEndpointConfigs": 5,
            "gates": {"requiredReports": ["ModelQuality", "Bias"], "separationOfDuties": True},
            "stages": [
                {
                    "name": "staging",
                    "endpointName": "fraud-staging",
                    "instanceType": "ml.c5.large",
                    "instanceCount": 1,
                    "rollout": {"type": "ALL_AT_ONCE"},
                    "alarms": {"errorRate5xx": 0.02, "modelLatencyMs": 120},
                    "bakeMinutes": 2,
                    "smokeTest": {"payload": "0.1,0.2,0.3", "latencyBudgetMs": 300},
                },
                {
                    "name": "production",
                    "endpointName": "fraud-production",
                    "instanceType": "ml.c5.xlarge",
                    "instanceCount": 5,
                    "rollout": {
                        "type": "LINEAR",
                        "linearStepPercent": 20,
                        "waitSeconds": 120,
                        "terminationWaitSeconds": 60,
                        "maximumExecutionTimeoutSeconds": 1800,
                    },
                    "alarms": {
                        "errorRate5xx": 0.01,
                        "modelLatencyMs": 80.5,
                        "errorRate4xx": 0.2,
                        "evaluationPeriods": 3,
                        "datapointsToAlarm": 3,
                    },
                    "bakeMinutes": 30,
                    "smokeTest": {"payload": "0.9,0.8,0.7"},
                },
            ],
        },
        {
            "name": "churn-predictor",
            "description": "Subscriber churn",
            "modelExecutionRoleArn": (
                "arn:aws:iam::123456789012:role/greenlight/existing-sagemaker-role"
            ),
            "retainEndpointsOnDestroy": True,
            "stages": [
                {
                    "name": "live",
                    "endpointName": "churn-live",
                    "instanceType": "ml.m5.large",
                    "instanceCount": 2,
                    "rollout": {"type": "CANARY", "canaryPercent": 50, "waitSeconds": 60},
                    "alarms": {"errorRate5xx": 0.05, "modelLatencyMs": 400},
                    "bakeMinutes": 0,
                    "smokeTest": {"payload": "1,0,1"},
                },
            ],
        },
    ],
}


@dataclass(frozen=True)
class StackView:
    """One synthesized stack's template, with the lookups the tests share."""

    name: str
    template: Template

    @property
    def template_json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def role_statements(self, function_id: str) -> list[dict[str, Any]]:
        """Every policy statement attached to the role of the function ``function_id``."""
        role = self.template_json["Resources"][function_id]["Properties"]["Role"]
        return self.statements_of_role(role["Fn::GetAtt"][0])

    def statements_of_role(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement of ``role_id``: its inline policies and the policies attached."""
        role = self.template_json["Resources"][role_id]["Properties"]
        inline = [
            statement
            for policy in role.get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        return inline + [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


@dataclass(frozen=True)
class Synthesized:
    """The app for one configuration: the shared stack (``template`` and the lookups on
    it) and one stack per group (``group(name)``)."""

    config: GreenlightConfig
    app: App
    stacks: GreenlightApp
    shared: StackView
    groups: dict[str, StackView]
    outdir: Path

    @property
    def stack(self) -> GreenlightStack:
        return self.stacks.shared

    @property
    def template(self) -> Template:
        return self.shared.template

    @property
    def template_json(self) -> dict[str, Any]:
        return self.shared.template_json

    def group(self, name: str) -> StackView:
        return self.groups[name]

    def every_stack(self) -> list[StackView]:
        return [self.shared, *self.groups.values()]

    def assert_encrypted_tls_only_queue(self, queue_id: str) -> None:
        """The SQS queue ``queue_id`` is encrypted and its policy denies non-TLS access."""
        queue = self.template_json["Resources"][queue_id]
        assert queue["Type"] == "AWS::SQS::Queue"
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        self.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )

    def exported_id(self, field_name: str) -> str:
        """The logical id of the shared resource whose value the export of the
        ``SharedRefs`` field ``field_name`` holds (``Fn::GetAtt`` of it)."""
        (logical_id,) = [
            output["Value"]["Fn::GetAtt"][0]
            for output in self.template_json["Outputs"].values()
            if output.get("Export", {}).get("Name") == export_name(field_name)
        ]
        return str(logical_id)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The shared stack's resources of ``resource_type``."""
        return self.shared.resources(resource_type)

    def greenlight_functions(self) -> dict[str, dict[str, Any]]:
        """The functions built from lambdas/ (not CDK's custom resource framework)."""
        return {
            logical_id: function
            for logical_id, function in self.resources("AWS::Lambda::Function").items()
            if function["Properties"]["Handler"].endswith(".handler.handler")
        }

    def role_statements(self, function_id: str) -> list[dict[str, Any]]:
        return self.shared.role_statements(function_id)

    def function_id(self, handler: str) -> str:
        """The logical id of the shared function with ``handler``."""
        found = [
            logical_id
            for logical_id, function in self.greenlight_functions().items()
            if function["Properties"]["Handler"] == handler
        ]
        assert len(found) == 1, f"expected one {handler} function, found {found}"
        return found[0]


def _feature_flags() -> dict[str, Any]:
    """cdk.json's context without the greenlight key: the flags ``cdk synth`` applies."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return {key: value for key, value in context.items() if key != CONTEXT_KEY}


def synthesize(config: GreenlightConfig, outdir: Path) -> Synthesized:
    """The app for ``config``, synthesized into ``outdir`` as ``cdk synth`` would."""
    app = App(outdir=str(outdir), context=_feature_flags())
    stacks = add_greenlight(app, config)
    app.synth()  # cdk-nag runs here: an unacknowledged finding fails synthesis
    return Synthesized(
        config=config,
        app=app,
        stacks=stacks,
        shared=StackView(STACK_NAME, Template.from_stack(stacks.shared)),
        groups={
            name: StackView(stack.stack_name, Template.from_stack(stack))
            for name, stack in stacks.groups.items()
        },
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app as cdk.json configures it."""
    return synthesize(load_config(REPO / "cdk.json"), tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="session")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Two groups with gates on and a LINEAR rollout."""
    return synthesize(parse_config(GATED_CONTEXT), tmp_path_factory.mktemp("gated"))


@pytest.fixture(scope="session")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example with staging and production each in an account of its own, as the
    sandbox's multi-account scenario runs it."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    settings = json.loads(json.dumps(context[CONTEXT_KEY]))
    place_stages_in_their_own_accounts(settings)
    return synthesize(parse_config(settings), tmp_path_factory.mktemp("accounts"))


@pytest.fixture(params=["example", "gated"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    """Each app configuration in turn."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Synthesized]:
    """``fleet(n)``: the app for ``n`` groups shaped like the example's, each size
    synthesized once per session."""
    synthesized: dict[int, Synthesized] = {}

    def of_size(count: int) -> Synthesized:
        if count not in synthesized:
            config = parse_config(fleet_context(count))
            synthesized[count] = synthesize(config, tmp_path_factory.mktemp(f"fleet-{count}"))
        return synthesized[count]

    return of_size
