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

Transient errors (throttling, 5xx, a lost connection: ``shared.transient``) never fail
the action: Deploy answers in progress with the state it had and tries again on the
next invocation. A transient error while creating or updating the endpoint leaves it
unknown whether the call took effect, so the next invocation (the *starting* phase)
resumes from what DescribeEndpoint shows: busy or on the requested config, the call took
effect and Deploy waits for it; modified since the attempt and back on another config, it
took effect and was rolled back; otherwise it is made again, with the same names. A
crashed invocation is retried by Lambda with the same job and starts from the endpoint
too. Only a real failure (a denial, a refused request, a rollback, a Failed endpoint)
fails the action, and its message names the endpoint.

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

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from deploy.progress import (
    DEPLOYING,
    PREPARING,
    STARTING,
    Progress,
    in_progress,
    preparing,
    wait_out,
)
from deploy.resources import (
    DeployError,
    describe_endpoint,
    is_endpoint_conflict,
    live_version,
    resource_name,
    retain,
)
from deploy.rollout import start_rollout
from shared import contract, jobs
from shared.alarms import alarms_firing
from shared.clock import Clock, current_clock
from shared.jobs import Failed, JobResult, PipelineJob, Succeeded, run_job
from shared.observability import logger
from shared.parameters import DeployParameters
from shared.stage_access import stage_clients
from shared.transient import is_transient

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_sagemaker import SageMakerClient

