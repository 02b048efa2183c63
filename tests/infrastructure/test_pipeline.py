"""The CodePipeline V2 of each group: mode, variables, stages, actions, parameters."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from shared import contract
from shared.parameters import BakeParameters, DeployParameters, SmokeTestParameters
from smoke_test.logic import spec_from_bundle
from stacks.shared_refs import export_name
from tests.infrastructure.conftest import Synthesized, render

pytestmark = pytest.mark.infrastructure


def _pipeline(synth: Synthesized, group: str) -> dict[str, Any]:
    name = contract.pipeline_name(group)
    found = [
        resource["Properties"]
        for resource in synth.group(group).resources("AWS::CodePipeline::Pipeline").values()
        if resource["Properties"]["Name"] == name
    ]
    assert len(found) == 1, f"expected one pipeline named {name}"
    pipeline: dict[str, Any] = found[0]
    return pipeline


def _stage(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    (stage,) = [stage for stage in pipeline["Stages"] if stage["Name"] == name]
    found: dict[str, Any] = stage
    return found


VERSION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/7"


def _user_parameters(action: dict[str, Any]) -> str:
    """The UserParameters as the handler receives them: CodePipeline has resolved the
    ``#{variables.ModelPackageArn}`` reference, which must be in the template as is."""
    # Token parts (the execution role ARN) render as <LogicalId.Arn>: still valid JSON.
    text = render(action["Configuration"]["UserParameters"])
    assert '"modelPackageArn":"#{variables.ModelPackageArn}"' in text
    return text.replace("#{variables.ModelPackageArn}", VERSION_ARN)


def test_one_v2_superseded_pipeline_per_group_with_the_contract_name(
    synthesized: Synthesized,
) -> None:
    # GIVEN each configuration THEN each group's stack has a V2 pipeline in SUPERSEDED mode
    synthesized.template.resource_count_is("AWS::CodePipeline::Pipeline", 0)
    for group in synthesized.config.model_groups:
        template = synthesized.group(group.name).template
        template.resource_count_is("AWS::CodePipeline::Pipeline", 1)
        template.has_resource_properties(
            "AWS::CodePipeline::Pipeline",
            {
                "Name": contract.pipeline_name(group.name),
                "PipelineType": "V2",
                "ExecutionMode": "SUPERSEDED",
            },
        )


