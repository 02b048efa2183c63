"""Every function shares the same defaults and has its own role."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from shared import contract
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure

HANDLERS = (
    "approval_trigger.handler.handler",
    "deploy.handler.handler",
    "smoke_test.handler.handler",
    "bake.handler.handler",
    "recorder.handler.handler",
    "endpoint_cleanup.handler.handler",
)


def test_six_functions_per_group_with_the_contract_handlers(synthesized: Synthesized) -> None:
    functions = synthesized.greenlight_functions().values()
    handlers = sorted(function["Properties"]["Handler"] for function in functions)
    assert handlers == sorted(HANDLERS * len(synthesized.config.model_groups))


def test_the_only_other_functions_are_one_custom_resource_framework_per_group(
    synthesized: Synthesized,
) -> None:
    others = [
        function["Properties"]["Handler"]
        for logical_id, function in synthesized.resources("AWS::Lambda::Function").items()
        if logical_id not in synthesized.greenlight_functions()
    ]
    assert others == ["framework.onEvent"] * len(synthesized.config.model_groups)


def test_every_function_uses_the_shared_defaults(synthesized: Synthesized) -> None:
    for logical_id, function in synthesized.greenlight_functions().items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12", logical_id
        assert properties["Architectures"] == ["arm64"], logical_id
        assert properties["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        log_group = synthesized.template_json["Resources"][log_group_id]
        assert log_group["Properties"]["RetentionInDays"] == 90
        assert "KmsKeyId" in log_group["Properties"]
        assert "KmsKeyArn" in properties, logical_id


def test_every_function_has_its_own_role(synthesized: Synthesized) -> None:
    roles = [
        str(function["Properties"]["Role"])
        for function in synthesized.resources("AWS::Lambda::Function").values()
    ]
    assert len(set(roles)) == len(roles)


def test_trigger_environment_names_ledger_topic_group_pipeline_stages_and_gates(
    gated: Synthesized,
) -> None:
    (ledger_id,) = gated.resources("AWS::DynamoDB::Table")
    (topic_id,) = gated.resources("AWS::SNS::Topic")
    gated.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "approval_trigger.handler.handler",
            "Environment": {
                "Variables": {
                    contract.ENV_LEDGER_TABLE: {"Ref": ledger_id},
                    contract.ENV_TOPIC_ARN: {"Ref": topic_id},
                    contract.ENV_GROUP_NAME: "fraud-detector",
                    contract.ENV_PIPELINE_NAME: contract.pipeline_name("fraud-detector"),
                    contract.ENV_STAGES: '["staging", "production"]',
                    contract.ENV_GATES: (
                        '{"requiredReports":["ModelQuality","Bias"],"separationOfDuties":true}'
                    ),
                }
            },
        },
    )


def test_lambda_asset_excludes_bytecode_caches(example: Synthesized) -> None:
    asset_dirs = [
        path
        for path in example.outdir.glob("asset.*")
        if (path / "shared" / "contract.py").exists()
    ]
    assert asset_dirs, "the lambdas/ folder is the function asset"
    for folder in asset_dirs:
        assert not list(folder.rglob("__pycache__"))


def test_no_function_uses_a_managed_policy(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::IAM::Role",
        Match.object_like({"AssumeRolePolicyDocument": Match.any_value()}),
    )
    for role in synthesized.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
