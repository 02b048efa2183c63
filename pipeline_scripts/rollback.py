"""``greenlight rollback`` and ``greenlight redeploy``: the operator's two levers.

``rollback GROUP --stage STAGE [--to-version N]`` asks CodePipeline to RollbackStage
STAGE to the newest execution that succeeded there with version N (without N: with the
version that was live before the current one), chosen by ``shared.rollback`` as the
rejection rollback chooses it. When CodePipeline cannot roll back to it (it ran on an
earlier pipeline structure version), version N starts again as a new execution (trigger
reason ``manual-rollback``), recorded as the rollback. When no execution ever succeeded
there with version N, a new execution of version N starts through the same path as an
approval, gates included. Either way the request is one outcome in the ledger.

``redeploy GROUP VERSION`` deploys an Approved version again, on purpose: a second
approval event never does (DESIGN rule 3). It is recorded as a ``redeploy``.
"""

from __future__ import annotations

import argparse
import uuid

from botocore.exceptions import ClientError

from approval_trigger.logic import ApprovalTrigger, TriggerConfig
from pipeline_scripts import stack_outputs
from pipeline_scripts.cli_clock import cli_clock
from pipeline_scripts.errors import NotFound, Refused, UsageError
from pipeline_scripts.review import find_model_package_arn
from shared import contract
from shared.ledger import OUTCOME_ROLLBACK_STARTED, OUTCOME_STARTED, Outcome, RollbackStart
from shared.rollback import ROLLBACK_STAGE, Deployment, PipelineHistory, start_rollback


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
    history = PipelineHistory(trigger.codepipeline, contract.pipeline_name(settings.group))
    target, live = _target(history, args.stage, arn)
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
    if live:
        print(f"v{target.version} is already live in {args.stage}; nothing to roll back")
        return 0
    try:
        started = start_rollback(
            history,
            args.stage,
            target,
            reason=contract.REASON_MANUAL_ROLLBACK,
            request_id=request_id,
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        raise Refused(
            f"CodePipeline refused to roll back {args.stage}: {details.get('Code')}: "
            f"{details.get('Message')}"
        ) from None
    how = "" if started.via == ROLLBACK_STAGE else " as a new execution of that version"
    trigger.ledger.put_outcome(
        Outcome(
            group=settings.group,
            event_id=request_id,
            outcome=OUTCOME_ROLLBACK_STARTED,
            reason=(
                f"{args.stage}: rolled back to v{target.version} (execution "
                f"{target.execution_id}) in {started.execution_id}{how}"
            ),
            recorded_at=trigger.clock.now(),
            model_package_arn=target.arn,
            model_package_version=target.version,
            trigger_reason=contract.REASON_MANUAL_ROLLBACK,
            pipeline_execution_id=started.execution_id,
            rollbacks=(
                RollbackStart(
                    stage=args.stage,
                    execution_id=started.execution_id,
                    target_execution_id=target.execution_id,
                    target_version=target.version,
                    target_arn=target.arn,
                ),
            ),
        )
    )
    print(
        f"rolling {args.stage} back to v{target.version} (execution {target.execution_id}): "
        f"rollback execution {started.execution_id}{how}"
    )
    return 0


def _target(
    history: PipelineHistory, stage: str, arn: str | None
) -> tuple[Deployment | None, bool]:
    """The rollback target in ``stage`` and whether it is the live version: the newest
    deployment of ``arn`` there — or, without ``arn``, of a version other than the live
    one (shared.rollback: never a ROLLBACK execution, never an execution with no version)."""
    try:
        live = history.live(stage)
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") == "PipelineNotFoundException":
            raise NotFound(f"pipeline {history.pipeline_name} not found") from None
        raise Refused(
            f"cannot list executions of {history.pipeline_name}: {details.get('Message')}"
        ) from None
    if arn is not None:
        return history.target(stage, lambda d: d.arn == arn), live is not None and live.arn == arn
    if live is None:
        return None, False
    return history.target(stage, lambda d: d.arn != live.arn), False
