"""Synthesizing the app for the test suites: each configuration once per session.

The infrastructure suite asserts on the templates; the e2e suite runs them in the
sandbox. Both run on one xdist worker (tests/conftest.py), so they share these
session fixtures and no configuration is synthesized twice in a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from pipeline_scripts.sandbox.scenario_accounts import place_stages_in_their_own_accounts
from shared.config import CONTEXT_KEY, GreenlightConfig, load_config, parse_config
from shared.contract import ENV_GROUP_NAME
from stacks.app import build_app
from stacks.greenlight_stack import STACK_NAME, GreenlightStack

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
            "modelExecutionRoleArn": "arn:aws:iam::123456789012:role/existing-sagemaker-role",
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
class Synthesized:
    config: GreenlightConfig
    app: App
    stack: GreenlightStack
    template: Template
    outdir: Path

    @property
    def template_json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

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

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def greenlight_functions(self) -> dict[str, dict[str, Any]]:
        """The functions built from lambdas/ (not CDK's custom resource framework)."""
        return {
            logical_id: function
            for logical_id, function in self.resources("AWS::Lambda::Function").items()
            if function["Properties"]["Handler"].endswith(".handler.handler")
        }

    def role_statements(self, function_id: str) -> list[dict[str, Any]]:
        """Every policy statement attached to the role of the function ``function_id``."""
        role = self.template_json["Resources"][function_id]["Properties"]["Role"]
        role_id = role["Fn::GetAtt"][0]
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def function_id(self, handler: str, group: str) -> str:
        """The logical id of ``group``'s function with ``handler``."""
        found = [
            logical_id
            for logical_id, function in self.greenlight_functions().items()
            if function["Properties"]["Handler"] == handler
            and function["Properties"]["Environment"]["Variables"].get(ENV_GROUP_NAME) == group
        ]
        assert len(found) == 1, f"expected one {handler} function for {group}, found {found}"
        return found[0]


def _feature_flags() -> dict[str, Any]:
    """cdk.json's context without the greenlight key: the flags ``cdk synth`` applies."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return {key: value for key, value in context.items() if key != CONTEXT_KEY}


def _synthesize(config: GreenlightConfig, outdir: Path) -> Synthesized:
    app = build_app(config, outdir=str(outdir), context=_feature_flags())
    app.synth()  # cdk-nag runs here: an unacknowledged finding fails synthesis
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, GreenlightStack)
    return Synthesized(config, app, stack, Template.from_stack(stack), outdir)


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app as cdk.json configures it."""
    return _synthesize(load_config(REPO / "cdk.json"), tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="session")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Two groups with gates on and a LINEAR rollout."""
    return _synthesize(parse_config(GATED_CONTEXT), tmp_path_factory.mktemp("gated"))


@pytest.fixture(scope="session")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example with staging and production each in an account of its own, as the
    sandbox's multi-account scenario runs it."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    settings = json.loads(json.dumps(context[CONTEXT_KEY]))
    place_stages_in_their_own_accounts(settings)
    return _synthesize(parse_config(settings), tmp_path_factory.mktemp("accounts"))


@pytest.fixture(params=["example", "gated"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    """Each app configuration in turn."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]
