"""Every function shares the same defaults and has its own role."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from shared import contract
from shared.group_registry import GroupEntry
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


def test_six_functions_shared_by_every_group_with_the_contract_handlers(
    synthesized: Synthesized,
) -> None:
    functions = synthesized.greenlight_functions().values()
    handlers = sorted(function["Properties"]["Handler"] for function in functions)
    assert handlers == sorted(HANDLERS)
    # AND no group's stack holds a function of its own
    for group in synthesized.groups.values():
        assert group.resources("AWS::Lambda::Function") == {}, group.name


def test_the_only_other_function_is_the_custom_resource_framework(
    synthesized: Synthesized,
) -> None:
    others = [
        function["Properties"]["Handler"]
        for logical_id, function in synthesized.resources("AWS::Lambda::Function").items()
        if logical_id not in synthesized.greenlight_functions()
    ]
    assert others == ["framework.onEvent"]


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


@pytest.mark.parametrize(
    "handler", ["approval_trigger.handler.handler", "recorder.handler.handler"]
)
def test_trigger_and_recorder_environment_names_only_the_ledger_and_the_topic(
    gated: Synthesized, handler: str
) -> None:
    # Everything about a group reaches them from the group registry, not the environment.
    (ledger_id,) = gated.resources("AWS::DynamoDB::Table")
    (topic_id,) = gated.resources("AWS::SNS::Topic")
    function = gated.template_json["Resources"][gated.function_id(handler)]
    assert function["Properties"]["Environment"]["Variables"] == {
        contract.ENV_LEDGER_TABLE: {"Ref": ledger_id},
        contract.ENV_TOPIC_ARN: {"Ref": topic_id},
    }


@pytest.mark.parametrize(
    "handler",
    [
        "deploy.handler.handler",
        "smoke_test.handler.handler",
        "bake.handler.handler",
        "endpoint_cleanup.handler.handler",
    ],
)
def test_action_and_cleanup_functions_get_everything_from_their_event(
    synthesized: Synthesized, handler: str
) -> None:
    # UserParameters (actions) and ResourceProperties (cleanup) carry the group's data.
    function = synthesized.template_json["Resources"][synthesized.function_id(handler)]
    assert "Environment" not in function["Properties"] or not function["Properties"][
        "Environment"
    ].get("Variables")


def test_each_group_stack_registers_its_pipeline_stages_and_gates(gated: Synthesized) -> None:
    gated.group("fraud-detector").template.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": contract.group_registry_parameter("fraud-detector"),
            "Type": "String",
            "Value": GroupEntry(
                group="fraud-detector",
                pipeline_name=contract.pipeline_name("fraud-detector"),
                stages=("staging", "production"),
                gates={"requiredReports": ["ModelQuality", "Bias"], "separationOfDuties": True},
            ).to_json(),
        },
    )
    entry = GroupEntry.from_json(
        "churn",
        next(iter(gated.group("churn-predictor").resources("AWS::SSM::Parameter").values()))[
            "Properties"
        ]["Value"],
    )
    assert entry.stages == ("live",)
    assert entry.gates == {"requiredReports": [], "separationOfDuties": False}


def test_lambda_asset_excludes_bytecode_caches(example: Synthesized) -> None:
    asset_dirs = [
        path
        for path in example.outdir.glob("asset.*")
        if (path / "shared" / "contract.py").exists()
    ]
    assert asset_dirs, "the lambdas/ folder is the function asset"
    for folder in asset_dirs:
        assert not list(folder.rglob("__pycache__"))


def test_no_role_uses_a_managed_policy(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::IAM::Role",
        Match.object_like({"AssumeRolePolicyDocument": Match.any_value()}),
    )
    for stack in synthesized.every_stack():
        for role in stack.resources("AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"], stack.name