ACTION: Final = contract.ACTION_DEPLOY
SETTLING: Final = frozenset(
    {
        contract.ENDPOINT_CREATING,
        contract.ENDPOINT_UPDATING,
        contract.ENDPOINT_SYSTEM_UPDATING,
        contract.ENDPOINT_ROLLING_BACK,
    }
)
#: States Deploy waits out before it acts.
BUSY: Final = SETTLING | {contract.ENDPOINT_DELETING}


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
        stage = stage_clients(job.user_parameters)
        return deploy(
            job,
            sagemaker=sagemaker or stage.client("sagemaker"),
            cloudwatch=cloudwatch or stage.client("cloudwatch"),
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
    """One step of the deployment: begin (or wait to begin), resume, or poll once. A
    transient error answers in progress with the state this invocation started from."""
    params = DeployParameters.from_json(job.user_parameters)
    if not params.has_model_version:
        return jobs.nothing_to_deploy(ACTION, params.stage)
    progress = Progress.from_token(job.continuation_token) if job.continuation_token else None
    try:
        return _step(job, params, progress, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)
    except Exception as error:
        if not is_transient(error):
            raise
        return wait_out(
            params, progress or Progress(phase=PREPARING, started=clock.now()), clock, error
        )


def _step(
    job: PipelineJob,
    params: DeployParameters,
    progress: Progress | None,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    if progress is not None and progress.phase == DEPLOYING:
        return _poll(params, progress, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)
    if progress is not None and progress.phase == STARTING:
        return _resume(params, progress, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)
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
    live = describe_endpoint(sagemaker, params.endpoint_name)
    status = live["EndpointStatus"] if live is not None else None
    if live is not None and status == contract.ENDPOINT_IN_SERVICE:
        already = live_version(sagemaker, live["EndpointConfigName"])
        if already is not None and already[1] == params.model_package_arn:
            logger.info("%s already serves %s", params.endpoint_name, already[1])
            return _succeeded(params, live["EndpointConfigName"], already[0], "already live")
    elif live is not None and status == contract.ENDPOINT_FAILED:
        # SageMaker accepts only DeleteEndpoint on a Failed endpoint; recreate it after.
        logger.info("deleting Failed endpoint %s", params.endpoint_name)
        sagemaker.delete_endpoint(EndpointName=params.endpoint_name)
        reason = live.get("FailureReason") or "no FailureReason given"
        return preparing(params, started, clock, f"deleting it: it was Failed ({reason})")
    elif live is not None and status in BUSY:
        return preparing(params, started, clock, f"waiting for it to leave {status}")
    elif live is not None:
        raise DeployError(
            f"endpoint {params.endpoint_name} is {status}; it must be InService "
            "before a new version can be deployed"
        )
    name = resource_name(params.endpoint_name, params.model_package_arn, job.id)
    starting = Progress(
        phase=STARTING,
        started=started,
        requested_config=name,
        previous_config=str(live["EndpointConfigName"]) if live is not None else None,
        model_name=name,
    )
    return _launch(params, starting, live, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock)


def _launch(
    params: DeployParameters,
    progress: Progress,
    live: Mapping[str, Any] | None,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """Create or update the endpoint. Should the call fail transiently (or meet the
    endpoint busy with this very call, after the SDK retried a lost answer), whether it
    took effect is for the next invocation to see."""
    attempt = replace(progress, phase=STARTING, attempted=clock.now())
    try:
        start_rollout(params, attempt, live, sagemaker=sagemaker, cloudwatch=cloudwatch)
    except Exception as error:
        if not (is_transient(error) or is_endpoint_conflict(error)):
            raise
        return wait_out(params, attempt, clock, error)
    deploying = replace(attempt, phase=DEPLOYING)
    return in_progress(
        params,
        deploying,
        clock,
        contract.ENDPOINT_CREATING if live is None else contract.ENDPOINT_UPDATING,
    )


def _resume(
    params: DeployParameters,
    progress: Progress,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """After a create or update whose outcome is unknown: act on what the endpoint shows."""
    endpoint = describe_endpoint(sagemaker, params.endpoint_name)
    if endpoint is None:
        return _launch(
            params, progress, None, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock
        )
    status = endpoint["EndpointStatus"]
    deploying = replace(progress, phase=DEPLOYING)
    if status in SETTLING:
        return in_progress(params, deploying, clock, status)
    took_effect = (
        endpoint.get("EndpointConfigName") == progress.requested_config
        or status == contract.ENDPOINT_FAILED
        or _modified_since(endpoint, progress.attempted)
    )
    if took_effect:
        return _settled(params, deploying, endpoint, sagemaker=sagemaker, cloudwatch=cloudwatch)
    if status == contract.ENDPOINT_IN_SERVICE:
        again = replace(progress, previous_config=str(endpoint["EndpointConfigName"]))
        return _launch(
            params, again, endpoint, sagemaker=sagemaker, cloudwatch=cloudwatch, clock=clock
        )
    return in_progress(params, progress, clock, status)


def _modified_since(endpoint: Mapping[str, Any], attempted: datetime | None) -> bool:
    """The endpoint changed after ``attempted``: an update made then has run and ended
    (an update still running shows as Updating; one rolled back ends later than it began)."""
    modified = endpoint.get("LastModifiedTime")
    return isinstance(modified, datetime) and attempted is not None and modified > attempted


def _poll(
    params: DeployParameters,
    progress: Progress,
    *,
    sagemaker: SageMakerClient,
    cloudwatch: CloudWatchClient,
    clock: Clock,
) -> JobResult:
    """One DescribeEndpoint: settled (success or failure) or still in progress."""
    endpoint = describe_endpoint(sagemaker, params.endpoint_name)
    if endpoint is None:
        return Failed(message=f"endpoint {params.endpoint_name} disappeared during deploy")
    status = endpoint["EndpointStatus"]
    if status in SETTLING:
        return in_progress(params, progress, clock, status)
    return _settled(params, progress, endpoint, sagemaker=sagemaker, cloudwatch=cloudwatch)


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
    if status == contract.ENDPOINT_IN_SERVICE and live_config == progress.requested_config:
        keep = {
            progress.requested_config,
            *([progress.previous_config] if progress.previous_config else []),
        }
        retain(params.endpoint_name, params.keep_configs, keep, sagemaker=sagemaker)
        return _succeeded(params, progress.requested_config, progress.model_name, "deployed")
    if status == contract.ENDPOINT_IN_SERVICE:
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
