"""Each account's endpoints and alarms are emulated in that account: a request is served
by the emulation of the account its credentials belong to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from accounts_fixtures import assumed_client
from moto import mock_aws

from pipeline_scripts.emulation.accounts import EmulatedAccounts
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.service import ServiceRoutes
from pipeline_scripts.sandbox.accounts import client_in, operator_key
from pipeline_scripts.sandbox.routing import route_sagemaker

pytestmark = pytest.mark.integration

TOOLING = "123456789012"
PRODUCTION = "210987654321"
PACKAGE = f"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package/churn/1"


@pytest.fixture
def accounts() -> Iterator[EmulatedAccounts]:
    with mock_aws():
        emulated = EmulatedAccounts(VirtualClock(), home=(TOOLING, "us-east-1"))
        routes = ServiceRoutes()
        route_sagemaker(routes, emulated)
        try:
            yield emulated
        finally:
            routes.uninstall()


def _in(account: str, service: str) -> Any:
    return assumed_client(f"arn:aws:iam::{account}:role/greenlight-deployment", service)


def _endpoint(sagemaker: Any, name: str) -> None:
    sagemaker.create_model(
        ModelName=f"{name}-v1",
        Containers=[{"ModelPackageName": PACKAGE}],
        ExecutionRoleArn=f"arn:aws:iam::{PRODUCTION}:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-v1",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v1")


def test_an_endpoint_created_in_production_is_emulated_there_only(
    accounts: EmulatedAccounts,
) -> None:
    # GIVEN production's client
    sagemaker = _in(PRODUCTION, "sagemaker")
    # WHEN it creates an endpoint and provisioning time passes
    _endpoint(sagemaker, "churn-production")
    creating = sagemaker.describe_endpoint(EndpointName="churn-production")["EndpointStatus"]
    accounts.clock.sleep(600)
    # THEN production's emulation provisioned it, and the tooling account saw nothing
    assert creating == "Creating"
    assert sagemaker.describe_endpoint(EndpointName="churn-production")["EndpointStatus"] == (
        "InService"
    )
    assert [event.what for event in accounts.of(PRODUCTION, "us-east-1").events] == [
        "create",
        "in-service",
    ]
    assert accounts.at_home.events == []


def test_a_version_declared_bad_raises_its_alarm_in_the_account_it_runs_in(
    accounts: EmulatedAccounts,
) -> None:
    # GIVEN a bad version, and production's 5XX alarm on its endpoint
    accounts.declare_behaviour(PACKAGE, healthy=False)
    cloudwatch = _in(PRODUCTION, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="churn-production-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": "churn-production"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
    )
    # WHEN production serves it for a while
    _endpoint(_in(PRODUCTION, "sagemaker"), "churn-production")
    accounts.clock.sleep(900)
    # THEN production's alarm is in ALARM
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["churn-production-5xx"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"


def test_update_endpoint_is_served_by_the_callers_account(accounts: EmulatedAccounts) -> None:
    # GIVEN an endpoint in production, in service
    sagemaker = _in(PRODUCTION, "sagemaker")
    _endpoint(sagemaker, "churn-production")
    accounts.clock.sleep(600)
    # WHEN production updates it to the same config
    sagemaker.update_endpoint(
        EndpointName="churn-production", EndpointConfigName="churn-production-v1"
    )
    # THEN production's emulation took the update
    assert len(accounts.of(PRODUCTION, "us-east-1").update_requests) == 1
    assert accounts.at_home.update_requests == []


def test_the_sandbox_operator_of_a_target_account_acts_in_that_account() -> None:
    # GIVEN moto
    with mock_aws():
        # WHEN the sandbox makes a client as production's operator, twice
        first = operator_key(PRODUCTION)
        identity = client_in(PRODUCTION, "us-east-1", "sts").get_caller_identity()
        again = operator_key(PRODUCTION)
    # THEN it is production's IAM user, with one key however often it is asked for
    assert identity["Account"] == PRODUCTION
    assert identity["Arn"] == f"arn:aws:iam::{PRODUCTION}:user/sandbox-operator"
    assert again == first
