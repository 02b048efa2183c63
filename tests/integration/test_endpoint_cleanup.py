"""The endpoint cleanup custom resource against moto: ``cdk destroy`` leaves no endpoint."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from endpoint_cleanup.handler import handler
from endpoint_cleanup.logic import CleanupRequest, InvalidCleanupRequest, on_event

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parent.parent / "events"
STAGING = "house-price-staging"
PRODUCTION = "house-price-production"
UNRELATED = "fraud-detector-production"


@pytest.fixture
def delete_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (EVENTS / "custom_resource_endpoint_cleanup_delete.json").read_text()
    )
    return event


@pytest.fixture
def sagemaker() -> Iterator[SageMakerClient]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name="us-east-1")


def _deploy(sagemaker: SageMakerClient, endpoint: str, *suffixes: str) -> None:
    """What the deploy action leaves behind: a model and a config per version, and the
    endpoint on the last config."""
    for suffix in suffixes:
        sagemaker.create_model(
            ModelName=f"{endpoint}-{suffix}",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/greenlight-sagemaker",
            PrimaryContainer={
                "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                "ModelDataUrl": "s3://greenlight-example-models/house-price/model.tar.gz",
            },
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{endpoint}-{suffix}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{endpoint}-{suffix}",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
    sagemaker.create_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-{suffixes[-1]}"
    )


def _endpoints(sagemaker: SageMakerClient) -> set[str]:
    return {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}


def _configs(sagemaker: SageMakerClient) -> set[str]:
    return {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}


def _models(sagemaker: SageMakerClient) -> set[str]:
    return {m["ModelName"] for m in sagemaker.list_models()["Models"]}


def _request(event: dict[str, Any], **properties: Any) -> CleanupRequest:
    changed = copy.deepcopy(event)
    changed["ResourceProperties"].update(properties)
    return CleanupRequest.from_event(changed)


def test_delete_removes_the_groups_endpoints_configs_and_models_and_nothing_else(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN both stages deployed twice, and another team's endpoint
    _deploy(sagemaker, STAGING, "v1-0105", "v2-0106")
    _deploy(sagemaker, PRODUCTION, "v1-0105", "v2-0107")
    _deploy(sagemaker, UNRELATED, "v9-0101")

    # WHEN the stack is deleted
    result = on_event(CleanupRequest.from_event(delete_event), sagemaker=sagemaker)

    # THEN the group's endpoints, configs and models are gone; the other team's remain
    assert _endpoints(sagemaker) == {UNRELATED}
    assert _configs(sagemaker) == {f"{UNRELATED}-v9-0101"}
    assert _models(sagemaker) == {f"{UNRELATED}-v9-0101"}
    assert result.deleted_endpoints == (STAGING, PRODUCTION)
    assert sorted(result.deleted_endpoint_configs) == [
        f"{PRODUCTION}-v1-0105",
        f"{PRODUCTION}-v2-0107",
        f"{STAGING}-v1-0105",
        f"{STAGING}-v2-0106",
    ]


def test_delete_with_retain_endpoints_true_keeps_everything(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN deployed stages and a config that says retainEndpointsOnDestroy
    _deploy(sagemaker, STAGING, "v1-0105")
    _deploy(sagemaker, PRODUCTION, "v1-0105")
    request = _request(delete_event, RetainEndpoints="true")

    # WHEN the stack is deleted
    result = on_event(request, sagemaker=sagemaker)

    # THEN endpoints, configs and models are all still there, reported as retained
    assert _endpoints(sagemaker) == {STAGING, PRODUCTION}
    assert len(_configs(sagemaker)) == 2
    assert len(_models(sagemaker)) == 2
    assert result.to_response()["Data"]["RetainedEndpoints"] == f"{STAGING},{PRODUCTION}"


def test_delete_ignores_an_endpoint_that_was_never_created(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN only staging was ever deployed (production never got a version)
    _deploy(sagemaker, STAGING, "v1-0105")

    # WHEN the stack is deleted
    result = on_event(CleanupRequest.from_event(delete_event), sagemaker=sagemaker)

    # THEN staging is gone, and the missing production endpoint is no error
    assert _endpoints(sagemaker) == set()
    assert result.deleted_endpoints == (STAGING,)


def test_delete_still_removes_leftover_configs_when_the_endpoint_is_already_gone(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN staging's endpoint was deleted by hand, its configs and models left behind
    _deploy(sagemaker, STAGING, "v1-0105")
    sagemaker.delete_endpoint(EndpointName=STAGING)

    # WHEN the stack is deleted
    result = on_event(CleanupRequest.from_event(delete_event), sagemaker=sagemaker)

    # THEN the leftovers are removed too
    assert _configs(sagemaker) == set()
    assert _models(sagemaker) == set()
    assert result.deleted_endpoints == ()


def test_a_retried_delete_succeeds_with_nothing_left_to_do(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN a Delete that already ran
    _deploy(sagemaker, STAGING, "v1-0105")
    request = CleanupRequest.from_event(delete_event)
    on_event(request, sagemaker=sagemaker)

    # WHEN CloudFormation sends it again
    again = on_event(request, sagemaker=sagemaker)

    # THEN it succeeds and reports nothing deleted
    assert again.deleted_endpoints == ()
    assert again.deleted_endpoint_configs == ()
    assert again.deleted_models == ()


def test_create_names_the_resource_after_the_group_and_touches_no_endpoint(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN a running endpoint and a Create request (no physical id yet)
    _deploy(sagemaker, STAGING, "v1-0105")
    event = copy.deepcopy(delete_event)
    event["RequestType"] = "Create"
    del event["PhysicalResourceId"]

    # WHEN it is handled
    result = on_event(CleanupRequest.from_event(event), sagemaker=sagemaker)

    # THEN the resource is named after the group and the endpoint is untouched
    assert result.to_response()["PhysicalResourceId"] == (
        "greenlight-endpoint-cleanup-house-price-linear-learner"
    )
    assert _endpoints(sagemaker) == {STAGING}


def test_update_keeps_the_physical_id_so_cloudformation_sends_no_delete(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN an Update that renames the group (new properties, old physical id)
    _deploy(sagemaker, STAGING, "v1-0105")
    event = copy.deepcopy(delete_event)
    event["RequestType"] = "Update"
    event["PhysicalResourceId"] = "greenlight-endpoint-cleanup-old-name"
    event["ResourceProperties"]["GroupName"] = "new-name"

    # WHEN it is handled
    result = on_event(CleanupRequest.from_event(event), sagemaker=sagemaker)

    # THEN the physical id is the old one and the endpoint is untouched
    assert result.physical_resource_id == "greenlight-endpoint-cleanup-old-name"
    assert _endpoints(sagemaker) == {STAGING}


def test_handler_deletes_the_endpoints_named_by_the_recorded_delete_event(
    sagemaker: SageMakerClient, delete_event: dict[str, Any]
) -> None:
    # GIVEN both stages deployed
    _deploy(sagemaker, STAGING, "v1-0105")
    _deploy(sagemaker, PRODUCTION, "v1-0105")

    # WHEN the Lambda handler receives the Provider framework's Delete event
    response = handler(delete_event, None)

    # THEN both are deleted and the response keeps the physical id
    assert _endpoints(sagemaker) == set()
    assert response == {
        "PhysicalResourceId": "greenlight-endpoint-cleanup-house-price-linear-learner",
        "Data": {"DeletedEndpoints": f"{STAGING},{PRODUCTION}", "RetainedEndpoints": ""},
    }


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (
            {"RetainEndpoints": "yes"},
            'endpoint cleanup request: ResourceProperties.RetainEndpoints must be "true" or '
            "\"false\", got 'yes'",
        ),
        (
            {"EndpointNames": "house-price-staging"},
            "endpoint cleanup request: ResourceProperties.EndpointNames must be a list of "
            "endpoint names, got 'house-price-staging'",
        ),
    ],
)
def test_malformed_properties_are_refused_naming_the_field(
    delete_event: dict[str, Any], properties: dict[str, Any], message: str
) -> None:
    # GIVEN / WHEN a Delete event with a malformed property
    with pytest.raises(InvalidCleanupRequest) as error:
        _request(delete_event, **properties)

    # THEN the error names the property and the bad value
    assert str(error.value) == message


def test_an_unknown_request_type_is_refused_naming_the_field(
    delete_event: dict[str, Any],
) -> None:
    # GIVEN an event that is not a custom resource request
    event = copy.deepcopy(delete_event)
    event["RequestType"] = "Destroy"

    # WHEN / THEN it is refused, naming RequestType
    with pytest.raises(InvalidCleanupRequest, match="RequestType must be one of"):
        CleanupRequest.from_event(event)
