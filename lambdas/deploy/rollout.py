"""The endpoint change itself: the model, the config, and CreateEndpoint or a blue/green
UpdateEndpoint with the stage's rollout and alarms (or at once, when the fleet being
replaced is itself the problem: see ``deploy.logic``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from deploy.progress import Progress
from deploy.resources import TAG_ENDPOINT, TAG_PACKAGE_ARN, exists, live_version
from shared import contract
from shared.alarms import alarms_firing
from shared.observability import logger
from shared.parameters import DeployParameters, Rollout

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import ProductionVariantTypeDef


def deployment_config(rollout: Rollout, alarm_names: tuple[str, ...]) -> dict[str, Any]:
    """The UpdateEndpoint DeploymentConfig for a stage's rollout and alarms."""
    routing: dict[str, Any] = {"Type": rollout.type, "WaitIntervalInSeconds": rollout.wait_seconds}
    if rollout.type == contract.ROLLOUT_CANARY:
        routing["CanarySize"] = {"Type": contract.CAPACITY_PERCENT, "Value": rollout.percent}
    elif rollout.type == contract.ROLLOUT_LINEAR:
        routing["LinearStepSize"] = {"Type": contract.CAPACITY_PERCENT, "Value": rollout.percent}
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": rollout.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": rollout.max_execution_timeout_seconds,
        }
    }
    if alarm_names:
        config["AutoRollbackConfiguration"] = {
            "Alarms": [{"AlarmName": name} for name in alarm_names]
        }
    return config


def start_rollout(
    params: DeployParameters,
    progress: Progress,
    live: Mapping[str, Any] | None,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
) -> None:
    """Create the model and config (unless a previous attempt did), then CreateEndpoint
    or UpdateEndpoint."""
    name = progress.requested_config
    tags = [
        {"Key": TAG_PACKAGE_ARN, "Value": params.model_package_arn},
        {"Key": TAG_ENDPOINT, "Value": params.endpoint_name},
    ]
    if not exists(lambda: sagemaker.describe_model(ModelName=name)):
        sagemaker.create_model(
            ModelName=name,
            Containers=[{"ModelPackageName": params.model_package_arn}],
            ExecutionRoleArn=params.execution_role_arn,
            Tags=tags,  # type: ignore[arg-type]
        )
    variant: ProductionVariantTypeDef = {
        "VariantName": params.variant_name,
        "ModelName": name,
        "InstanceType": params.instance_type,  # type: ignore[typeddict-item]
        "InitialInstanceCount": params.instance_count,
        "InitialVariantWeight": 1.0,
    }
    if not exists(lambda: sagemaker.describe_endpoint_config(EndpointConfigName=name)):
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[variant],
            Tags=tags,  # type: ignore[arg-type]
        )
    if live is None:
        logger.info("creating endpoint %s on %s", params.endpoint_name, name)
        sagemaker.create_endpoint(
            EndpointName=params.endpoint_name,
            EndpointConfigName=name,
            Tags=[{"Key": TAG_ENDPOINT, "Value": params.endpoint_name}],
        )
    else:
        previous = str(live["EndpointConfigName"])
        replacing = _replacing_a_bad_fleet(params, previous, sagemaker, cloudwatch)
        if replacing:
            logger.info("replacing the fleet of %s at once: %s", params.endpoint_name, replacing)
            config = deployment_config(REPLACE_AT_ONCE, ())
        else:
            config = deployment_config(params.rollout, params.alarm_names)
        logger.info("updating endpoint %s from %s to %s", params.endpoint_name, previous, name)
        sagemaker.update_endpoint(
            EndpointName=params.endpoint_name,
            EndpointConfigName=name,
            DeploymentConfig=config,  # type: ignore[arg-type]
        )


#: A fleet replaced at once with no auto-rollback alarms (see the module docstring).
REPLACE_AT_ONCE: Final = Rollout(type=contract.ROLLOUT_ALL_AT_ONCE)


def _replacing_a_bad_fleet(
    params: DeployParameters,
    live_config: str,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
) -> str | None:
    """Why the live fleet must be replaced without guardrails, or None: the requested
    version is older than the live one (a rollback), or a stage alarm is in ALARM now
    (it would trip the guardrail whichever fleet raised it)."""
    live = live_version(sagemaker, live_config)
    requested = _version_of(params.model_package_arn)
    if live is not None and _same_group(live[1], params.model_package_arn):
        live_number = _version_of(live[1])
        if requested is not None and live_number is not None and requested < live_number:
            return f"rolling back from version {live_number} to {requested}"
    firing = alarms_firing(cloudwatch, params.alarm_names)
    if firing:
        return "alarm(s) in ALARM: " + "; ".join(alarm.name for alarm in firing)
    return None


def _version_of(package_arn: str) -> int | None:
    version = package_arn.rsplit("/", 1)[-1]
    return int(version) if version.isdigit() else None


def _same_group(first_arn: str, second_arn: str) -> bool:
    return first_arn.rsplit("/", 1)[0] == second_arn.rsplit("/", 1)[0]
