"""IAM statements: shared roles scoped to what Greenlight names or tags, a group's roles
to its own ARNs; PassRole only to SageMaker."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

import pytest

from shared import contract
from tests.infrastructure.conftest import Synthesized, as_list, render

pytestmark = pytest.mark.infrastructure

SAGEMAKER_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
UNSCOPED_SAGEMAKER_ACTIONS = {"sagemaker:ListModels", "sagemaker:ListEndpointConfigs"}
#: What a Deploy-made model, config or endpoint carries, and what creating one names.
TAGGED = {"StringLike": {f"aws:ResourceTag/{contract.TAG_ENDPOINT}": "*"}}
TAGGING = {"StringLike": {f"aws:RequestTag/{contract.TAG_ENDPOINT}": "*"}}
#: Reads that probe whether a resource exists: a missing one has no tag to check.
PROBES = {
    "sagemaker:DescribeModel",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeEndpoint",
}
#: Versions are registered by data scientists, untagged: any group's may be named.
VERSION_ACTIONS = {"sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"}
DEPLOYED_KINDS = ("model", "endpoint-config", "endpoint")


def _statements(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity-based statement of every stack: policies and inline role policies."""
    for stack in synth.every_stack():
        for logical_id, policy in stack.resources("AWS::IAM::Policy").items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                yield logical_id, statement
        for logical_id, role in stack.resources("AWS::IAM::Role").items():
            for policy in role["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield logical_id, statement


def test_sagemaker_actions_that_change_a_deployment_need_the_greenlight_tag(
    synthesized: Synthesized,
) -> None:
    checked = 0
    for logical_id, statement in _statements(synthesized):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("sagemaker:")}
        if not actions or actions <= UNSCOPED_SAGEMAKER_ACTIONS | PROBES | VERSION_ACTIONS:
            continue
        if actions == {"sagemaker:InvokeEndpoint"} or all(
            a.startswith(("sagemaker:Delete", "sagemaker:Update")) for a in actions
        ):
            expected = TAGGED
        else:
            expected = TAGGING
        resources = {render(r) for r in as_list(statement["Resource"])}
        assert resources <= {f"{SAGEMAKER_ARN}{kind}/*" for kind in DEPLOYED_KINDS}, logical_id
        assert statement.get("Condition") == expected, (logical_id, actions)
        checked += 1
    # deploy (create, change) + smoke test (invoke) + cleanup (delete)
    assert checked == 4


def test_version_actions_name_only_model_package_versions(synthesized: Synthesized) -> None:
    for logical_id, statement in _statements(synthesized):
        actions = {a for a in as_list(statement["Action"]) if a in VERSION_ACTIONS}
        if actions:
            resources = [render(r) for r in as_list(statement["Resource"])]
            assert resources == [f"{SAGEMAKER_ARN}model-package/*/*"], logical_id


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


def _pass_role(synth: Synthesized) -> dict[str, Any]:
    (statement,) = [
        statement
        for _, statement in _statements(synth)
        if "iam:PassRole" in as_list(statement["Action"])
    ]
    return statement


def test_the_one_pass_role_is_conditioned_on_sagemaker_and_names_the_greenlight_path(
    synthesized: Synthesized,
) -> None:
    statement = _pass_role(synthesized)
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert [render(r) for r in as_list(statement["Resource"])] == [
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/greenlight/*"
    ]


def test_configured_and_created_execution_roles_are_ones_deploy_may_pass(
    gated: Synthesized,
) -> None:
    (pattern,) = [render(r) for r in as_list(_pass_role(gated)["Resource"])]
    configured = gated.config.group("churn-predictor").model_execution_role_arn
    assert configured is not None
    as_deployed = pattern.replace("<AWS::Partition>", "aws").replace(
        "<AWS::AccountId>", "123456789012"
    )
    assert fnmatch.fnmatchcase(configured, as_deployed)
    (created,) = [
        role
        for role in gated.group("fraud-detector").resources("AWS::IAM::Role").values()
        if "sagemaker.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert created["Properties"]["Path"] == contract.EXECUTION_ROLE_PATH


def test_shared_roles_drive_only_greenlight_pipelines(synthesized: Synthesized) -> None:
    found = 0
    for logical_id, statement in _statements(synthesized):
        pipeline_actions = [
            a
            for a in as_list(statement["Action"])
            if a.startswith("codepipeline:") and not a.startswith("codepipeline:PutJob")
        ]
        if not pipeline_actions:
            continue
        found += 1
        for resource in as_list(statement["Resource"]):
            assert render(resource).startswith(
                "arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:greenlight-*"
            ), (logical_id, pipeline_actions)
    # the trigger (pipelines, stages) and the recorder
    assert found == 3


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
    stack = synth.group(group)
    (role_id,) = [
        logical_id
        for logical_id, role in stack.resources("AWS::IAM::Role").items()
        if role["Properties"].get("Description") == f"Runs the models of the {group} model "
        "package group"
    ]
    return stack.statements_of_role(role_id)


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


def _allowed(synth: Synthesized, handler: str) -> dict[str, set[str]]:
    """Action → the resources (rendered) the shared function's role allows it on."""
    allowed: dict[str, set[str]] = {}
    for statement in synth.role_statements(synth.function_id(handler)):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            allowed.setdefault(action, set()).update(
                render(resource) for resource in as_list(statement["Resource"])
            )
    return allowed


def _alarm_arns(synth: Synthesized, group: str) -> set[str]:
    return {
        f"<{logical_id}.Arn>"
        for logical_id, alarm in synth.group(group).resources("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"]["AlarmName"].startswith(f"greenlight-{group}-")
    }


PIPELINES = STACK.format(service="codepipeline") + "greenlight-*"
GREENLIGHT_ALARMS = STACK.format(service="cloudwatch") + "alarm:greenlight-*"
REGISTRY = STACK.format(service="ssm") + "parameter/greenlight/groups/*"
VERSIONS = STACK.format(service="sagemaker") + "model-package/*/*"


def test_trigger_role_allows_exactly_the_calls_the_trigger_makes(synthesized: Synthesized) -> None:
    (ledger_id,) = synthesized.resources("AWS::DynamoDB::Table")
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    # GIVEN the trigger's role
    allowed = _allowed(synthesized, "approval_trigger.handler.handler")

    # THEN it re-reads a version and writes the gate refusal back to it
    assert allowed["sagemaker:DescribeModelPackage"] == {VERSIONS}
    assert allowed["sagemaker:UpdateModelPackage"] == {VERSIONS}
    # AND it reads the group's registry entry
    assert allowed["ssm:GetParameter"] == {REGISTRY}
    # AND it reads a pipeline's history (GetPipeline: the actions a stage declares),
    # starts a run and stops one in flight, on Greenlight's pipelines
    trigger_pipeline_actions = {
        "codepipeline:GetPipeline",
        "codepipeline:GetPipelineExecution",
        "codepipeline:ListPipelineExecutions",
        "codepipeline:ListActionExecutions",
        "codepipeline:StartPipelineExecution",
        "codepipeline:StopPipelineExecution",
    }
    for action in trigger_pipeline_actions:
        assert allowed[action] == {PIPELINES}, action
    # AND it rolls back their stages: RollbackStage is authorized on the stage's ARN
    # (the Service Authorization Reference's "stage")
    assert allowed["codepipeline:RollbackStage"] == {f"{PIPELINES}/*"}
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
        "ssm:GetParameter",
        *trigger_pipeline_actions,
        "codepipeline:RollbackStage",
        *ledger_actions,
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }


