"""The approval trigger: a registry change becomes at most one deployment (or a rollback).

DESIGN rules 1-4 and 7-9. The event is a hint: the package is read again from the
registry and its status *now* decides what happens. Every event ends in exactly one
ledger outcome; an unexpected error is recorded as ``failed`` and raised again so that
Lambda retries the event and, in the end, sends it to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Unpack

from botocore.exceptions import ClientError

from approval_trigger.approval import Approvals
from approval_trigger.claims import CLAIM_ATTEMPTS, ClaimContended, Claims
from approval_trigger.rejection import Rejection
from approval_trigger.starts import PipelineStarts
from shared import contract
from shared.events import (
    MalformedEvent,
    event_id_of,
    parse_state_change,
)
from shared.function_clients import Clients, LedgerFunction
from shared.gates import identity
from shared.ledger import (
    ACT_REJECTION,
    OUTCOME_FAILED,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_SKIPPED_MALFORMED,
    OUTCOME_SKIPPED_MISSING,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_OTHER_GROUP,
    Act,
    Outcome,
)
from shared.observability import logger
from shared.rollback import refusal
from shared.settings import TriggerConfig

if TYPE_CHECKING:
    pass


class ApprovalTrigger(LedgerFunction[TriggerConfig]):
    def __init__(self, config: TriggerConfig, **clients: Unpack[Clients]) -> None:
        super().__init__(config, **clients)
        self.claims = Claims(self.ledger, group=config.group, clock=self.clock)

    # --- entry points -------------------------------------------------------------

    def handle(self, event: object) -> Outcome:
        """Handle one EventBridge event; returns its one recorded outcome."""
        event_id = event_id_of(event)
        return self._once(event_id, lambda base: self._decide(event, base))

    def start_deployment(
        self,
        arn: str,
        *,
        request_id: str,
        reason: str = contract.REASON_REDEPLOY,
        operator: str | None = None,
        operator_reason: str | None = None,
    ) -> Outcome:
        """Deploy an Approved version again on request (``greenlight redeploy``): the
        duplicate and stale guards do not apply, the gates do. The outcome keeps who
        asked (``operator``) and why."""
        if reason not in contract.TRIGGER_REASONS:
            raise ValueError(f"reason: expected one of {contract.TRIGGER_REASONS}, got {reason!r}")

        def decide(base: Outcome) -> Outcome:
            base = replace(
                base, trigger_reason=reason, operator=operator, operator_reason=operator_reason
            )
            package = self._describe(arn)
            if package is None:
                return replace(
                    base, outcome=OUTCOME_SKIPPED_MISSING, reason=f"{arn} is not in the registry"
                )
            base = self._with_package(base, package)
            if package.get("ModelPackageGroupName") != self.config.group:
                return self._other_group(base, str(package.get("ModelPackageGroupName")))
            refused = refusal(arn, package.get("ModelApprovalStatus"))
            if refused is not None:
                return replace(base, outcome=OUTCOME_SKIPPED_NOT_APPROVED, reason=refused)
            return self._approvals().approved(base, package, trigger_reason=reason)

        return self._once(request_id, decide)

    # --- the one-outcome frame ------------------------------------------------------

    def _once(self, event_id: str, decide: Callable[[Outcome], Outcome]) -> Outcome:
        existing = self.ledger.get_outcome(self.config.group, event_id)
        if existing is not None and existing.outcome != OUTCOME_FAILED:
            logger.info("event %s already has outcome %s", event_id, existing.outcome)
            return existing
        base = Outcome(
            group=self.config.group,
            event_id=event_id,
            outcome=OUTCOME_FAILED,
            reason="",
            recorded_at=self.clock.now(),
            attempts=1 if existing is None else existing.attempts + 1,
        )
        if existing is not None:
            # A rejection that recorded what it affects before stopping resumes from it.
            base = replace(
                base, stages=existing.stages, stopped_executions=existing.stopped_executions
            )
        try:
            outcome = decide(base)
        except Exception as error:
            recorded = self.ledger.get_outcome(self.config.group, event_id)
            kept = recorded if recorded is not None and recorded.stages else base
            failed = replace(
                kept,
                reason=f"{type(error).__name__}: {error}"[:2000],
                attempts=base.attempts,
                recorded_at=self.clock.now(),
            )
            try:
                self.ledger.put_outcome(failed)
            except Exception:
                logger.exception("could not record the failure of event %s", event_id)
            raise
        recorded = self.ledger.put_outcome(replace(outcome, recorded_at=self.clock.now()))
        logger.info("event %s: %s (%s)", event_id, recorded.outcome, recorded.reason or "no reason")
        return recorded

    # --- deciding -------------------------------------------------------------------

    def _decide(self, event: object, base: Outcome) -> Outcome:
        try:
            change = parse_state_change(event)
        except MalformedEvent as error:
            return replace(base, outcome=OUTCOME_SKIPPED_MALFORMED, reason=str(error))
        base = replace(
            base,
            model_package_arn=change.arn,
            model_package_version=change.version,
            approval_status=change.approval_status,
        )
        if change.group != self.config.group:
            return self._other_group(base, change.group)
        package = self._describe(change.arn)
        if package is None:
            return replace(
                base,
                outcome=OUTCOME_SKIPPED_MISSING,
                reason=f"{change.arn} is not in the registry (DescribeModelPackage)",
            )
        base = self._with_package(base, package)
        if package.get("ModelPackageGroupName") != self.config.group:
            return self._other_group(base, str(package.get("ModelPackageGroupName")))
        status = package.get("ModelApprovalStatus")
        if status == contract.APPROVED:
            said_approved = change.approval_status == contract.APPROVED
            return self._approvals().approved(
                base,
                package,
                trigger_reason=contract.REASON_APPROVAL,
                event_approved_at=change.last_modified if said_approved else None,
            )
        if status == contract.REJECTED:
            return self._rejected(base, package)
        return replace(
            base,
            outcome=OUTCOME_SKIPPED_NOT_APPROVED,
            reason=(
                f"{change.arn} is {status} in the registry "
                f"(the event said {change.approval_status})"
            ),
        )

    def _other_group(self, base: Outcome, group: str) -> Outcome:
        return replace(
            base,
            outcome=OUTCOME_SKIPPED_OTHER_GROUP,
            reason=f"the package belongs to group {group}; this trigger serves {self.config.group}",
        )

    def _describe(self, arn: str) -> dict[str, Any] | None:
        try:
            return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))
        except ClientError as error:
            details = error.response.get("Error", {})
            message = str(details.get("Message", "")).lower()
            if details.get("Code") == "ValidationException" and (
                "not found" in message or "does not exist" in message
            ):
                return None
            raise

    def _with_package(self, base: Outcome, package: Mapping[str, Any]) -> Outcome:
        return replace(
            base,
            model_package_arn=str(package["ModelPackageArn"]),
            model_package_version=int(package.get("ModelPackageVersion") or 0) or None,
            approval_status=package.get("ModelApprovalStatus"),
            approved_by=identity(package.get("LastModifiedBy")).describe(),
            registered_by=identity(package.get("CreatedBy")).describe(),
            approval_description=package.get("ApprovalDescription"),
            approved_at=package.get("LastModifiedTime") or package.get("CreationTime"),
        )

    # --- rejection ------------------------------------------------------------------

    def _rejected(self, base: Outcome, package: Mapping[str, Any]) -> Outcome:
        arn = str(package["ModelPackageArn"])
        base = replace(base, trigger_reason=contract.REASON_REJECTION_ROLLBACK)
        for _ in range(CLAIM_ATTEMPTS):
            latest = self.ledger.latest_act(arn)
            if latest is not None and latest.event_id == base.event_id:
                break
            if latest is not None and latest.kind == ACT_REJECTION:
                return replace(
                    base,
                    outcome=OUTCOME_SKIPPED_DUPLICATE,
                    reason=(
                        f"this rejection of {arn} was already acted on (event {latest.event_id})"
                    ),
                )
            act = Act(
                arn=arn,
                sequence=1 if latest is None else latest.sequence + 1,
                kind=ACT_REJECTION,
                event_id=base.event_id,
                recorded_at=self.clock.now(),
            )
            if self.ledger.claim(act):
                break
        else:
            raise ClaimContended(arn)
        return self._rejection().roll_back(base, arn, package)

    def _approvals(self) -> Approvals:
        return Approvals(
            config=self.config,
            claims=self.claims,
            starts=PipelineStarts(self.codepipeline, self.config.pipeline_name),
            sagemaker=self.sagemaker,
            sns=self.sns,
        )

    def _rejection(self) -> Rejection:
        return Rejection(
            group=self.config.group,
            pipeline_name=self.config.pipeline_name,
            stages=self.config.stages,
            topic_arn=self.config.topic_arn,
            codepipeline=self.codepipeline,
            sns=self.sns,
            ledger=self.ledger,
            describe=self._describe,
        )
