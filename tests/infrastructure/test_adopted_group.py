"""An existing model package group is adopted by config, not created a second time."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from shared.config import parse_config
from tests.synthesis import GATED_CONTEXT, Synthesized, synthesize

ADOPTED = "churn-predictor"


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The gated app, with churn-predictor's group adopted from the account."""
    context = copy.deepcopy(GATED_CONTEXT)
    (group,) = [g for g in context["modelGroups"] if g["name"] == ADOPTED]
    group["adoptExistingGroup"] = True
    return synthesize(parse_config(context), Path(tmp_path_factory.mktemp("adopted")))


def test_an_adopted_group_is_not_created_by_the_stack(adopted: Synthesized) -> None:
    # GIVEN the app with churn-predictor's group adopted
    # WHEN its template is read
    groups = [
        group
        for stack in adopted.groups.values()
        for group in stack.resources("AWS::SageMaker::ModelPackageGroup").values()
    ]

    # THEN only the other group is a resource: CloudFormation creates no second group
    # whose name already exists
    names = [g["Properties"]["ModelPackageGroupName"] for g in groups]
    assert names == ["fraud-detector"]


def test_an_adopted_group_still_gets_its_rule_and_pipeline(adopted: Synthesized) -> None:
    # GIVEN the app with churn-predictor's group adopted
    # WHEN its rules and pipelines are read
    stack = adopted.group(ADOPTED)
    patterns = [
        r["Properties"]["EventPattern"] for r in stack.resources("AWS::Events::Rule").values()
    ]
    pipelines = [
        p["Properties"]["Name"] for p in stack.resources("AWS::CodePipeline::Pipeline").values()
    ]

    # THEN the group's approvals are still routed to its trigger, and its pipeline exists
    assert any(p.get("detail", {}).get("ModelPackageGroupName") == [ADOPTED] for p in patterns)
    assert "greenlight-churn-predictor" in pipelines