def test_pipeline_declares_the_contract_variables_with_descriptions(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        variables = _pipeline(synthesized, group.name)["Variables"]
        assert [variable["Name"] for variable in variables] == list(contract.PIPELINE_VARIABLES)
        assert all(variable["Description"] and variable["DefaultValue"] for variable in variables)


def test_example_stage_order_is_source_staging_approval_production(example: Synthesized) -> None:
    pipeline = _pipeline(example, "house-price-linear-learner")
    assert [stage["Name"] for stage in pipeline["Stages"]] == [
        contract.SOURCE_STAGE,
        "staging",
        contract.approval_stage_name("production"),
        "production",
    ]


def test_gated_stage_order_follows_each_groups_configuration(gated: Synthesized) -> None:
    assert [stage["Name"] for stage in _pipeline(gated, "fraud-detector")["Stages"]] == [
        "Source",
        "staging",
        "production",
    ]
    assert [stage["Name"] for stage in _pipeline(gated, "churn-predictor")["Stages"]] == [
        "Source",
        "live",
    ]


def test_every_deploy_stage_rolls_back_on_failure_and_no_other_stage_does(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        pipeline = _pipeline(synthesized, group.name)
        for stage in pipeline["Stages"]:
            if stage["Name"] in group.stage_names:
                assert stage["OnFailure"] == {"Result": "ROLLBACK"}, stage["Name"]
            else:
                assert "OnFailure" not in stage, stage["Name"]


def test_deploy_smoke_test_bake_run_in_order_as_lambda_invokes(synthesized: Synthesized) -> None:
    for group in synthesized.config.model_groups:
        pipeline = _pipeline(synthesized, group.name)
        for stage_name in group.stage_names:
            stage_actions = _stage(pipeline, stage_name)["Actions"]
            ordered = sorted(stage_actions, key=lambda action: action["RunOrder"])
            assert [(a["Name"], a["RunOrder"]) for a in ordered] == [
                (contract.ACTION_DEPLOY, 1),
                (contract.ACTION_SMOKE_TEST, 2),
                (contract.ACTION_BAKE, 3),
            ]
            for action in ordered:
                assert action["ActionTypeId"] == {
                    "Category": "Invoke",
                    "Owner": "AWS",
                    "Provider": "Lambda",
                    "Version": "1",
                }
            deploy, smoke_test, _bake = ordered
            assert deploy["Namespace"] == f"deploy-{stage_name}"
            assert smoke_test["InputArtifacts"] == [{"Name": contract.SOURCE_ARTIFACT}]


def test_source_is_the_s3_bundle_with_no_automatic_trigger(synthesized: Synthesized) -> None:
    for group in synthesized.config.model_groups:
        (action,) = _stage(_pipeline(synthesized, group.name), contract.SOURCE_STAGE)["Actions"]
        assert action["Name"] == contract.SOURCE_ACTION
        assert action["ActionTypeId"]["Provider"] == "S3"
        assert action["OutputArtifacts"] == [{"Name": contract.SOURCE_ARTIFACT}]
        assert action["Configuration"]["PollForSourceChanges"] is False
    # No EventBridge rule starts a pipeline: every rule targets a shared Lambda function
    # (the recorder's in the shared stack, the trigger's from each group's stack).
    for rule in synthesized.resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            (function_id, attribute) = target["Arn"]["Fn::GetAtt"]
            assert attribute == "Arn"
            assert function_id in synthesized.greenlight_functions()
    for group in synthesized.config.model_groups:
        for rule in synthesized.group(group.name).resources("AWS::Events::Rule").values():
            for target in rule["Properties"]["Targets"]:
                assert target["Arn"] == {"Fn::ImportValue": export_name("trigger_function_arn")}


def _source_bundle_folder(synth: Synthesized, group: str) -> Path:
    """The assembly folder CDK zips into the object the group's source action reads."""
    (action,) = _stage(_pipeline(synth, group), contract.SOURCE_STAGE)["Actions"]
    key = action["Configuration"]["S3ObjectKey"]
    manifest = json.loads(
        (synth.outdir / f"{contract.group_stack_name(group)}.assets.json").read_text()
    )
    (asset,) = [
        entry
        for entry in manifest["files"].values()
        if any(dest["objectKey"] == key for dest in entry["destinations"].values())
    ]
    assert asset["source"]["packaging"] == "zip"
    return synth.outdir / asset["source"]["path"]


def test_source_bundle_asset_holds_every_stages_settings_and_smoke_test(
    example: Synthesized,
) -> None:
    # GIVEN the folder the source action's S3 object is published from
    folder = _source_bundle_folder(example, "house-price-linear-learner")

    # WHEN the bundle file is read (as the zip CDK publishes would hold it)
    bundle = json.loads((folder / contract.BUNDLE_FILE).read_text())

    # THEN every configured stage is there with its smoke test
    group = example.config.model_groups[0]
    assert list(bundle["stages"]) == sorted(group.stage_names)
    production = bundle["stages"]["production"]
    spec = next(stage.smoke_test for stage in group.stages if stage.name == "production")
    assert production["smokeTest"]["payload"] == spec.payload
    assert production["smokeTest"]["latencyBudgetMs"] == spec.latency_budget_ms
    assert production["smokeTest"]["expectedContentType"] == "text/csv"
    assert production["endpointName"] == "house-price-production"


def test_published_bundle_zip_gives_the_smoke_test_action_each_stages_spec(
    example: Synthesized, tmp_path: Path
) -> None:
    # GIVEN the source action's bundle folder zipped the way CDK publishes a folder asset
    folder = _source_bundle_folder(example, "house-price-linear-learner")
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*"):
            zipped.write(path, path.relative_to(folder).as_posix())

    # WHEN the SmokeTest action reads each stage's spec from the archive
    group = example.config.model_groups[0]
    specs = {stage: spec_from_bundle(archive.read_bytes(), stage) for stage in group.stage_names}

    # THEN it gets exactly the smoke test each stage is configured with
    assert specs == {stage.name: stage.smoke_test for stage in group.stages}


def test_manual_approval_before_production_notifies_the_topic(example: Synthesized) -> None:
    pipeline = _pipeline(example, "house-price-linear-learner")
    (action,) = _stage(pipeline, contract.approval_stage_name("production"))["Actions"]
    assert action["Name"] == contract.ACTION_APPROVE
    assert action["ActionTypeId"]["Category"] == "Approval"
    assert action["Configuration"]["NotificationArn"] == {
        "Fn::ImportValue": export_name("topic_arn")
    }
    (topic_id,) = example.resources("AWS::SNS::Topic")
    example.template.has_output(
        "*", {"Value": {"Ref": topic_id}, "Export": {"Name": export_name("topic_arn")}}
    )


def test_deploy_parameters_carry_the_variable_arn_rollout_and_stage_alarms(
    gated: Synthesized,
) -> None:
    # GIVEN the LINEAR production stage of the fraud group
    pipeline = _pipeline(gated, "fraud-detector")
    actions = {a["Name"]: a for a in _stage(pipeline, "production")["Actions"]}

    # WHEN its UserParameters are parsed the way the handlers parse them
    deploy = DeployParameters.from_json(_user_parameters(actions["Deploy"]))
    smoke = SmokeTestParameters.from_json(_user_parameters(actions["SmokeTest"]))
    bake = BakeParameters.from_json(_user_parameters(actions["Bake"]))

    # THEN they hold the exact-version variable, the rollout and the stage's alarm names
    alarm_names = (
        contract.alarm_name("fraud-detector", "production", "5xx"),
        contract.alarm_name("fraud-detector", "production", "latency"),
        contract.alarm_name("fraud-detector", "production", "4xx"),
    )
    assert deploy.model_package_arn == VERSION_ARN
    assert (deploy.endpoint_name, deploy.instance_type, deploy.instance_count) == (
        "fraud-production",
        "ml.c5.xlarge",
        5,
    )
    assert (deploy.rollout.type, deploy.rollout.percent, deploy.rollout.wait_seconds) == (
        "LINEAR",
        20,
        120,
    )
    assert deploy.keep_configs == 5
    assert deploy.alarm_names == alarm_names
    assert bake.alarm_names == alarm_names
    assert bake.bake_minutes == 30
    assert smoke.endpoint_name == "fraud-production"
    assert smoke.model_package_arn == VERSION_ARN


def test_deploy_passes_the_configured_execution_role_when_one_is_given(gated: Synthesized) -> None:
    pipeline = _pipeline(gated, "churn-predictor")
    (deploy,) = [a for a in _stage(pipeline, "live")["Actions"] if a["Name"] == "Deploy"]
    parameters = DeployParameters.from_json(_user_parameters(deploy))
    assert (
        parameters.execution_role_arn
        == "arn:aws:iam::123456789012:role/greenlight/existing-sagemaker-role"
    )


def test_every_pipeline_keeps_its_artifacts_in_the_shared_bucket(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        store = _pipeline(synthesized, group.name)["ArtifactStore"]
        assert store["Type"] == "S3"
        assert {"Fn::ImportValue": export_name("artifact_bucket_arn")} in _walk(store["Location"])
        assert synthesized.group(group.name).resources("AWS::S3::Bucket") == {}


def _walk(value: Any) -> list[Any]:
    """``value`` and every value nested in it."""
    if isinstance(value, dict):
        return [value, *(item for child in value.values() for item in _walk(child))]
    if isinstance(value, list):
        return [value, *(item for child in value for item in _walk(child))]
    return [value]


def test_artifact_bucket_is_encrypted_private_and_ssl_only(synthesized: Synthesized) -> None:
    bucket_id = synthesized.exported_id("artifact_bucket_arn")
    bucket = synthesized.resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    assert bucket["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]
    synthesized.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


#: CodePipeline keeps a pipeline's execution history for 12 months; a leap year has 366 days.
CODEPIPELINE_HISTORY_DAYS = 366


def test_artifacts_outlive_every_execution_a_rollback_can_target(synthesized: Synthesized) -> None:
    # GIVEN the pipelines' shared artifact bucket
    bucket_id = synthesized.exported_id("artifact_bucket_arn")
    bucket = synthesized.resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])

    # WHEN its lifecycle rules expire objects
    expiring = [r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r]

    # THEN some do, and none before CodePipeline forgets the executions a rollback reuses
    assert expiring
    assert all(days > CODEPIPELINE_HISTORY_DAYS for days in expiring), expiring
