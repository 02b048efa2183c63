"""What the sandbox reads of a template's IAM: every role with its trust policy, and the
model package groups' resource policies (which moto does not keep)."""

from __future__ import annotations

import pytest

from pipeline_scripts.sandbox.assembly import link
from pipeline_scripts.sandbox.resolver import Resolver
from pipeline_scripts.sandbox.roles import declared_roles, resource_policies
from tests.synthesis import Synthesized

pytestmark = pytest.mark.e2e


def test_every_role_is_read_with_its_trust_policy(gated: Synthesized) -> None:
    # GIVEN the gated app's stacks, linked as the sandbox deploys them
    resources = link(gated.outdir).template["Resources"]
    # WHEN its roles are read
    roles = declared_roles(resources, Resolver(resources))
    # THEN there is one per AWS::IAM::Role, each trusting the service that runs it
    assert len(roles) == len([r for r in resources.values() if r["Type"] == "AWS::IAM::Role"])
    services = {statement["Principal"].get("Service") for role in roles for statement in role.trust}
    assert {"lambda.amazonaws.com", "sagemaker.amazonaws.com"} <= services


def test_the_shared_groups_resource_policy_is_read_resolved(gated: Synthesized) -> None:
    # GIVEN the gated app, whose fraud-detector group is shared with 111122223333
    resources = link(gated.outdir).template["Resources"]
    # WHEN the resource policies are read
    statements = resource_policies(resources, Resolver(resources))
    # THEN the group's statement names that account and the group's own packages
    (statement,) = statements
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert "sagemaker:CreateModel" in statement["Action"]
    assert any(
        resource.endswith(":model-package/fraud-detector/*") for resource in statement["Resource"]
    )
