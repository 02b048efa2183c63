"""Rejecting a version that is live or in flight rolls it back (DESIGN rule 7).

In order, each step safe to repeat when Lambda retries the event:

1. find the stages where the version is live, and the executions of it still running
   (InProgress, or Stopping after someone's stop-and-wait) with the stages they reached;
2. write those to the event's ledger outcome *before* stopping anything, so that a later
   invocation resumes from them;
3. stop and abandon those executions (CodePipeline accepts that while Stopping too) and
   check that each is Stopped; if one is not yet, end this invocation with
   :class:`StopPending` (Lambda retries the event) rather than wait inside it;
4. roll each affected stage back to the newest earlier version that is still Approved,
   with the rules of ``shared.rollback`` (RollbackStage, or a new execution of that
   version when CodePipeline cannot roll back to it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared import contract
from shared.ledger import (
    OUTCOME_RECORDED,
    OUTCOME_ROLLBACK_NONE,
    OUTCOME_ROLLBACK_STARTED,
    OUTCOME_STOPPED,
    Ledger,
    Outcome,
    RollbackStart,
)
from shared.notify import publish
from shared.pipeline_history import Deployment, PipelineHistory
from shared.rollback import approved_target, start_rollback

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_sns import SNSClient

#: Execution statuses from which nothing runs any more.


class StopPending(RuntimeError):
    """Executions the rejection stopped are not Stopped yet: the rollback waits for a
    later invocation (Lambda retries the event) instead of sleeping in this one."""

    def __init__(self, execution_ids: list[str]) -> None:
        super().__init__(
            f"execution(s) {', '.join(execution_ids)} not Stopped yet; "
            "the rollback starts on a later invocation"
        )


@dataclass(frozen=True, kw_only=True)
class Rejection:
    """Rolls back what a rejected version touched, for one group's pipeline."""

    group: str
    pipeline_name: str
    stages: tuple[str, ...]
    topic_arn: str
    codepipeline: CodePipelineClient
    sns: SNSClient
    ledger: Ledger
    #: DescribeModelPackage, None when the package is not in the registry.
    describe: Callable[[str], Mapping[str, Any] | None]

    def roll_back(self, base: Outcome, arn: str, package: Mapping[str, Any]) -> Outcome:
        """Steps 1-4 for the rejection of ``arn``; ``base.stages`` holds what an earlier
        invocation recorded before it stopped anything."""
        history = PipelineHistory(self.codepipeline, self.pipeline_name)
        if base.stages:
            affected, stopped = dict(base.stages), list(base.stopped_executions)
        else:
            affected, stopped = self._affected(history, arn)
            if stopped:
                self.ledger.put_outcome(
                    replace(
                        base,
                        reason=f"{arn} was rejected; stopping {', '.join(stopped)} first",
                        stages=affected,
                        stopped_executions=tuple(stopped),
                    )
                )
        self._stop(history, tuple(stopped), arn, base.event_id)
        results: dict[str, str] = {}
        started: list[RollbackStart] = []
        for stage, why in affected.items():
            start = self._roll_back_stage(history, stage, arn, base.event_id)
            if start is None:
                results[stage] = (
                    f"{why}; no earlier execution with a still-Approved version: "
                    "endpoint left alone"
                )
                continue
            started.append(start)
            results[stage] = (
                f"{why}; rolled back to {start.target_arn} (execution "
                f"{start.target_execution_id}) in {start.execution_id}"
            )
        base = replace(
            base, stages=results, stopped_executions=tuple(stopped), rollbacks=tuple(started)
        )
        return self._report(base, arn, package)

    # --- finding and stopping ------------------------------------------------------------

    def _affected(self, history: PipelineHistory, arn: str) -> tuple[dict[str, str], list[str]]:
        """Stages where ``arn`` is live or in flight (stage -> why), and the executions of
        ``arn`` still running (InProgress, or Stopping after a stop-and-wait)."""
        affected: dict[str, str] = {}
        for stage in self.stages:
            live = history.live(stage)
            if live is not None and live.arn == arn:
                affected[stage] = "live"
        running: list[str] = []
        for summary in history.summaries():
            execution_id = summary.execution_id
            if not summary.running:
                continue
            if history.facts(execution_id).arn != arn:
                continue
            running.append(execution_id)
            for stage in self.stages:
                if stage not in affected and history.touched(execution_id, stage):
                    affected[stage] = "in flight"
        return affected, running

    def _stop(
        self, history: PipelineHistory, execution_ids: tuple[str, ...], arn: str, event_id: str
    ) -> None:
        """Stop and abandon each execution (accepted while Stopping too), then check that
        each is Stopped; otherwise the rollback waits for the next invocation."""
        pending: list[str] = []
        for execution_id in execution_ids:
            status = history.status(execution_id)
            if status in contract.RUNNING_STATUSES:
                try:
                    self.codepipeline.stop_pipeline_execution(
                        pipelineName=self.pipeline_name,
                        pipelineExecutionId=execution_id,
                        abandon=True,
                        # StopPipelineExecution takes 200 characters at most.
                        reason=f"Greenlight: {arn} was rejected (event {event_id})"[:200],
                    )
                except ClientError as error:
                    code = error.response.get("Error", {}).get("Code")
                    if code != "PipelineExecutionNotStoppableException":
                        raise
                status = history.status(execution_id)
            if status not in contract.ENDED_STATUSES:
                pending.append(execution_id)
        if pending:
            raise StopPending(pending)

    # --- rolling back ----------------------------------------------------------------------

    def _roll_back_stage(
        self, history: PipelineHistory, stage: str, rejected_arn: str, event_id: str
    ) -> RollbackStart | None:
        target = self._target(history, stage, rejected_arn)
        if target is None:
            return None
        return RollbackStart(
            stage=stage,
            execution_id=self._start(history, stage, target, event_id),
            target_execution_id=target.execution_id,
            target_version=target.version,
            target_arn=target.arn,
        )

    def _target(self, history: PipelineHistory, stage: str, rejected_arn: str) -> Deployment | None:
        """The newest version that succeeded in ``stage`` before, other than the rejected
        one, and still Approved."""

        def status(arn: str) -> str | None:
            package = self.describe(arn)
            return None if package is None else package.get("ModelApprovalStatus")

        return approved_target(history, stage, other_than=rejected_arn, status=status)

    def _start(
        self, history: PipelineHistory, stage: str, target: Deployment, event_id: str
    ) -> str:
        for summary in history.summaries():
            if (
                summary.status == contract.STATUS_IN_PROGRESS
                and summary.is_rollback
                and summary.rollback_target == target.execution_id
            ):
                return summary.execution_id  # started by an earlier attempt
        started = start_rollback(
            history,
            stage,
            target,
            reason=contract.REASON_REJECTION_ROLLBACK,
            request_id=event_id,
        )
        return started.execution_id

    # --- telling ------------------------------------------------------------------------------

    def _report(self, base: Outcome, arn: str, package: Mapping[str, Any]) -> Outcome:
        if base.rollbacks:
            outcome, summary_text = OUTCOME_ROLLBACK_STARTED, "rolled back"
        elif base.stages:
            outcome, summary_text = OUTCOME_ROLLBACK_NONE, "NOT rolled back (nothing to go back to)"
        elif base.stopped_executions:
            outcome, summary_text = OUTCOME_STOPPED, "stopped in flight"
        else:
            return replace(
                base,
                outcome=OUTCOME_RECORDED,
                reason=f"{arn} was rejected; it is neither live nor in flight in any stage",
            )
        reason = f"{arn} was rejected; " + "; ".join(
            [f"{stage}: {text}" for stage, text in base.stages.items()]
            + [f"stopped execution {e}" for e in base.stopped_executions]
        )
        publish(
            self.sns,
            topic_arn=self.topic_arn,
            subject=f"Greenlight: {self.group} version "
            f"{package.get('ModelPackageVersion')} rejected, {summary_text}",
            body=reason.replace("; ", "\n") + f"\n\nEvent: {base.event_id}\n",
            attributes={"group": self.group, "outcome": outcome},
        )
        return replace(base, outcome=outcome, reason=reason)
