"""IAM statements are scoped to the group's own ARNs; PassRole only to SageMaker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.config import GreenlightConfig
from tests.infrastructure.conftest import Synthesized, as_list, render

pytestmark = pytest.mark.infrastructure

SAGEMAKER_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
UNSCOPED_SAGEMAKER_ACTIONS = {"sagemaker:ListModels", "sagemaker:ListEndpointConfigs"}


def _statements(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, policy in synth.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement


def _allowed_resources(config: GreenlightConfig) -> dict[str, re.Pattern[str]]:
    """Per group: the only SageMaker ARNs its functions may name."""
    allowed = {}
    for group in config.model_groups:
        endpoints = "|".join(re.escape(name) for name in group.endpoint_names)
        name = re.escape(group.name)
        allowed[group.name] = re.compile(
            re.escape(SAGEMAKER_ARN)
            + rf"(model-package/{name}/\*|model-package-group/{name}|endpoint/({endpoints})"
            rf"|endpoint-config/({endpoints})-\*|model/({endpoints})-\*)"
        )
    return allowed


def test_sagemaker_statements_name_only_one_groups_package_and_endpoint_arns(
    synthesized: Synthesized,
) -> None:
    allowed = _allowed_resources(synthesized.config)
    checked = 0
    for logical_id, statement in _statements(synthesized):
        actions = set(as_list(statement["Action"]))
        sagemaker_actions = {a for a in actions if a.startswith("sagemaker:")}
        if not sagemaker_actions or sagemaker_actions <= UNSCOPED_SAGEMAKER_ACTIONS:
            continue
        resources = [render(resource) for resource in as_list(statement["Resource"])]
        owners = {
            group
            for resource in resources
            for group, pattern in allowed.items()
            if pattern.fullmatch(resource)
        }
        assert all(any(p.fullmatch(r) for p in allowed.values()) for r in resources), (
            logical_id,
            resources,
        )
        assert len(owners) == 1, f"{logical_id} mixes groups: {resources}"
        checked += 1
    # trigger (1) + deploy (4) + smoke test (1) statements per group
    assert checked == 6 * len(synthesized.config.model_groups)


def test_unscoped_sagemaker_actions_are_only_the_list_calls(synthesized: Synthesized) -> None:
    for logical_id, statement in _statements(synthesized):
        if "*" not in as_list(statement["Resource"]):
            continue
        for action in as_list(statement["Action"]):
            if action.startswith("sagemaker:"):
                assert action in UNSCOPED_SAGEMAKER_ACTIONS, (logical_id, action)


def test_no_statement_grants_a_whole_service(synthesized: Synthesized) -> None:
    for logical_id, statement in _statements(synthesized):
        for action in as_list(statement["Action"]):
            assert action != "*", logical_id
            assert not action.endswith(":*"), (logical_id, action)


def test_every_pass_role_is_conditioned_on_sagemaker_and_names_the_execution_role(
    synthesized: Synthesized,
) -> None:
    pass_role = [
        (logical_id, statement)
        for logical_id, statement in _statements(synthesized)
        if "iam:PassRole" in as_list(statement["Action"])
    ]
    assert len(pass_role) == len(synthesized.config.model_groups)
    for logical_id, statement in pass_role:
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
        }, logical_id
        assert "*" not in as_list(statement["Resource"]), logical_id


def test_configured_execution_role_is_the_one_passed(gated: Synthesized) -> None:
    resources = [
        render(resource)
        for _, statement in _statements(gated)
        if "iam:PassRole" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert "arn:aws:iam::123456789012:role/existing-sagemaker-role" in resources


def test_trigger_drives_only_its_own_pipeline(synthesized: Synthesized) -> None:
    pipeline_ids = set(synthesized.resources("AWS::CodePipeline::Pipeline"))
    found = 0
    for logical_id, statement in _statements(synthesized):
        if "codepipeline:StartPipelineExecution" not in as_list(statement["Action"]):
            continue
        found += 1
        assert set(as_list(statement["Action"])) >= {
            "codepipeline:StopPipelineExecution",
            "codepipeline:RollbackStage",
            "codepipeline:GetPipelineExecution",
        }
        resources = [render(resource) for resource in as_list(statement["Resource"])]
        assert len(resources) == 1, logical_id
        assert re.fullmatch(
            r"arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:<(\w+)>",
            resources[0],
        ) or any(pid in resources[0] for pid in pipeline_ids), resources
    assert found == len(synthesized.config.model_groups)


def test_model_execution_role_reads_only_the_configured_model_buckets(gated: Synthesized) -> None:
    s3_resources = sorted(
        render(resource)
        for _, statement in _statements(gated)
        if any(a in ("s3:GetObject", "s3:ListBucket") for a in as_list(statement["Action"]))
        and "fraud-model-artifacts" in str(statement["Resource"])
        for resource in as_list(statement["Resource"])
    )
    assert s3_resources == [
        "arn:<AWS::Partition>:s3:::fraud-model-artifacts",
        "arn:<AWS::Partition>:s3:::fraud-model-artifacts/*",
    ]
