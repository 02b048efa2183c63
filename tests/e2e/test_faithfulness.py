"""The sandbox runs the synthesized templates, not a copy: change the template and the
sandbox's behaviour changes with it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e

TEMPLATE = "Greenlight.template.json"


def _edited_copy(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    shutil.copytree(source, target)
    template_path = target / TEMPLATE
    template = json.loads(template_path.read_text(encoding="utf-8"))
    edit(template)
    template_path.write_text(json.dumps(template), encoding="utf-8")
    return target


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _retarget_approval_rule(template: dict[str, Any]) -> None:
    (rule,) = [
        r
        for r in _resources(template, "AWS::Events::Rule")
        if r["Properties"]["EventPattern"]["source"] == ["aws.sagemaker"]
    ]
    rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] = ["another-group"]


def _drop_staging_rollback(template: dict[str, Any]) -> None:
    (pipeline,) = _resources(template, "AWS::CodePipeline::Pipeline")
    (staging,) = [s for s in pipeline["Properties"]["Stages"] if s["Name"] == "staging"]
    del staging["OnFailure"]


def test_a_rule_that_names_another_group_routes_nothing(example_out: Path, tmp_path: Path) -> None:
    # GIVEN the example app whose approval rule was edited to match another group
    edited = _edited_copy(example_out, tmp_path / "cdk.out", _retarget_approval_rule)

    with Sandbox(load_app(edited)) as sandbox:
        story = Story(sandbox, name="retargeted-rule")
        # WHEN a version of the real group is registered and approved
        version = story.register("a good model")
        story.approve(version)
        story.settle(approve_stages=True)

        # THEN the trigger never ran and no pipeline execution started
        assert story.outcomes() == []
        assert story.started_executions() == []
        assert story.live("staging") is None


def test_the_unedited_rule_routes_the_same_approval(example_out: Path) -> None:
    # GIVEN the example app as synthesized
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="rule")
        # WHEN the same approval is made
        version = story.register("a good model")
        story.approve(version)
        story.settle()

        # THEN the trigger started one deployment, and it reached staging
        assert [o["outcome"] for o in story.outcomes()].count("started") == 1
        assert story.live("staging") == version.number


def test_a_stage_without_its_rollback_condition_leaves_the_bad_version_live(
    example_out: Path, tmp_path: Path
) -> None:
    # GIVEN the example app whose staging stage lost its OnFailure ROLLBACK
    edited = _edited_copy(example_out, tmp_path / "cdk.out", _drop_staging_rollback)

    with Sandbox(load_app(edited)) as sandbox:
        story = Story(sandbox, name="no-rollback")
        good = story.register("a good model")
        story.approve(good)
        story.settle(approve_stages=True)
        # WHEN a version whose alarm trips during the bake is approved
        bad = story.register(
            "a model whose errors creep up",
            healthy=False,
            invocations_fail=False,
            only_on=(story.stage("staging").endpoint,),
        )
        story.approve(bad)
        story.settle()

        # THEN the bake failed, nothing rolled back, and the bad version stays live
        assert any(m.startswith("bake of") for m in story.failures("staging"))
        assert [e for e in story.executions() if e.get("executionType") == "ROLLBACK"] == []
        assert story.live("staging") == bad.number
