"""Deploy one approved model package version to one stage's endpoint.

Each invocation does one step and answers CodePipeline; waits are continuation tokens,
never sleeps, so no invocation comes near the function's timeout:

- First invocation: when the endpoint already serves the version, succeed at once.
  When it is busy (Creating, Updating, Deleting...), wait for it (a continuation token
  in the *preparing* phase) and decide again on a later invocation. When it is
  ``Failed`` (a version whose instances never started: SageMaker then accepts only
  DeleteEndpoint), delete it and create it afresh on a later invocation. Otherwise
  create a Model from the package ARN and a new EndpointConfig, then CreateEndpoint (no
  endpoint) or UpdateEndpoint, and answer in progress.
- Later invocations (the *deploying* phase) make one DescribeEndpoint each, until the
  endpoint settles.

The UpdateEndpoint is a blue/green update with the stage's rollout and its alarms as
auto-rollback alarms, unless the fleet being replaced is itself the problem: SageMaker's
alarms watch the old fleet too, so a bad fleet would undo its own replacement. When the
requested version is older than the live one (a stage rollback, a rejection rollback, a
manual rollback) or a stage alarm is in ALARM already, Deploy replaces the fleet
ALL_AT_ONCE without AutoRollbackConfiguration; Bake still watches the alarms after it.

Success needs the endpoint InService *on the requested EndpointConfig*: after a
guardrail rollback SageMaker leaves it InService on the old config, often with no
FailureReason, and that is a failure (DESIGN rule 6).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from shared import contract, jobs
from shared.alarms import alarms_firing
from shared.clock import Clock, current_clock
from shared.jobs import Failed, InProgress, JobResult, PipelineJob, Succeeded, run_job
from shared.observability import logger
from shared.parameters import DeployParameters, Rollout

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import ProductionVariantTypeDef

ACTION: Final = contract.ACTION_DEPLOY
MAX_NAME_CHARS: Final = 63
#: Tag keys on the models and endpoint configs Deploy creates.
TAG_PACKAGE_ARN: Final = "greenlight:model-package-arn"
TAG_ENDPOINT: Final = "greenlight:endpoint"
SETTLING: Final = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
#: States Deploy waits out before it acts.
BUSY: Final = SETTLING | {"Deleting"}
PREPARING: Final = "preparing"
DEPLOYING: Final = "deploying"
Phase = Literal["preparing", "deploying"]


class DeployError(RuntimeError):
    """A deployment that cannot go on; the message names the endpoint and the reason."""


@dataclass(frozen=True, kw_only=True)
class Progress:
    """What a continuation token carries between invocations."""

    started: datetime
    phase: Phase = DEPLOYING
    requested_config: str = ""
    previous_config: str | None = None
    model_name: str = ""

    def to_token(self) -> str:
        return json.dumps(
            {
                "phase": self.phase,
                "requested": self.requested_config,
                "previous": self.previous_config,
                "model": self.model_name,
                "started": self.started.isoformat(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_token(cls, token: str) -> Progress:
        try:
            raw = json.loads(token)
            phase = raw.get("phase", DEPLOYING)
            if phase not in (PREPARING, DEPLOYING):
                raise ValueError(f"unknown phase {phase!r}")
            return cls(
                phase=phase,
                requested_config=str(raw["requested"]),
                previous_config=raw["previous"],
                model_name=str(raw["model"]),
                started=datetime.fromisoformat(raw["started"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DeployError(f"continuation token is not a Deploy token ({error})") from None


def run(
    event: Mapping[str, Any],
    *,
    codepipeline: CodePipelineClient | None = None,
    sagemaker: SageMakerClient | None = None,
    cloudwatch: CloudWatchClient | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """Handle one Deploy invocation and report its result to CodePipeline."""
    clock = clock or current_clock()

    def action(job: PipelineJob) -> JobResult:
        return deploy(
            job,
            sagemaker=sagemaker or _sagemaker(),
            cloudwatch=cloudwatch or _cloudwatch(),
            clock=clock,
        )

    return run_job(event, action, action_name=ACTION, codepipeline=codepipeline, clock=clock)


def deploy(
    job: PipelineJob,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """One step of the deployment: begin (or wait to begin), or poll once."""
    params = DeployParameters.from_json(job.user_parameters)
    if not params.has_model_version:
        return jobs.nothing_to_deploy(ACTION, params.stage)
    progress = Progress.from_token(job.continuation_token) if job.continuation_token else None
    if progress is not None and progress.phase == DEPLOYING:
        return _poll(params, progress, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)
    started = progress.started if progress is not None else clock.now()
    return _begin(job, params, started, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)


def _begin(
    job: PipelineJob,
    params: DeployParameters,
    started: datetime,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """Act on the endpoint as it is now: succeed, wait, recover, or start the rollout."""
    live = _describe_endpoint(sagemaker, params.endpoint_name)
    status = live["EndpointStatus"] if live is not None else None
    if live is not None and status == "InService":
        already = _live_version(sagemaker, live["EndpointConfigName"])
        if already is not None and already[1] == params.model_package_arn:
            logger.info("%s already serves %s", params.endpoint_name, already[1])
            return _succeeded(params, live["EndpointConfigName"], already[0], "already live")
    elif live is not None and status == "Failed":
        # SageMaker accepts only DeleteEndpoint on a Failed endpoint; recreate it after.
        logger.info("deleting Failed endpoint %s", params.endpoint_name)
        sagemaker.delete_endpoint(EndpointName=params.endpoint_name)
        reason = live.get("FailureReason") or "no FailureReason given"
        return _preparing(params, started, clock, f"deleting it: it was Failed ({reason})")
    elif live is not None and status in BUSY:
        return _preparing(params, started, clock, f"waiting for it to leave {status}")
    elif live is not None:
        raise DeployError(
            f"endpoint {params.endpoint_name} is {status}; it must be InService "
            "before a new version can be deployed"
        )
    progress = _start(job, params, live, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)
    progress = Progress(
        phase=DEPLOYING,
        requested_config=progress.requested_config,
        previous_config=progress.previous_config,
        model_name=progress.model_name,
        started=started,
    )
    return _in_progress(params, progress, clock, "Creating" if live is None else "Updating")


def _poll(
    params: DeployParameters,
    progress: Progress,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """One DescribeEndpoint: settled (success or failure) or still in progress."""
    endpoint = _describe_endpoint(sagemaker, params.endpoint_name)
    if endpoint is None:
        return Failed(message=f"endpoint {params.endpoint_name} disappeared during deploy")
    status = endpoint["EndpointStatus"]
    if status in SETTLING:
        return _in_progress(params, progress, clock, status)
    return _settled(params, progress, endpoint, sagemaker=sagemaker, cloudwatch=cloudwatch)


def _in_progress(
    params: DeployParameters, progress: Progress, clock: Clock, status: str
) -> InProgress:
    waited = int((clock.now() - progress.started).total_seconds())
    return InProgress(
        continuation_token=progress.to_token(),
        summary=(
            f"{params.endpoint_name} {status} towards {progress.requested_config} "
            f"({waited} s so far)"
        ),
        external_execution_id=progress.requested_config,
    )


def _preparing(params: DeployParameters, started: datetime, clock: Clock, doing: str) -> InProgress:
    waited = int((clock.now() - started).total_seconds())
    return InProgress(
        continuation_token=Progress(phase=PREPARING, started=started).to_token(),
        summary=(
            f"endpoint {params.endpoint_name}: {doing} before deploying "
            f"{params.model_package_arn} ({waited} s so far)"
        ),
    )


def deployment_config(rollout: Rollout, alarm_names: tuple[str, ...]) -> dict[str, Any]:
    """The UpdateEndpoint DeploymentConfig for a stage's rollout and alarms."""
    routing: dict[str, Any] = {"Type": rollout.type, "WaitIntervalInSeconds": rollout.wait_seconds}
    if rollout.type == "CANARY":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": rollout.percent}
    elif rollout.type == "LINEAR":
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": rollout.percent}
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


