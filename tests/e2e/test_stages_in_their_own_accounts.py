"""Staging and production each in an account of its own, under the IAM check: the
scenario passes with the templates as synthesized, and fails with AccessDenied naming
sts:AssumeRole once a target's trust in the tooling functions is taken out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline_scripts.sandbox.accounts import PRODUCTION_ACCOUNT
from shared import contract
from tests.e2e.conftest import RunScenario
from tests.synthesis import Synthesized

pytestmark = pytest.mark.e2e

SCENARIO = "stages-in-their-own-accounts"


def test_the_multi_account_scenario_passes_with_iam_enforced(
    accounts: Synthesized, run_scenario: RunScenario
) -> None:
    # GIVEN the app with staging and production in their own accounts
    # WHEN the scenario runs in the sandbox (IAM enforced, one backend per account)
    result = run_scenario(SCENARIO, accounts.outdir)
    # THEN every expectation holds: each account holds only its own stage's resources
    failed = [e.description for e in result.expectations if not e.passed]
    assert failed == [], "\n".join(result.steps)
    assert len(result.expectations) >= 10


def test_a_target_that_no_longer_trusts_deploy_fails_the_stage_naming_assume_role(
    accounts: Synthesized, run_scenario: RunScenario, tmp_path: Path
) -> None:
    # GIVEN the assembly with production's deployment role trusting no tooling role
    outdir = tmp_path / "cdk.out"
    shutil.copytree(accounts.outdir, outdir)
    template_path = (
        outdir / f"{contract.target_stack_name(PRODUCTION_ACCOUNT, 'us-east-1')}.template.json"
    )
    template = json.loads(template_path.read_text())
    (role,) = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        and resource["Properties"].get("RoleName") == contract.deployment_role_name("us-east-1")
    ]
    role["Properties"]["AssumeRolePolicyDocument"]["Statement"] = []
    template_path.write_text(json.dumps(template))
    # WHEN the scenario runs
    result = run_scenario(SCENARIO, outdir)
    # THEN production never gets the version, and its Deploy failed with STS's refusal
    assert not result.passed
    production = [step for step in result.steps if "production.Deploy failed" in step]
    assert production, "\n".join(result.steps)
    assert "AccessDenied" in production[0]
    assert "sts:AssumeRole" in production[0]


def test_a_group_policy_that_does_not_share_the_versions_fails_production_deploy(
    accounts: Synthesized, run_scenario: RunScenario, tmp_path: Path
) -> None:
    # GIVEN the assembly with the model package group's resource policy taken out
    outdir = tmp_path / "cdk.out"
    shutil.copytree(accounts.outdir, outdir)
    for template_path in outdir.glob("*.template.json"):
        template = json.loads(template_path.read_text())
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "AWS::SageMaker::ModelPackageGroup":
                resource["Properties"].pop("ModelPackageGroupPolicy", None)
        template_path.write_text(json.dumps(template))
    # WHEN the scenario runs
    result = run_scenario(SCENARIO, outdir)
    # THEN the stage accounts cannot build a model from the tooling account's version
    assert not result.passed
    failed = [step for step in result.steps if "Deploy failed" in step]
    assert failed, "\n".join(result.steps)
    assert "sagemaker:DescribeModelPackage" in failed[0]
    assert "no resource-based policy allows" in failed[0]