def test_deploy_role_allows_exactly_the_calls_deploy_makes(synthesized: Synthesized) -> None:
    sagemaker = STACK.format(service="sagemaker")
    deployed = {f"{sagemaker}{kind}/*" for kind in DEPLOYED_KINDS}
    # GIVEN the deploy function's role
    allowed = _allowed(synthesized, "deploy.handler.handler")

    # THEN it creates (tagging) and probes models, configs and endpoints, and changes
    # or retires only tagged ones (the conditions: test above)
    for action in (
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "AddTags",
        "UpdateEndpoint",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
    ):
        assert allowed[f"sagemaker:{action}"] == deployed, action
    for action in PROBES:
        assert allowed[action] == deployed, action
    # AND the retention sweep lists on "*" (no resource-level permissions)
    assert allowed["sagemaker:ListEndpointConfigs"] == {"*"}
    assert allowed["sagemaker:ListModels"] == {"*"}
    # AND it names the stage alarms in ALARM after a silent rollback
    assert allowed["cloudwatch:DescribeAlarms"] == {GREENLIGHT_ALARMS}
    # AND it builds the model from a version and passes only a Greenlight model role
    assert allowed["sagemaker:DescribeModelPackage"] == {VERSIONS}
    assert len(allowed["iam:PassRole"]) == 1
    # AND it reports its job result
    for action in JOB_RESULTS:
        assert allowed[action] == {"*"}, action
    # AND nothing more: no ledger, no topic, no registry write
    assert not {a for a in allowed if a.split(":")[0] in ("dynamodb", "sns", "kms", "ssm")}
    assert "sagemaker:UpdateModelPackage" not in allowed


def test_smoke_test_role_only_invokes_deployed_endpoints_and_reports_its_result(
    synthesized: Synthesized,
) -> None:
    sagemaker = STACK.format(service="sagemaker")
    # GIVEN the smoke test's role
    allowed = _allowed(synthesized, "smoke_test.handler.handler")

    # THEN it invokes endpoints (tagged ones: test above) and reports its job result, and
    # reads the bundle with the job's artifact credentials rather than any S3 grant
    assert allowed["sagemaker:InvokeEndpoint"] == {f"{sagemaker}endpoint/*"}
    assert set(allowed) - PLUMBING == {"sagemaker:InvokeEndpoint", *JOB_RESULTS}


def test_bake_role_only_reads_greenlight_alarms_and_reports_its_result(
    synthesized: Synthesized,
) -> None:
    # GIVEN the bake function's role
    allowed = _allowed(synthesized, "bake.handler.handler")

    # THEN it reads Greenlight's stage alarms and nothing else, and reports its result
    assert allowed["cloudwatch:DescribeAlarms"] == {GREENLIGHT_ALARMS}
    assert set(allowed) - PLUMBING == {"cloudwatch:DescribeAlarms", *JOB_RESULTS}
    # AND every stage alarm of every group is named under that prefix
    for group in synthesized.config.model_groups:
        for alarm in synthesized.group(group.name).resources("AWS::CloudWatch::Alarm").values():
            assert fnmatch.fnmatchcase(alarm["Properties"]["AlarmName"], "greenlight-*")


def test_no_role_grants_dynamodb_transact_write_items_which_iam_does_not_define(
    synthesized: Synthesized,
) -> None:
    # DynamoDB authorises TransactWriteItems item by item (PutItem, UpdateItem, ...,
    # ConditionCheckItem); there is no dynamodb:TransactWriteItems action to grant.
    for logical_id, statement in _statements(synthesized):
        assert "dynamodb:TransactWriteItems" not in as_list(statement["Action"]), logical_id
