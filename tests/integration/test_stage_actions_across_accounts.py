"""Bake and the endpoint cleanup act in the stage's own account, through its role, when
the stage's parameters name one; a role that does not trust them fails the action
naming sts:AssumeRole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from accounts_fixtures import assumed_client, put_5xx_alarm, running_as

from bake import logic as bake_logic
from endpoint_cleanup.logic import CleanupRequest, on_event
from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.iam import IamCheck, Role
from pipeline_scripts.emulation.jobs import EmulatedJobs, drive
from shared import contract
from shared.parameters import BakeParameters
from shared.stage_access import StageTarget

TOOLING = "123456789012"
PRODUCTION = "210987654321"
FUNCTION = "greenlight-stage-action"
FUNCTION_ROLE_ARN = f"arn:aws:iam::{TOOLING}:role/stage-action-role"
STAGE_ROLE_ARN = f"arn:aws:iam::{PRODUCTION}:role/greenlight-deployment"
ALARM = contract.alarm_name("churn", "production", "5xx")
PACKAGE = f"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package/churn/1"

FUNCTION_ROLE = Role(
    name="stage-action-role",
    arn=FUNCTION_ROLE_ARN,
    statements=(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": STAGE_ROLE_ARN},
        {"Effect": "Allow", "Action": "codepipeline:PutJob*", "Resource": "*"},
    ),
)


def _stage_role(trusted: str) -> Role:
    return Role(
        name="greenlight-deployment",
        arn=STAGE_ROLE_ARN,
        statements=(
            # Wider than the target stack's role: the tests set production up with it.
            {
                "Effect": "Allow",
                "Action": ["cloudwatch:*", "sagemaker:*", "iam:PassRole"],
                "Resource": "*",
            },
        ),
        trust=({"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"},),
    )


@pytest.fixture
def checkpoint() -> Iterator[RequestCheckpoint]:
    with running_as(FUNCTION) as checkpoint:
        yield checkpoint


def _production(service: str) -> Any:
    return assumed_client(STAGE_ROLE_ARN, service)


def _bake_in_production() -> Any:
    params = BakeParameters(
        group="churn",
        stage="production",
        endpoint_name="churn-production",
        model_package_arn=PACKAGE,
        alarm_names=(ALARM,),
        bake_minutes=0,
    )
    raw = {**json.loads(params.to_json()), **StageTarget(role_arn=STAGE_ROLE_ARN).to_parameters()}
    return drive(
        lambda event, _context: bake_logic.run(event, codepipeline=jobs),
        jobs,
        user_parameters=json.dumps(raw),
        function_name=FUNCTION,
        max_invocations=1,
    )


jobs = EmulatedJobs()


def test_bake_reads_the_alarms_of_the_stages_account(checkpoint: RequestCheckpoint) -> None:
    # GIVEN a production role trusting the function, and the stage's alarm in production
    checkpoint.add(
        IamCheck.for_functions(
            {FUNCTION: FUNCTION_ROLE}, account=TOOLING, declared=[_stage_role(FUNCTION_ROLE_ARN)]
        )
    )
    put_5xx_alarm(_production("cloudwatch"), ALARM)
    # WHEN Bake runs for the production stage
    run = _bake_in_production()
    # THEN it found the alarm in production (the tooling account has none)
    tooling = boto3.client(
        "cloudwatch", aws_access_key_id="AKIASANDBOXOPERATOR1", aws_secret_access_key="sandbox"
    )
    assert tooling.describe_alarms()["MetricAlarms"] == []
    assert run.status == "Succeeded", run.message


def test_bake_fails_naming_assume_role_when_the_stage_role_does_not_trust_it(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a production role that trusts some other role only
    other = f"arn:aws:iam::{TOOLING}:role/recorder"
    checkpoint.add(
        IamCheck.for_functions(
            {FUNCTION: FUNCTION_ROLE}, account=TOOLING, declared=[_stage_role(other)]
        )
    )
    # WHEN Bake runs for the production stage
    run = _bake_in_production()
    # THEN the action failed with STS's AccessDenied, naming the action and the role
    assert run.status == "Failed"
    message = run.message or ""
    assert "AccessDenied" in message
    assert f"not authorized to perform: sts:AssumeRole on resource: {STAGE_ROLE_ARN}" in message


def test_the_cleanup_deletes_an_endpoint_in_the_stages_account(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN an endpoint in production, and none in the tooling account
    checkpoint.add(
        IamCheck.for_functions(
            {FUNCTION: FUNCTION_ROLE}, account=TOOLING, declared=[_stage_role(FUNCTION_ROLE_ARN)]
        )
    )
    sagemaker = _production("sagemaker")
    sagemaker.create_model(
        ModelName="churn-production-v1-abcdef",
        PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"},
        ExecutionRoleArn=f"arn:aws:iam::{PRODUCTION}:role/model-execution",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-production-v1-abcdef",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "churn-production-v1-abcdef",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName="churn-production", EndpointConfigName="churn-production-v1-abcdef"
    )
    event = {
        "RequestType": "Delete",
        "PhysicalResourceId": "greenlight-endpoint-cleanup-churn",
        "LogicalResourceId": "Cleanup",
        "ResourceProperties": {
            contract.PROP_GROUP_NAME: "churn",
            contract.PROP_ENDPOINT_NAMES: ["churn-production"],
            contract.PROP_STAGE_TARGETS: {
                "churn-production": StageTarget(role_arn=STAGE_ROLE_ARN).to_parameters()
            },
        },
    }
    # WHEN the stack is deleted
    result = on_event(CleanupRequest.from_event(event))
    # THEN production's endpoint and config are gone
    assert result.deleted_endpoints == ("churn-production",)
    assert result.deleted_endpoint_configs == ("churn-production-v1-abcdef",)
    assert result.deleted_models == ("churn-production-v1-abcdef",)
    assert sagemaker.list_endpoints()["Endpoints"] == []
