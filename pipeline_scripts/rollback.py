"""``greenlight rollback`` and ``greenlight redeploy``: the operator's two levers.

``rollback GROUP --stage STAGE [--to-version N]`` asks CodePipeline to RollbackStage
STAGE to the newest execution that succeeded there with version N (without N: with the
version that was live before the current one). When no execution ever succeeded there
with version N, a new execution of version N starts instead (trigger reason
``manual-rollback``), through the same path as an approval, gates included. Either way
the request is one outcome in the ledger.

``redeploy GROUP VERSION`` deploys an Approved version again, on purpose: a second
approval event never does (DESIGN rule 3). It is recorded as a ``redeploy``.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from approval_trigger.logic import ApprovalTrigger, TriggerConfig
from pipeline_scripts import stack_outputs
from pipeline_scripts.cli_clock import cli_clock
from pipeline_scripts.errors import NotFound, Refused, UsageError
from pipeline_scripts.review import find_model_package_arn
from shared import contract
from shared.ledger import OUTCOME_ROLLBACK_STARTED, OUTCOME_STARTED, Outcome, RollbackStart

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rollback = subparsers.add_parser(
        "rollback",
        help="put an earlier version back in one stage",
        description=(
            "RollbackStage STAGE to the newest execution that succeeded there with version N "
            "(default: the version live before the current one); if none did, start a new "
            "execution of version N (reason manual-rollback)."
        ),
    )
    rollback.add_argument("group", metavar="GROUP", help="model package group")
    rollback.add_argument("--stage", required=True, help="the deployment stage to roll back")
    rollback.add_argument("--to-version", metavar="N", help="the version to put back")
    stack_outputs.add_common_arguments(rollback, topic=True)
    rollback.set_defaults(func=_rollback)

    redeploy = subparsers.add_parser(
        "redeploy",
        help="deploy an Approved version again, on purpose",
        description=(
            "Start a new execution of an Approved version (reason redeploy). The governance "
            "gates apply; the duplicate and stale guards do not."
        ),
    )
    redeploy.add_argument("group", metavar="GROUP", help="model package group")
    redeploy.add_argument("version", metavar="VERSION", help="version number")
    stack_outputs.add_common_arguments(redeploy, topic=True)
    redeploy.set_defaults(func=_redeploy)


def parse_version(text: str, what: str = "VERSION") -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"{what} must be a whole number of 1 or more, got {text!r}")
    return int(text)


def _trigger(args: argparse.Namespace, settings: stack_outputs.GroupSettings) -> ApprovalTrigger:
    return ApprovalTrigger(
        TriggerConfig(
            ledger_table=stack_outputs.ledger_table(args),
            topic_arn=stack_outputs.topic_arn(args),
            group=settings.group,
            pipeline_name=contract.pipeline_name(settings.group),
            stages=settings.stages,
            gates=settings.gates,
        ),
        sagemaker=stack_outputs.client("sagemaker", args.region),
        codepipeline=stack_outputs.client("codepipeline", args.region),
        sns=stack_outputs.client("sns", args.region),
        dynamodb=stack_outputs.client("dynamodb", args.region),
        clock=cli_clock(),
    )


def _report(outcome: Outcome, what: str) -> int:
    if outcome.outcome == OUTCOME_STARTED:
        print(f"{what}: started execution {outcome.pipeline_execution_id}")
        return 0
    raise Refused(f"{what} refused ({outcome.outcome}): {outcome.reason}")


def _redeploy(args: argparse.Namespace) -> int:
    version = parse_version(args.version)
    settings = stack_outputs.group_settings(args, args.group)
    trigger = _trigger(args, settings)
    arn = find_model_package_arn(trigger.sagemaker, group=settings.group, version=version)
    outcome = trigger.start_deployment(
        arn, request_id=f"cli-redeploy-{uuid.uuid4()}", reason=contract.REASON_REDEPLOY
    )
    return _report(outcome, f"redeploy of {settings.group} v{version}")


def _rollback(args: argparse.Namespace) -> int:
    to_version = None if args.to_version is None else parse_version(args.to_version, "--to-version")
    settings = stack_outputs.group_settings(args, args.group)
    stack_outputs.require_stage(settings, args.stage)
    trigger = _trigger(args, settings)
    arn = None
    if to_version is not None:
        arn = find_model_package_arn(trigger.sagemaker, group=settings.group, version=to_version)
    else:
        try:
            trigger.sagemaker.describe_model_package_group(ModelPackageGroupName=settings.group)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise NotFound(f"model package group {settings.group!r} not found") from None
            raise
    pipeline = contract.pipeline_name(settings.group)
    target = _target(trigger.codepipeline, pipeline, args.stage, arn)
    request_id = f"cli-rollback-{uuid.uuid4()}"
    if target is None and arn is None:
        raise NotFound(f"no earlier version succeeded in {args.stage} of {settings.group}")
    if target is None:
        assert arn is not None
        outcome = trigger.start_deployment(
            arn, request_id=request_id, reason=contract.REASON_MANUAL_ROLLBACK
        )
        what = f"rollback of {args.stage} to v{to_version} (no execution succeeded there with it)"
        return _report(outcome, what)
    target_id, target_version, target_arn, live = target
    if live:
        print(f"v{target_version} is already live in {args.stage}; nothing to roll back")
        return 0
    try:
        rollback_id = trigger.codepipeline.rollback_stage(
            pipelineName=pipeline, stageName=args.stage, targetPipelineExecutionId=target_id
        )["pipelineExecutionId"]
    except ClientError as error:
        details = error.response.get("Error", {})
        raise Refused(
            f"CodePipeline refused to roll back {args.stage}: {details.get('Code')}: "
            f"{details.get('Message')}"
        ) from None
    trigger.ledger.put_outcome(
        Outcome(
            group=settings.group,
            event_id=request_id,
            outcome=OUTCOME_ROLLBACK_STARTED,
            reason=(
                f"{args.stage}: rolled back to v{target_version} (execution {target_id}) "
                f"in {rollback_id}"
            ),
            recorded_at=trigger.clock.now(),
            model_package_arn=target_arn or None,
            model_package_version=target_version,
            trigger_reason=contract.REASON_MANUAL_ROLLBACK,
            pipeline_execution_id=rollback_id,
            rollbacks=(
                RollbackStart(
                    stage=args.stage,
                    execution_id=rollback_id,
                    target_execution_id=target_id,
                    target_version=target_version or None,
                    target_arn=target_arn or None,
                ),
            ),
        )
    )
    print(
        f"rolling {args.stage} back to v{target_version} (execution {target_id}): "
        f"rollback execution {rollback_id}"
    )
    return 0


def _target(
    codepipeline: CodePipelineClient, pipeline: str, stage: str, arn: str | None
) -> tuple[str, int, str, bool] | None:
    """(execution id, version, ARN, is it the live one) of the rollback target: the newest
    execution that succeeded in ``stage`` with ``arn`` — or, without ``arn``, with a
    version other than the live one."""
    live_arn: str | None = None
    paginator = codepipeline.get_paginator("list_pipeline_executions")
    try:
        pages = list(
            paginator.paginate(
                pipelineName=pipeline, filter={"succeededInStage": {"stageName": stage}}
            )
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") == "PipelineNotFoundException":
            raise NotFound(f"pipeline {pipeline} not found") from None
        raise Refused(f"cannot list executions of {pipeline}: {details.get('Message')}") from None
    for page in pages:
        for summary in page["pipelineExecutionSummaries"]:
            execution_id = summary["pipelineExecutionId"]
            variables = _variables(codepipeline, pipeline, execution_id)
            candidate = variables.get(contract.VAR_MODEL_PACKAGE_ARN)
            version_text = variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "0")
            version = int(version_text) if version_text.isdigit() else 0
            first = live_arn is None
            if first:
                live_arn = candidate or ""
            if arn is not None and candidate == arn:
                return execution_id, version, candidate, first
            if arn is None and not first and candidate and candidate != live_arn:
                return execution_id, version, candidate, False
    return None


def _variables(
    codepipeline: CodePipelineClient, pipeline: str, execution_id: str
) -> dict[str, Any]:
    execution = codepipeline.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    return {v["name"]: v["resolvedValue"] for v in execution.get("variables", [])}
