"""The sandbox runs the synthesized templates, not a copy: change the template and the
sandbox's behaviour changes with it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.sandbox.app_spec import ResourceAlreadyExists
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from shared import contract

pytestmark = pytest.mark.e2e

#: The shared stack's template, and the example group's stack's.
TEMPLATE = f"{contract.STACK_NAME}.template.json"
GROUP = "house-price-linear-learner"
GROUP_TEMPLATE = f"{contract.group_stack_name(GROUP)}.template.json"


def _edited_copy(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the assembly with the example group's stack edited."""
    shutil.copytree(source, target)
    template_path = target / GROUP_TEMPLATE
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


def test_the_sandbox_holds_the_templates_inventory_as_cloudformation_creates_it(
    example_out: Path,
) -> None:
    # GIVEN the example app's synthesized template
    template = json.loads((example_out / TEMPLATE).read_text(encoding="utf-8"))
    app = load_app(example_out)

    # WHEN the sandbox provisions it
    with Sandbox(app) as sandbox:
        functions = {
            f["FunctionName"]: f for f in sandbox.client("lambda").list_functions()["Functions"]
        }
        roles = {r["RoleName"] for r in sandbox.client("iam").list_roles()["Roles"]}
        log_groups = {
            g["logGroupName"]: g for g in sandbox.client("logs").describe_log_groups()["logGroups"]
        }
        queues = sandbox.client("sqs").list_queues().get("QueueUrls", [])
        buckets = {b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]}
        cloudformation = sandbox.client("cloudformation")
        (stack,) = cloudformation.describe_stacks(StackName=app.stack_name)["Stacks"]
        (group_stack,) = cloudformation.describe_stacks(StackName=contract.group_stack_name(GROUP))[
            "Stacks"
        ]
        group_outputs = {o["OutputKey"]: o["OutputValue"] for o in group_stack["Outputs"]}
        registry_entry = sandbox.client("ssm").get_parameter(
            Name=contract.group_registry_parameter(GROUP)
        )["Parameter"]["Value"]
        dynamodb = sandbox.client("dynamodb")
        (table,) = app.tables
        described = dynamodb.describe_table(TableName=table)["Table"]
        backups = dynamodb.describe_continuous_backups(TableName=table)
        targets = {
            rule.logical_id: sandbox.client("events").list_targets_by_rule(Rule=rule.name)[
                "Targets"
            ]
            for rule in app.rules
        }
        iam = sandbox.client("iam")
        inventory = app.inventory
        inline_policies = {
            role.name: set(iam.list_role_policies(RoleName=role.name)["PolicyNames"])
            for role in inventory.of("AWS::IAM::Role")
        }

    # THEN every function is there with its runtime, handler, timeout, role and environment
    declared = _resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(declared)
    for function in inventory.of("AWS::Lambda::Function"):
        shown, props = functions[function.name], function.properties
        assert shown["Runtime"] == props["Runtime"]
        assert shown["Handler"] == props["Handler"]
        assert shown["Timeout"] == props.get("Timeout", 3)
        assert shown["Role"] == props["Role"]
        assert shown.get("Environment", {}).get("Variables", {}) == props.get(
            "Environment", {}
        ).get("Variables", {})
    # AND every role, with the template's policies attached to it
    assert {r.name for r in inventory.of("AWS::IAM::Role")} <= roles
    for policy in inventory.of("AWS::IAM::Policy"):
        for role in policy.properties["Roles"]:
            assert policy.properties["PolicyName"] in inline_policies[role]
    # AND every log group with its retention, every queue, every bucket
    for group in inventory.of("AWS::Logs::LogGroup"):
        assert log_groups[group.name]["retentionInDays"] == group.properties["RetentionInDays"]
    assert {url.rsplit("/", 1)[-1] for url in queues} >= {
        q.name for q in inventory.of("AWS::SQS::Queue")
    }
    assert {b.name for b in inventory.of("AWS::S3::Bucket")} <= buckets
    assert {p.bundle.bucket for p in app.pipelines if p.bundle} <= buckets
    # AND each rule's targets are the template's: the function, its DLQ and retry policy
    for rule in inventory.of("AWS::Events::Rule"):
        assert targets[rule.logical_id] == rule.properties["Targets"]
    # AND the stack shows every output the template declares, resolved
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert set(outputs) == set(template["Outputs"])
    assert outputs["LedgerTableName"] == table
    # AND so does the group's own stack: its pipeline's name
    group_template = json.loads((example_out / GROUP_TEMPLATE).read_text(encoding="utf-8"))
    assert group_outputs == {
        key: contract.pipeline_name(GROUP) for key in group_template["Outputs"]
    }
    # AND the group's registry entry is the parameter its stack writes
    assert registry_entry == str(
        _resources(group_template, "AWS::SSM::Parameter")[0]["Properties"]["Value"]
    )
    # AND the ledger has the declared KMS encryption, deletion protection and PITR
    (ledger,) = _resources(template, "AWS::DynamoDB::Table")
    assert described["DeletionProtectionEnabled"] is True
    assert described["SSEDescription"]["SSEType"] == "KMS"
    assert (
        described["SSEDescription"]["KMSMasterKeyArn"]
        == app.inventory.of("AWS::DynamoDB::Table")[0].properties["SSESpecification"][
            "KMSMasterKeyId"
        ]
    )
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ledger["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]


def _adopt_the_group(template: dict[str, Any]) -> None:
    """What ``adoptExistingGroup`` synthesizes: no group resource, the rest unchanged."""
    resources = template["Resources"]
    for logical_id in [
        k for k, r in resources.items() if r["Type"] == "AWS::SageMaker::ModelPackageGroup"
    ]:
        del resources[logical_id]
    for resource in resources.values():
        resource.pop("DependsOn", None)


def test_a_group_that_exists_before_the_stack_makes_its_creation_fail(
    example_out: Path,
) -> None:
    # GIVEN data scientists created the example's group before the stack was deployed
    app = load_app(example_out)
    (group,) = app.model_package_groups

    # WHEN the template, which creates that group, is provisioned
    # THEN it fails as CloudFormation fails on a taken name, pointing at the config key
    with (
        pytest.raises(ResourceAlreadyExists, match="adoptExistingGroup"),
        Sandbox(app, existing_groups=[group]),
    ):
        pass


def test_an_adopted_group_is_used_as_it_exists_and_its_approvals_deploy(
    example_out: Path, tmp_path: Path
) -> None:
    # GIVEN the example app adopting its group, which exists before the stack
    adopted = _edited_copy(example_out, tmp_path / "cdk.out", _adopt_the_group)
    app = load_app(adopted)
    assert app.model_package_groups == app.adopted_groups == ("house-price-linear-learner",)

    with Sandbox(app) as sandbox:
        # WHEN a version of the existing group is registered and approved
        described = sandbox.client("sagemaker").describe_model_package_group(
            ModelPackageGroupName="house-price-linear-learner"
        )
        story = Story(sandbox, name="adopted-group")
        version = story.register("a good model")
        story.approve(version)
        story.settle()

        # THEN the group is the one made before the stack, and the approval reached staging
        assert described["ModelPackageGroupDescription"] == "created in SageMaker before the stack"
        assert story.live("staging") == version.number
