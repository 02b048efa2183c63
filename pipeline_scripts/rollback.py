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

Both keep the trigger's promises: they deploy only a version the registry says is
Approved now (``shared.rollback.refusal``, the rule the rejection rollback follows too),
and each request's outcome keeps who made it (STS GetCallerIdentity) and why (the
required ``--reason``), refusals included.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from approval_trigger.logic import ApprovalTrigger
from pipeline_scripts import stack_outputs
from pipeline_scripts.cli_clock import cli_clock
from pipeline_scripts.errors import NotFound, Refused, UsageError, aws_code, refused
from pipeline_scripts.model_registry import find_model_package_arn, require_group
from shared import contract
from shared.ledger import (
    OUTCOME_ROLLBACK_STARTED,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_STARTED,
    Outcome,
    RollbackStart,
)
from shared.pipeline_history import Deployment, PipelineHistory
from shared.rollback import approved_target, refusal, start_rollback
from shared.settings import TriggerConfig

REASON_HELP = "why you are doing this: kept in the ledger with who ran it, shown by history"


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
    rollback.add_argument("--reason", required=True, metavar="TEXT", help=REASON_HELP)
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
    redeploy.add_argument("--reason", required=True, metavar="TEXT", help=REASON_HELP)
    stack_outputs.add_common_arguments(redeploy, topic=True)
    redeploy.set_defaults(func=_redeploy)


def parse_version(text: str, what: str = "VERSION") -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"{what} must be a whole number of 1 or more, got {text!r}")
    return int(text)


def parse_reason(text: str) -> str:
    if not text.strip():
        raise UsageError("--reason must say why, got an empty text")
    return text.strip()


def operator_arn(region: str | None) -> str:
    """Who is running this command: the caller's ARN, as STS GetCallerIdentity says."""
    return str(stack_outputs.client("sts", region).get_caller_identity()["Arn"])


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
    why = parse_reason(args.reason)
    settings = stack_outputs.group_settings(args, args.group)
    trigger = _trigger(args, settings)
    arn = find_model_package_arn(trigger.sagemaker, group=settings.group, version=version)
    outcome = trigger.start_deployment(
        arn,
        request_id=f"cli-redeploy-{uuid.uuid4()}",
        reason=contract.REASON_REDEPLOY,
        operator=operator_arn(args.region),
        operator_reason=why,
    )
    return _report(outcome, f"redeploy of {settings.group} v{version}")


def _rollback(args: argparse.Namespace) -> int:
    to_version = None if args.to_version is None else parse_version(args.to_version, "--to-version")
    why = parse_reason(args.reason)
    settings = stack_outputs.group_settings(args, args.group)
    stack_outputs.require_stage(settings, args.stage)
    trigger = _trigger(args, settings)
    request = _Request(
        trigger=trigger,
        stage=args.stage,
        request_id=f"cli-rollback-{uuid.uuid4()}",
        operator=operator_arn(args.region),
        why=why,
    )
    arn = None
    if to_version is not None:
        arn = find_model_package_arn(trigger.sagemaker, group=settings.group, version=to_version)
        request.refuse_unless_approved(arn, to_version)
    else:
        require_group(trigger.sagemaker, settings.group)
    history = PipelineHistory(trigger.codepipeline, contract.pipeline_name(settings.group))
    target, live = _target(history, args.stage, arn, request.status)
    if target is None and arn is None:
        raise NotFound(f"no earlier version succeeded in {args.stage} of {settings.group}")
    if target is None:
        assert arn is not None
        outcome = trigger.start_deployment(
            arn,
            request_id=request.request_id,
            reason=contract.REASON_MANUAL_ROLLBACK,
            operator=request.operator,
            operator_reason=why,
        )
        what = f"rollback of {args.stage} to v{to_version} (no execution succeeded there with it)"
        return _report(outcome, what)
    if live:
        print(f"v{target.version} is already live in {args.stage}; nothing to roll back")
        return 0
    if target.arn != arn:
        request.refuse_unless_approved(target.arn, target.version)
    return request.roll_back(history, target)


