"""The target stack: in the stage's own account, a deployment role trusted by the tooling
functions' roles only, an execution role, the stage's alarms and a read-only status role."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, PhysicalName, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from shared import contract
from shared.config import parse_config
from stacks.target_stack import RemoteStage, TargetStack
from tests.accounts_context import PRODUCTION, accounts_context

pytestmark = pytest.mark.infrastructure

REPO = Path(__file__).resolve().parents[2]
TOOLING = Environment(account="111111111111", region="us-east-1")
CONTEXT = accounts_context()


@dataclass(frozen=True)
class Built:
    template: dict[str, Any]
    path: Path
    trusted: list[str]
    outdir: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    config = parse_config(CONTEXT)
    group = config.model_groups[0]
    outdir = tmp_path_factory.mktemp("target")
    app = App(outdir=str(outdir))
    tooling = Stack(app, "Tooling", env=TOOLING)
    roles = [
        iam.Role(
            tooling,
            name,
            role_name=PhysicalName.GENERATE_IF_NEEDED,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        for name in ("Deploy", "SmokeTest", "Bake", "Cleanup")
    ]
    target = TargetStack(
        app,
        account=PRODUCTION,
        region="us-east-1",
        stages=[RemoteStage(group, group.stages[1])],
        trusted_roles=roles,
        tooling=TOOLING,
    )
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(target.stack_name)
    tooling_roles = assembly.get_stack_by_name(tooling.stack_name).template["Resources"]
    trusted = [
        f"arn:aws:iam::111111111111:role/{role['Properties']['RoleName']}"
        for role in tooling_roles.values()
    ]
    return Built(artifact.template, outdir / artifact.template_file, trusted, outdir)


def _resources(built: Built, kind: str) -> dict[str, Any]:
    return {k: v for k, v in built.template["Resources"].items() if v["Type"] == kind}


def _role(built: Built, name: str) -> tuple[str, dict[str, Any]]:
    for logical_id, role in _resources(built, "AWS::IAM::Role").items():
        if role["Properties"].get("RoleName") == name:
            return logical_id, role
    raise AssertionError(f"no role {name}")


def _principals(role: dict[str, Any]) -> list[str]:
    found = []
    for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        value = statement["Principal"]["AWS"]
        found.append(
            value
            if isinstance(value, str)
            else "".join(part if isinstance(part, str) else "aws" for part in value["Fn::Join"][1])
        )
    return found


def _actions(built: Built, role_id: str) -> dict[str, Any]:
    """Action → resources, over the role's attached policies."""
    granted: dict[str, Any] = {}
    for policy in _resources(built, "AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in actions if isinstance(actions, list) else [actions]:
                granted.setdefault(action, []).append(statement["Resource"])
    return granted


def test_the_deployment_role_trusts_exactly_the_tooling_functions_roles_by_arn(
    built: Built,
) -> None:
    # GIVEN the target stack's deployment role
    _, role = _role(built, contract.deployment_role_name("us-east-1"))
    # WHEN its trust policy is read
    principals = _principals(role)
    # THEN it names the four function roles of the tooling account, and no account root
    assert sorted(principals) == sorted(built.trusted)
    assert not [p for p in principals if p.endswith(":root") or p.isdigit()]


def test_the_stages_alarms_live_in_the_target_stack_and_only_the_remote_stages(
    built: Built,
) -> None:
    # GIVEN the target stack's alarms
    names = {
        a["Properties"]["AlarmName"] for a in _resources(built, "AWS::CloudWatch::Alarm").values()
    }
    # THEN they are production's, named as Deploy and Bake expect, and none of staging's
    assert names == {
        contract.alarm_name("churn", "production", "5xx"),
        contract.alarm_name("churn", "production", "latency"),
    }


def test_the_deployment_role_passes_only_the_execution_role_to_sagemaker(built: Built) -> None:
    # GIVEN the deployment role's permissions
    role_id, _ = _role(built, contract.deployment_role_name("us-east-1"))
    granted = _actions(built, role_id)
    # THEN iam:PassRole names only the stack's execution role, with its condition
    (passed,) = granted["iam:PassRole"]
    (execution_role,) = [
        logical_id
        for logical_id, role in _resources(built, "AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    ]
    assert passed == {"Fn::GetAtt": [execution_role, "Arn"]}
    # AND it may do exactly what the four actions do to the stage's endpoint
    assert set(granted) == {
        "sagemaker:DescribeModelPackage",
        "sagemaker:CreateModel",
        "sagemaker:DescribeModel",
        "sagemaker:DeleteModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:InvokeEndpoint",
        "sagemaker:AddTags",
        "sagemaker:ListEndpointConfigs",
        "sagemaker:ListModels",
        "cloudwatch:DescribeAlarms",
        "iam:PassRole",
    }
    (packages,) = granted["sagemaker:DescribeModelPackage"]
    assert json.dumps(packages).endswith(
        ':sagemaker:us-east-1:111111111111:model-package/churn/*"]]}'
    )


def test_the_status_reader_is_read_only_and_trusts_the_tooling_account(built: Built) -> None:
    # GIVEN the status reader role
    role_id, role = _role(built, contract.status_reader_role_name("us-east-1"))
    # THEN the tooling account's IAM decides who may assume it, and it may only read
    assert _principals(role) == ["arn:aws:iam::111111111111:root"]
    assert set(_actions(built, role_id)) == {
        "sagemaker:DescribeEndpoint",
        "cloudwatch:DescribeAlarms",
    }


def test_cfn_lint_and_cdk_nag_find_nothing_in_the_target_template(built: Built) -> None:
    # GIVEN the synthesized target template and cdk-nag's report
    report = json.loads((built.outdir / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] for v in p.get("violations", [])]
    # WHEN cfn-lint checks the template
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(built.path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN neither reports anything
    assert violations == []
    assert json.loads(result.stdout or "[]") == []


#: IAM's quotas for a role's permissions, in characters without whitespace: all its
#: inline policies together, each managed policy, and how many managed policies it may
#: have attached (CDK moves what outgrows the inline policy into managed ones).
INLINE_POLICIES_CHARS = 10_240
MANAGED_POLICY_CHARS = 6_144
MANAGED_POLICIES_PER_ROLE = 10
#: Remote stages of one target account in the size test: one per group.
MANY = 40


def _resolved(value: Any) -> Any:
    """A policy document as IAM receives it: joins joined, the partition ``aws``, an
    attribute of a generated name as long as the longest such name."""
    if isinstance(value, list):
        return [_resolved(each) for each in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolved(part) for part in parts)
    if value.get("Ref") == "AWS::Partition":
        return "aws"
    if "Fn::GetAtt" in value:
        return f"arn:aws:iam::{PRODUCTION}:role/{'x' * 64}"
    return {key: _resolved(each) for key, each in value.items()}


@pytest.fixture(scope="module")
def crowded() -> dict[str, Any]:
    """A target account that holds the production stage of MANY groups."""
    context = accounts_context()
    (churn,) = context["modelGroups"]
    groups = []
    for index in range(MANY):
        group = json.loads(json.dumps(churn))
        group["name"] = f"churn-{index:02d}"
        for each in group["stages"]:
            each["endpointName"] = f"churn-{index:02d}-{each['name']}"
        groups.append(group)
    config = parse_config({**context, "modelGroups": groups})
    app = App()
    tooling = Stack(app, "Tooling", env=TOOLING)
    trusted = [
        iam.Role(
            tooling,
            "Deploy",
            role_name=PhysicalName.GENERATE_IF_NEEDED,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
    ]
    target = TargetStack(
        app,
        account=PRODUCTION,
        region="us-east-1",
        stages=[RemoteStage(group, group.stages[1]) for group in config.model_groups],
        trusted_roles=trusted,
        tooling=TOOLING,
    )
    template: dict[str, Any] = app.synth().get_stack_by_name(target.stack_name).template
    return template


def test_many_remote_stages_fit_iams_quotas_with_each_stage_named_once(
    crowded: dict[str, Any],
) -> None:
    # GIVEN the policies of a target account holding MANY remote stages, as IAM reads them
    inline: dict[str, int] = {}
    managed: dict[str, list[int]] = {}
    deployment_text = ""
    for resource in crowded["Resources"].values():
        kind, properties = resource["Type"], resource["Properties"]
        if kind not in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            continue
        text = json.dumps(_resolved(properties["PolicyDocument"]), separators=(",", ":"))
        for role in properties.get("Roles", []):
            if kind == "AWS::IAM::Policy":
                inline[role["Ref"]] = inline.get(role["Ref"], 0) + len(text)
            else:
                managed.setdefault(role["Ref"], []).append(len(text))
            if role["Ref"].startswith("DeploymentRole"):
                deployment_text += text
    # THEN every role stays within IAM's quotas
    assert inline
    assert max(inline.values()) <= INLINE_POLICIES_CHARS, inline
    assert all(size <= MANAGED_POLICY_CHARS for sizes in managed.values() for size in sizes)
    assert all(len(sizes) <= MANAGED_POLICIES_PER_ROLE for sizes in managed.values())
    # AND the deployment role names each stage's endpoint, configs and models once
    for index in range(MANY):
        prefix = f":sagemaker:us-east-1:{PRODUCTION}:"
        for resource in ("endpoint/", "endpoint-config/", "model/"):
            arn = f'{prefix}{resource}churn-{index:02d}-production"'
            wildcard = f'{prefix}{resource}churn-{index:02d}-production-*"'
            assert deployment_text.count(arn) + deployment_text.count(wildcard) == 1, arn
