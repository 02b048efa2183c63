"""Bake: watch the stage's alarms for the configured minutes after the rollout.

Each invocation polls the alarms once and, unless that settles it, returns in progress
with a continuation token holding the bake's start time: it never sleeps, so it ends far
within the function's 30-second timeout, and CodePipeline's re-invocation after the
continuation is the wait between polls. The first alarm found in ALARM fails the action,
named with its StateReason; when the minutes are up with every alarm OK or
INSUFFICIENT_DATA, the action succeeds.

An alarm that went into ALARM before the bake began was raised by the version this
deployment replaced (a rollback bakes right after the bad version left). Its datapoints
age out within its evaluation window (Period x EvaluationPeriods), so it is given that
long, from the bake's start, to clear before it counts against the version baking.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from shared import contract
from shared.alarms import AlarmState, alarm_states
from shared.clock import Clock, current_clock
from shared.jobs import (
    Failed,
    InProgress,
    JobResult,
    PipelineJob,
    Succeeded,
    nothing_to_deploy,
    run_job,
)
from shared.parameters import BakeParameters
from shared.stage_access import stage_clients

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codepipeline import CodePipelineClient

ACTION: Final = contract.ACTION_BAKE


class BakeTokenError(ValueError):
    """The continuation token is not one Bake wrote."""


def run(
    event: Mapping[str, Any],
    *,
    codepipeline: CodePipelineClient | None = None,
    cloudwatch: CloudWatchClient | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """Handle one Bake invocation and report its result to CodePipeline."""
    clock = clock or current_clock()

    def action(job: PipelineJob) -> JobResult:
        stage = stage_clients(job.user_parameters)
        return bake(job, cloudwatch=cloudwatch or stage.client("cloudwatch"), clock=clock)

    return run_job(event, action, action_name=ACTION, codepipeline=codepipeline, clock=clock)


def bake(job: PipelineJob, *, cloudwatch: CloudWatchClient, clock: Clock) -> JobResult:
    """One poll of the stage's alarms: failed, succeeded, or in progress until the next."""
    params = BakeParameters.from_json(job.user_parameters)
    if not params.has_model_version:
        return nothing_to_deploy(contract.ACTION_BAKE, params.stage)
    now = clock.now()
    started = _started(job.continuation_token) if job.continuation_token else now
    ends = started + timedelta(minutes=params.bake_minutes)
    label = f"bake of {params.endpoint_name} ({params.stage})"
    for alarm in alarm_states(cloudwatch, params.alarm_names):
        if alarm.state == contract.ALARM_STATE_ALARM and not _inherited(alarm, started, now):
            return Failed(
                message=f"{label} failed after {_minutes(now - started)}: "
                f"alarm {alarm.describe()} is in ALARM"
            )
    if now >= ends:
        return Succeeded(
            summary=f"{label}: {len(params.alarm_names)} alarm(s) stayed out of ALARM "
            f"for {params.bake_minutes} minute(s)"
        )
    elapsed = now - started
    total = timedelta(minutes=params.bake_minutes)
    return InProgress(
        continuation_token=json.dumps({"started": started.isoformat()}),
        summary=f"{label}: {_minutes(elapsed)} of {params.bake_minutes} minute(s), no alarm",
        percent_complete=int(100 * elapsed / total),
    )


def _inherited(alarm: AlarmState, started: datetime, now: datetime) -> bool:
    """In ALARM since before the bake, and still within its evaluation window."""
    if alarm.since is None or alarm.since >= started:
        return False
    return now < started + timedelta(seconds=alarm.window_seconds)


def _started(token: str) -> datetime:
    try:
        return datetime.fromisoformat(json.loads(token)["started"])
    except (ValueError, KeyError, TypeError) as error:
        raise BakeTokenError(f"continuation token is not a Bake token ({error})") from None


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:.1f} minute(s)"