@dataclass
class _Request:
    """One ``greenlight rollback`` request: who asked, why, and its one ledger outcome."""

    trigger: ApprovalTrigger
    stage: str
    request_id: str
    operator: str
    why: str

    def status(self, arn: str) -> str | None:
        """The version's ModelApprovalStatus now (None: not in the registry)."""
        try:
            package = self.trigger.sagemaker.describe_model_package(ModelPackageName=arn)
        except ClientError as error:
            if aws_code(error) == "ValidationException":
                return None
            raise
        return package.get("ModelApprovalStatus")

    def refuse_unless_approved(self, arn: str, version: int | None) -> None:
        """Record and raise the refusal to put ``arn`` back unless it is Approved now."""
        refused = refusal(arn, self.status(arn))
        if refused is None:
            return
        self._record(
            outcome=OUTCOME_SKIPPED_NOT_APPROVED,
            reason=refused,
            arn=arn,
            version=version,
            stages={self.stage: refused},
        )
        raise Refused(f"rollback of {self.stage} to v{version} refused: {refused}")

    def roll_back(self, history: PipelineHistory, target: Deployment) -> int:
        try:
            started = start_rollback(
                history,
                self.stage,
                target,
                reason=contract.REASON_MANUAL_ROLLBACK,
                request_id=self.request_id,
            )
        except ClientError as error:
            raise refused(error, f"CodePipeline refused to roll back {self.stage}") from None
        how = (
            "" if started.via == contract.ROLLBACK_STAGE else " as a new execution of that version"
        )
        self._record(
            outcome=OUTCOME_ROLLBACK_STARTED,
            reason=(
                f"{self.stage}: rolled back to v{target.version} (execution "
                f"{target.execution_id}) in {started.execution_id}{how}"
            ),
            arn=target.arn,
            version=target.version,
            execution_id=started.execution_id,
            rollbacks=(
                RollbackStart(
                    stage=self.stage,
                    execution_id=started.execution_id,
                    target_execution_id=target.execution_id,
                    target_version=target.version,
                    target_arn=target.arn,
                ),
            ),
        )
        print(
            f"rolling {self.stage} back to v{target.version} (execution {target.execution_id}): "
            f"rollback execution {started.execution_id}{how}"
        )
        return 0

    def _record(
        self,
        *,
        outcome: str,
        reason: str,
        arn: str,
        version: int | None,
        execution_id: str | None = None,
        rollbacks: tuple[RollbackStart, ...] = (),
        stages: dict[str, str] | None = None,
    ) -> None:
        self.trigger.ledger.put_outcome(
            Outcome(
                group=self.trigger.config.group,
                event_id=self.request_id,
                outcome=outcome,
                reason=reason,
                recorded_at=self.trigger.clock.now(),
                model_package_arn=arn,
                model_package_version=version,
                trigger_reason=contract.REASON_MANUAL_ROLLBACK,
                pipeline_execution_id=execution_id,
                rollbacks=rollbacks,
                stages=stages or {},
                operator=self.operator,
                operator_reason=self.why,
            )
        )


def _target(
    history: PipelineHistory,
    stage: str,
    arn: str | None,
    status: Callable[[str], str | None],
) -> tuple[Deployment | None, bool]:
    """The rollback target in ``stage`` and whether it is the live version: the newest
    deployment of ``arn`` there — or, without ``arn``, of a version other than the live
    one that is still Approved, else the newest other one (which the caller refuses)
    (shared.rollback: never a ROLLBACK execution, never an execution with no version)."""
    try:
        live = history.live(stage)
    except ClientError as error:
        if aws_code(error) == "PipelineNotFoundException":
            raise NotFound(f"pipeline {history.pipeline_name} not found") from None
        raise refused(error, f"cannot list executions of {history.pipeline_name}") from None
    if arn is not None:
        return history.target(stage, lambda d: d.arn == arn), live is not None and live.arn == arn
    if live is None:
        return None, False
    approved = approved_target(history, stage, other_than=live.arn, status=status)
    return approved or history.target(stage, lambda d: d.arn != live.arn), False
