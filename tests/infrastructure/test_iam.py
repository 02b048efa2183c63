"""IAM statements are scoped to the group's own ARNs; PassRole only to SageMaker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from shared.config import GreenlightConfig
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
    # trigger (1) + deploy (6) + smoke test (1) + recorder (1) + endpoint cleanup (3)
    assert checked == 12 * len(synthesized.config.model_groups)


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
            "codepipeline:GetPipelineExecution",
        }
        # RollbackStage is authorized on a stage's ARN, so the pipeline's does not grant it
        assert "codepipeline:RollbackStage" not in as_list(statement["Action"])
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


def test_created_model_execution_role_reads_its_groups_auto_rollback_alarms(
    gated: Synthesized,
) -> None:
    # GIVEN the gated app: fraud-detector's execution role is created, churn-predictor's
    # is configured
    # WHEN the statements that let the guardrail read alarms are collected
    described = [
        {render(resource) for resource in as_list(statement["Resource"])}
        for _, statement in _statements(gated)
        if statement.get("Sid") == "ReadAutoRollbackAlarms"
    ]

    # THEN exactly one, on the created role, names exactly fraud-detector's stage alarms
    assert described == [_alarm_arns(gated, "fraud-detector")]


def _created_model_role_statements(synth: Synthesized, group: str) -> list[dict[str, Any]]:
    """Every statement of the execution role the stack creates for ``group``'s models."""
    (role_id,) = [
        logical_id
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if role["Properties"].get("Description") == f"Runs the models of the {group} model "
        "package group"
    ]
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_created_model_execution_role_reads_and_decrypts_exactly_the_configured_model_data(
    synthesized: Synthesized,
) -> None:
    created = [g for g in synthesized.config.model_groups if g.model_execution_role_arn is None]
    assert created
    for group in created:
        # GIVEN the execution role the stack creates for a group, and the group's model data
        statements = _created_model_role_statements(synthesized, group.name)
        buckets = [f"arn:<AWS::Partition>:s3:::{bucket}" for bucket in group.model_data_buckets]

        # WHEN its S3 and KMS grants are collected by action
        data: dict[str, set[str]] = {}
        for statement in statements:
            for action in as_list(statement["Action"]):
                if action.startswith(("s3:", "kms:")):
                    data.setdefault(action, set()).update(
                        render(resource) for resource in as_list(statement["Resource"])
                    )

        # THEN it may read the objects of exactly those buckets, and decrypt with exactly
        # the configured keys, only when S3 asks KMS on its behalf
        expected = {
            "s3:GetObject": {f"{bucket}/*" for bucket in buckets},
            "s3:ListBucket": set(buckets),
        }
        if group.model_data_kms_key_arns:
            expected["kms:Decrypt"] = set(group.model_data_kms_key_arns)
        assert data == expected, group.name
        for statement in statements:
            if "kms:Decrypt" in as_list(statement["Action"]):
                assert statement["Condition"] == {
                    "StringEquals": {
                        "kms:ViaService": {
                            "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                        }
                    }
                }, group.name


def test_the_gated_app_decrypts_fraud_detectors_model_data_with_its_configured_key(
    gated: Synthesized,
) -> None:
    # GIVEN the gated app, whose fraud-detector artifacts are encrypted with one KMS key
    (key,) = gated.config.group("fraud-detector").model_data_kms_key_arns

    # WHEN the statements granting kms:Decrypt are collected
    decrypting = [
        statement
        for _, statement in _statements(gated)
        if "kms:Decrypt" in as_list(statement["Action"]) and key in as_list(statement["Resource"])
    ]

    # THEN exactly one grants it, on fraud-detector's created execution role
    assert decrypting == [
        statement
        for statement in _created_model_role_statements(gated, "fraud-detector")
        if "kms:Decrypt" in as_list(statement["Action"])
    ]
    assert len(decrypting) == 1


# --- each role against the calls its runtime code makes ----------------------------------

#: CloudWatch Logs for the function's own log group, and the asynchronous failure queue.
PLUMBING = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
JOB_RESULTS = {"codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"}
STACK = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:"


def _allowed(synth: Synthesized, handler: str, group: str) -> dict[str, set[str]]:
    """Action → the resources (rendered) the function's role allows it on."""
    allowed: dict[str, set[str]] = {}
    for statement in synth.role_statements(synth.function_id(handler, group)):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            allowed.setdefault(action, set()).update(
                render(resource) for resource in as_list(statement["Resource"])
            )
    return allowed


def _pipeline_arn(synth: Synthesized, group: str) -> str:
    (logical_id,) = [
        logical_id
        for logical_id, pipeline in synth.resources("AWS::CodePipeline::Pipeline").items()
        if pipeline["Properties"]["Name"] == f"greenlight-{group}"
    ]
    return STACK.format(service="codepipeline") + f"<{logical_id}>"


def _alarm_arns(synth: Synthesized, group: str) -> set[str]:
    return {
        f"<{logical_id}.Arn>"
        for logical_id, alarm in synth.resources("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"]["AlarmName"].startswith(f"greenlight-{group}-")
    }


def test_trigger_role_allows_exactly_the_calls_the_trigger_makes(synthesized: Synthesized) -> None:
    (ledger_id,) = synthesized.resources("AWS::DynamoDB::Table")
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    for group in synthesized.config.model_groups:
        # GIVEN the trigger's role
        allowed = _allowed(synthesized, "approval_trigger.handler.handler", group.name)
        versions = {STACK.format(service="sagemaker") + f"model-package/{group.name}/*"}
        pipeline = {_pipeline_arn(synthesized, group.name)}

        # THEN it re-reads a version and writes the gate refusal back to it
        assert allowed["sagemaker:DescribeModelPackage"] == versions
        assert allowed["sagemaker:UpdateModelPackage"] == versions
        # AND it reads the pipeline's history (GetPipeline: the actions a stage declares),
        # starts a run and stops one in flight, on its own pipeline
        trigger_pipeline_actions = {
            "codepipeline:GetPipeline",
            "codepipeline:GetPipelineExecution",
            "codepipeline:ListPipelineExecutions",
            "codepipeline:ListActionExecutions",
            "codepipeline:StartPipelineExecution",
            "codepipeline:StopPipelineExecution",
        }
        for action in trigger_pipeline_actions:
            assert allowed[action] == pipeline, action
        # AND it rolls back its own pipeline's deployment stages: RollbackStage is
        # authorized on the stage's ARN (the Service Authorization Reference's "stage")
        (pipeline_arn,) = pipeline
        assert allowed["codepipeline:RollbackStage"] == {
            f"{pipeline_arn}/{stage}" for stage in group.stage_names
        }
        # AND it gets, puts (also inside TransactWriteItems, which DynamoDB authorises item
        # by item) and queries ledger items, and never updates or deletes one
        ledger_actions = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
        for action in ledger_actions:
            assert allowed[action] == {f"<{ledger_id}.Arn>"}, action
        # AND it notifies through the encrypted topic
        assert allowed["sns:Publish"] == {f"<{topic_id}>"}
        assert allowed["kms:GenerateDataKey"] == allowed["kms:Decrypt"] == {f"<{key_id}.Arn>"}
        # AND nothing more
        assert set(allowed) - PLUMBING == {
            "sagemaker:DescribeModelPackage",
            "sagemaker:UpdateModelPackage",
            *trigger_pipeline_actions,
            "codepipeline:RollbackStage",
            *ledger_actions,
            "sns:Publish",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        }


def test_deploy_role_allows_exactly_the_calls_deploy_makes(synthesized: Synthesized) -> None:
    sagemaker = STACK.format(service="sagemaker")
    for group in synthesized.config.model_groups:
        # GIVEN the deploy function's role and the group's stage endpoints
        allowed = _allowed(synthesized, "deploy.handler.handler", group.name)
        names = group.endpoint_names
        models = {f"{sagemaker}model/{name}-*" for name in names}
        configs = {f"{sagemaker}endpoint-config/{name}-*" for name in names}
        endpoints = {f"{sagemaker}endpoint/{name}" for name in names}

        # THEN it creates, reads and retires its own models and configs, tagging them
        for action in ("CreateModel", "DescribeModel", "DeleteModel"):
            assert allowed[f"sagemaker:{action}"] == models, action
        for action in ("CreateEndpointConfig", "DescribeEndpointConfig", "DeleteEndpointConfig"):
            assert allowed[f"sagemaker:{action}"] == configs, action
        # AND Create* with Tags needs AddTags on what it creates
        assert allowed["sagemaker:AddTags"] == models | configs | endpoints
        # AND it creates or updates (and reads) only the stage endpoints, on its own configs
        assert allowed["sagemaker:DescribeEndpoint"] == endpoints
        # AND it deletes only a stage endpoint (one left Failed, to create it again)
        assert allowed["sagemaker:DeleteEndpoint"] == endpoints
        for action in ("CreateEndpoint", "UpdateEndpoint"):
            assert allowed[f"sagemaker:{action}"] == endpoints | configs, action
        # AND the retention sweep lists on "*" (no resource-level permissions)
        assert allowed["sagemaker:ListEndpointConfigs"] == {"*"}
        assert allowed["sagemaker:ListModels"] == {"*"}
        # AND it names the stage alarms in ALARM after a silent rollback
        assert allowed["cloudwatch:DescribeAlarms"] == _alarm_arns(synthesized, group.name)
        # AND it builds the model from this group's versions and passes only the model role
        assert allowed["sagemaker:DescribeModelPackage"] == {
            f"{sagemaker}model-package/{group.name}/*"
        }
        assert len(allowed["iam:PassRole"]) == 1
        # AND it reports its job result
        for action in JOB_RESULTS:
            assert allowed[action] == {"*"}, action
        # AND nothing more: no ledger, no topic, no registry write
        assert not {a for a in allowed if a.split(":")[0] in ("dynamodb", "sns", "kms")}
        assert "sagemaker:UpdateModelPackage" not in allowed


def test_smoke_test_role_only_invokes_the_stage_endpoints_and_reports_its_result(
    synthesized: Synthesized,
) -> None:
    sagemaker = STACK.format(service="sagemaker")
    for group in synthesized.config.model_groups:
        # GIVEN the smoke test's role
        allowed = _allowed(synthesized, "smoke_test.handler.handler", group.name)

        # THEN it invokes the stage endpoints and reports its job result, and reads the
        # bundle with the job's artifact credentials rather than any S3 grant of its own
        assert allowed["sagemaker:InvokeEndpoint"] == {
            f"{sagemaker}endpoint/{name}" for name in group.endpoint_names
        }
        assert set(allowed) - PLUMBING == {"sagemaker:InvokeEndpoint", *JOB_RESULTS}


def test_bake_role_only_reads_the_groups_alarms_and_reports_its_result(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        # GIVEN the bake function's role
        allowed = _allowed(synthesized, "bake.handler.handler", group.name)

        # THEN it reads this group's stage alarms and nothing else, and reports its result
        assert allowed["cloudwatch:DescribeAlarms"] == _alarm_arns(synthesized, group.name)
        assert set(allowed) - PLUMBING == {"cloudwatch:DescribeAlarms", *JOB_RESULTS}


def test_no_role_grants_dynamodb_transact_write_items_which_iam_does_not_define(
    synthesized: Synthesized,
) -> None:
    # DynamoDB authorises TransactWriteItems item by item (PutItem, UpdateItem, ...,
    # ConditionCheckItem); there is no dynamodb:TransactWriteItems action to grant.
    for logical_id, statement in _statements(synthesized):
        assert "dynamodb:TransactWriteItems" not in as_list(statement["Action"]), logical_id
