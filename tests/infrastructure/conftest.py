"""Each app configuration is synthesized once per session; tests read the results."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from stacks.app import build_app
from stacks.config import CONTEXT_KEY, GreenlightConfig, load_config, parse_config
from stacks.greenlight_stack import STACK_NAME, GreenlightStack

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

#: Gates on, two groups, a LINEAR rollout, a shared registry, a configured role.
GATED_CONTEXT: dict[str, Any] = {
    "notificationEmails": ["ml-platform@example.com", "risk@example.com"],
    "modelGroups": [
        {
            "name": "fraud-detector",
            "description": "Card fraud scores",
            "shareWithAccounts": ["111122223333"],
            "modelDataBuckets": ["fraud-model-artifacts"],
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

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }


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


@pytest.fixture(params=["example", "gated"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    """Each app configuration in turn."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and an explicit region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((REPO / "tests" / "events" / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def render(value: Any) -> str:
    """A CloudFormation value as text: tokens become ``<LogicalId.Attr>`` / ``<Ref>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            return str(argument[0]).join(render(part) for part in argument[1])
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Sub":
            return str(argument)
    raise AssertionError(f"unexpected CloudFormation value {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
