"""Endpoint teardown: ``cdk destroy`` leaves no pipeline-created endpoint running, unless
the group's configuration retains them. The custom resource as synthesized, its order
against the pipeline, its roles, and its Delete run through the real handler on moto."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from moto import mock_aws

from endpoint_cleanup.handler import handler as cleanup_handler
from shared import contract
from stacks.endpoint_cleanup import RESOURCE_TYPE
from stacks.shared_refs import export_name
from tests.infrastructure.conftest import Synthesized, as_list, load_event, render

pytestmark = pytest.mark.infrastructure

HANDLER = "endpoint_cleanup.handler.handler"
SAGEMAKER_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/greenlight/test-model-role"


def _cleanup(synth: Synthesized, group: str) -> tuple[str, dict[str, Any]]:
    found = [
        (logical_id, resource)
        for logical_id, resource in synth.group(group).resources(RESOURCE_TYPE).items()
        if resource["Properties"][contract.PROP_GROUP_NAME] == group
    ]
    assert len(found) == 1, f"expected one endpoint cleanup for {group}, found {len(found)}"
    return found[0]


def test_one_cleanup_per_group_naming_each_stage_endpoint_in_order(
    synthesized: Synthesized,
) -> None:
    synthesized.template.resource_count_is(RESOURCE_TYPE, 0)
    for group in synthesized.config.model_groups:
        synthesized.group(group.name).template.resource_count_is(RESOURCE_TYPE, 1)
        _, resource = _cleanup(synthesized, group.name)
        properties = resource["Properties"]
        assert properties[contract.PROP_ENDPOINT_NAMES] == list(group.endpoint_names)
        expected = "true" if group.retain_endpoints_on_destroy else "false"
        assert properties[contract.PROP_RETAIN_ENDPOINTS] == expected


def test_retain_endpoints_on_destroy_is_passed_as_the_string_the_handler_reads(
    example: Synthesized, gated: Synthesized
) -> None:
    # GIVEN the example (endpoints deleted) and a group that retains its endpoints
    (_, example_cleanup) = _cleanup(example, "house-price-linear-learner")
    (_, retained) = _cleanup(gated, "churn-predictor")
    (_, deleted) = _cleanup(gated, "fraud-detector")

    # THEN CloudFormation hands the handler "true" or "false"
    assert example_cleanup["Properties"][contract.PROP_RETAIN_ENDPOINTS] == "false"
    assert retained["Properties"][contract.PROP_RETAIN_ENDPOINTS] == "true"
    assert deleted["Properties"][contract.PROP_RETAIN_ENDPOINTS] == "false"


def test_cleanup_is_served_by_a_provider_framework_relaying_to_the_cleanup_function(
    synthesized: Synthesized,
) -> None:
    resources = synthesized.template_json["Resources"]
    framework_id = synthesized.exported_id("endpoint_cleanup_service_token")
    framework = resources[framework_id]["Properties"]
    # GIVEN each group's cleanup resource THEN its service token is the shared export
    for group in synthesized.config.model_groups:
        _, resource = _cleanup(synthesized, group.name)
        assert resource["Properties"]["ServiceToken"] == {
            "Fn::ImportValue": export_name("endpoint_cleanup_service_token")
        }
    # AND that is the framework's onEvent function, which invokes the cleanup function
    assert framework["Handler"] == "framework.onEvent"
    target = framework["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"]
    assert target == {"Fn::GetAtt": [synthesized.function_id(HANDLER), "Arn"]}


def test_pipeline_depends_on_the_cleanup_so_the_cleanup_runs_after_the_pipeline_is_deleted(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        # GIVEN the group's pipeline and its cleanup resource
        cleanup_id, _ = _cleanup(synthesized, group.name)
        (pipeline,) = (
            synthesized.group(group.name).resources("AWS::CodePipeline::Pipeline").values()
        )
        # THEN CloudFormation deletes the pipeline first (dependents go before what
        # they depend on), so no Deploy action can start once the cleanup runs
        assert cleanup_id in pipeline["DependsOn"]


TAGGED = {"StringLike": {f"aws:ResourceTag/{contract.TAG_ENDPOINT}": "*"}}


def test_cleanup_role_deletes_only_what_deploy_tagged(synthesized: Synthesized) -> None:
    # GIVEN the shared cleanup function's role
    statements = synthesized.role_statements(synthesized.function_id(HANDLER))
    allowed: dict[str, list[tuple[set[str], Any]]] = {}
    for statement in statements:
        for action in as_list(statement["Action"]):
            allowed.setdefault(action, []).append(
                ({render(r) for r in as_list(statement["Resource"])}, statement.get("Condition"))
            )

    # THEN each delete is held to the endpoint tag Deploy puts on what it creates
    for action, kind in (
        ("sagemaker:DeleteEndpoint", "endpoint"),
        ("sagemaker:DeleteEndpointConfig", "endpoint-config"),
        ("sagemaker:DeleteModel", "model"),
    ):
        ((resources, condition),) = allowed[action]
        assert f"{SAGEMAKER_ARN}{kind}/*" in resources, action
        assert condition == TAGGED, action
    # AND it may look an endpoint up first (a missing one carries no tag to check)
    assert allowed["sagemaker:DescribeEndpoint"] == [({f"{SAGEMAKER_ARN}endpoint/*"}, None)]
    # AND only the list calls, which have no resource-level permissions, are on "*"
    assert allowed["sagemaker:ListEndpointConfigs"] == [({"*"}, None)]
    assert allowed["sagemaker:ListModels"] == [({"*"}, None)]
    # AND nothing else but its own logs
    assert set(allowed) == {
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "sagemaker:ListEndpointConfigs",
        "sagemaker:ListModels",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_framework_function_has_an_unmanaged_role_that_only_invokes_the_cleanup(
    synthesized: Synthesized,
) -> None:
    resources = synthesized.template_json["Resources"]
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    # GIVEN the framework function of the shared cleanup
    framework_id = synthesized.exported_id("endpoint_cleanup_service_token")
    framework = resources[framework_id]["Properties"]
    role_id = framework["Role"]["Fn::GetAtt"][0]
    cleanup_arn = f"<{synthesized.function_id(HANDLER)}.Arn>"

    # THEN its role has no managed policy and may only invoke and read the cleanup
    assert "ManagedPolicyArns" not in resources[role_id]["Properties"]
    allowed = {
        action: sorted(render(r) for r in as_list(statement["Resource"]))
        for statement in synthesized.role_statements(framework_id)
        for action in as_list(statement["Action"])
    }
    assert allowed == {
        "lambda:InvokeFunction": sorted([cleanup_arn, f"{cleanup_arn}:*"]),
        "lambda:GetFunction": [cleanup_arn],
        "logs:CreateLogStream": allowed["logs:CreateLogStream"],
        "logs:PutLogEvents": allowed["logs:PutLogEvents"],
    }
    # AND its logs and environment are encrypted with the stack key
    log_group = resources[framework["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["RetentionInDays"] == 90
    assert framework["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}


# --- the Delete, as CloudFormation sends it, through the real handler ------------------


def _delete_event(resource: dict[str, Any]) -> dict[str, Any]:
    """The recorded Delete request, carrying the synthesized ResourceProperties."""
    event = copy.deepcopy(load_event("custom_resource_endpoint_cleanup_delete.json"))
    properties = {
        key: value for key, value in resource["Properties"].items() if key != "ServiceToken"
    }
    event["ResourceProperties"] = {
        "ServiceToken": event["ResourceProperties"]["ServiceToken"],
        **properties,
    }
    event["ResourceType"] = resource["Type"]
    return event


def _deploy_like(sagemaker: Any, endpoint: str, suffix: str) -> str:
    """An endpoint (or a new config for it) named the way Deploy names them."""
    name = f"{endpoint}-{suffix}"
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1"},
        ExecutionRoleArn=EXECUTION_ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": contract.VARIANT_NAME,
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    return name


def _names(sagemaker: Any) -> tuple[set[str], set[str], set[str]]:
    endpoints = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    configs = {
        c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    }
    models = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    return endpoints, configs, models


def test_destroy_deletes_every_stage_endpoint_with_its_configs_and_models_only(
    example: Synthesized, aws_credentials: None
) -> None:
    # GIVEN the example group's cleanup as synthesized and its endpoints live on moto,
    # one with an older config kept for rollback, plus an endpoint Greenlight does not own
    _, resource = _cleanup(example, "house-price-linear-learner")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        for endpoint in ("house-price-staging", "house-price-production"):
            _deploy_like(sagemaker, endpoint, "v1-aaaa")
            live = _deploy_like(sagemaker, endpoint, "v2-bbbb")
            sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=live)
        other = _deploy_like(sagemaker, "team-b-endpoint", "v1-cccc")
        sagemaker.create_endpoint(EndpointName="team-b-endpoint", EndpointConfigName=other)

        # WHEN CloudFormation deletes the resource
        response = cleanup_handler(_delete_event(resource), None)

        # THEN only the other team's endpoint, config and model are left
        assert _names(sagemaker) == ({"team-b-endpoint"}, {other}, {other})
    assert response["PhysicalResourceId"]
    assert response["Data"]["DeletedEndpoints"] == "house-price-staging,house-price-production"


def test_destroy_leaves_the_endpoints_of_a_group_that_retains_them(
    gated: Synthesized, aws_credentials: None
) -> None:
    # GIVEN a group configured with retainEndpointsOnDestroy and its endpoint live
    _, resource = _cleanup(gated, "churn-predictor")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        live = _deploy_like(sagemaker, "churn-live", "v3-dddd")
        sagemaker.create_endpoint(EndpointName="churn-live", EndpointConfigName=live)

        # WHEN CloudFormation deletes the resource
        response = cleanup_handler(_delete_event(resource), None)

        # THEN the endpoint, its config and its model are all still there
        assert _names(sagemaker) == ({"churn-live"}, {live}, {live})
    assert response["Data"]["RetainedEndpoints"] == "churn-live"