def resource_name(endpoint_name: str, package_arn: str, job_id: str) -> str:
    """``<endpoint>-v<version>-<suffix>``: fits 63 characters and the ``<endpoint>-*`` IAM
    scope. The suffix comes from the job id, so a retried invocation reuses its names."""
    version = package_arn.rsplit("/", 1)[-1]
    if not version.isdigit():
        raise DeployError(f"model package ARN {package_arn} does not end in a version number")
    suffix = hashlib.sha256(job_id.encode()).hexdigest()[:6]
    name = f"{endpoint_name}-v{version}-{suffix}"
    if len(name) > MAX_NAME_CHARS:
        raise DeployError(
            f"endpoint name {endpoint_name} is too long to name its configs "
            f"({name} is {len(name)} characters, SageMaker allows {MAX_NAME_CHARS})"
        )
    return name


def owned_name_pattern(endpoint_name: str) -> re.Pattern[str]:
    """Names Deploy gave to this endpoint's models and configs (and to no other's)."""
    return re.compile(rf"{re.escape(endpoint_name)}-v\d+-[0-9a-f]{{6}}")


# --- steps -------------------------------------------------------------------------


def _start(
    job: PipelineJob,
    params: DeployParameters,
    live: Mapping[str, Any] | None,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> Progress:
    """Create the model and config, then CreateEndpoint or UpdateEndpoint."""
    name = resource_name(params.endpoint_name, params.model_package_arn, job.id)
    tags = [
        {"Key": TAG_PACKAGE_ARN, "Value": params.model_package_arn},
        {"Key": TAG_ENDPOINT, "Value": params.endpoint_name},
    ]
    if not _exists(lambda: sagemaker.describe_model(ModelName=name)):
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
    if not _exists(lambda: sagemaker.describe_endpoint_config(EndpointConfigName=name)):
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
        previous = None
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
    return Progress(
        requested_config=name, previous_config=previous, model_name=name, started=clock.now()
    )


#: A fleet replaced at once with no auto-rollback alarms (see the module docstring).
REPLACE_AT_ONCE: Final = Rollout(type="ALL_AT_ONCE")


def _replacing_a_bad_fleet(
    params: DeployParameters,
    live_config: str,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
) -> str | None:
    """Why the live fleet must be replaced without guardrails, or None: the requested
    version is older than the live one (a rollback), or a stage alarm is in ALARM now
    (it would trip the guardrail whichever fleet raised it)."""
    live = _live_version(sagemaker, live_config)
    requested = _version_of(params.model_package_arn)
    if live is not None and _same_group(live[1], params.model_package_arn):
        live_version = _version_of(live[1])
        if requested is not None and live_version is not None and requested < live_version:
            return f"rolling back from version {live_version} to {requested}"
    firing = alarms_firing(cloudwatch, params.alarm_names)
    if firing:
        return "alarm(s) in ALARM: " + "; ".join(alarm.name for alarm in firing)
    return None


def _version_of(package_arn: str) -> int | None:
    version = package_arn.rsplit("/", 1)[-1]
    return int(version) if version.isdigit() else None


def _same_group(first_arn: str, second_arn: str) -> bool:
    return first_arn.rsplit("/", 1)[0] == second_arn.rsplit("/", 1)[0]


def _settled(
    params: DeployParameters,
    progress: Progress,
    endpoint: Mapping[str, Any],
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
) -> JobResult:
    status = endpoint["EndpointStatus"]
    live_config = endpoint.get("EndpointConfigName")
    reason = endpoint.get("FailureReason")
    if status == "InService" and live_config == progress.requested_config:
        _retain(params, progress, sagemaker=sagemaker)
        return _succeeded(params, progress.requested_config, progress.model_name, "deployed")
    if status == "InService":
        firing = alarms_firing(cloudwatch, params.alarm_names)
        alarms = (
            "alarm(s) in ALARM: " + "; ".join(alarm.describe() for alarm in firing)
            if firing
            else "no alarm of the stage is in ALARM now"
        )
        return Failed(
            message=(
                f"endpoint {params.endpoint_name} rolled back: it is InService on "
                f"{live_config}, not on the requested {progress.requested_config}; {alarms}"
                + (f"; FailureReason: {reason}" if reason else "")
            ),
            external_execution_id=progress.requested_config,
        )
    return Failed(
        message=(
            f"endpoint {params.endpoint_name} is {status} deploying "
            f"{progress.requested_config}: {reason or 'no FailureReason given'}"
        ),
        external_execution_id=progress.requested_config,
    )


def _succeeded(params: DeployParameters, config_name: str, model_name: str, how: str) -> Succeeded:
    return Succeeded(
        summary=f"{params.model_package_arn} {how} on {params.endpoint_name} ({config_name})",
        output_variables={
            contract.OUT_MODEL_NAME: model_name,
            contract.OUT_ENDPOINT_CONFIG_NAME: config_name,
            contract.OUT_ENDPOINT_NAME: params.endpoint_name,
            contract.OUT_MODEL_PACKAGE_ARN: params.model_package_arn,
        },
        external_execution_id=config_name,
    )


def _retain(params: DeployParameters, progress: Progress, *, sagemaker: SageMakerClient) -> None:
    """Keep the newest ``keep_configs`` configs (and their models) Deploy made for this
    endpoint; never the live one nor the rollback target."""
    owned = owned_name_pattern(params.endpoint_name)
    configs: list[tuple[datetime, str]] = []
    for page in sagemaker.get_paginator("list_endpoint_configs").paginate(
        NameContains=params.endpoint_name
    ):
        configs.extend(
            (item["CreationTime"], item["EndpointConfigName"])
            for item in page["EndpointConfigs"]
            if owned.fullmatch(item["EndpointConfigName"])
        )
    configs.sort(reverse=True)
    keep = {name for _, name in configs[: max(params.keep_configs, 1)]}
    keep.add(progress.requested_config)
    if progress.previous_config:
        keep.add(progress.previous_config)
    for _, name in configs:
        if name not in keep:
            logger.info("retention: deleting endpoint config %s", name)
            sagemaker.delete_endpoint_config(EndpointConfigName=name)
    models: list[str] = []
    for model_page in sagemaker.get_paginator("list_models").paginate(
        NameContains=params.endpoint_name
    ):
        models.extend(
            item["ModelName"] for item in model_page["Models"] if owned.fullmatch(item["ModelName"])
        )
    for name in models:
        if name not in keep:
            logger.info("retention: deleting model %s", name)
            sagemaker.delete_model(ModelName=name)


def _describe_endpoint(sagemaker: SageMakerClient, name: str) -> dict[str, Any] | None:
    try:
        return dict(sagemaker.describe_endpoint(EndpointName=name))
    except sagemaker.exceptions.ClientError as error:
        if _is_not_found(error):
            return None
        raise


def _live_version(sagemaker: SageMakerClient, config_name: str) -> tuple[str, str] | None:
    """(model name, package ARN) behind a config, when it is one model from a package."""
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    variants = config.get("ProductionVariants", [])
    if len(variants) != 1:
        return None
    model_name = variants[0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
    arns = {c.get("ModelPackageName") for c in containers}
    if len(arns) != 1:
        return None
    arn = arns.pop()
    return (model_name, arn) if arn else None


def _exists(describe: Any) -> bool:
    try:
        describe()
    except Exception as error:
        if _is_not_found(error):
            return False
        raise
    return True


def _is_not_found(error: Exception) -> bool:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    err = response.get("Error", {})
    message = str(err.get("Message", ""))
    return err.get("Code") == "ValidationException" and (
        "Could not find" in message or "does not exist" in message
    )


def _sagemaker() -> SageMakerClient:
    import boto3  # noqa: PLC0415 - created on first use, never at import

    return boto3.client("sagemaker")


def _cloudwatch() -> CloudWatchClient:
    import boto3  # noqa: PLC0415 - created on first use, never at import

    return boto3.client("cloudwatch")
