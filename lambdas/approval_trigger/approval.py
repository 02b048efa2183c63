"""An Approved version: claimed once, checked by the gates, then deployed (or refused).

DESIGN rules 1, 3 and 4 and the governance gates: the claim (``approval_trigger.claims``)
decides whether this approval is a duplicate, stale, refused by the gates or to start;
a start that a newer approval overtook while it was in flight is stopped again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from approval_trigger.claims import Approval, Claim, Claims, request_token
from approval_trigger.starts import PipelineStarts
from shared import contract
from shared.gates import check_gates
from shared.ledger import (
    ACT_GATE_REFUSED,
    ACT_STALE,
    OUTCOME_GATE_REJECTED,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_SKIPPED_INVALID,
    OUTCOME_SKIPPED_STALE,
    OUTCOME_STARTED,
    Act,
    Outcome,
)
from shared.metadata import metadata_value
from shared.notify import publish
from shared.observability import logger
from shared.settings import TriggerConfig

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient

#: The CustomerMetadataProperties key where a gate refusal is written back.
GATE_METADATA_KEY: Final = "greenlight:gate"


@dataclass(frozen=True, kw_only=True)
class Approvals:
    config: TriggerConfig
    claims: Claims
    starts: PipelineStarts
    sagemaker: SageMakerClient
    sns: SNSClient

    def approved(
        self,
        base: Outcome,
        package: Mapping[str, Any],
        *,
        trigger_reason: str,
        event_approved_at: datetime | None = None,
    ) -> Outcome:
        """The outcome of an approval (or a redeploy) of ``package``, Approved now."""
        arn = str(package["ModelPackageArn"])
        base = replace(base, trigger_reason=trigger_reason)
        containers = (package.get("InferenceSpecification") or {}).get("Containers")
        if not containers:
            return replace(
                base,
                outcome=OUTCOME_SKIPPED_INVALID,
                reason=f"{arn} has no InferenceSpecification (no containers to deploy)",
            )
        forced = trigger_reason != contract.REASON_APPROVAL
        approval = Approval.of(
            package, event_id=base.event_id, event_approved_at=event_approved_at, forced=forced
        )
        claim = self.claims.claim(approval, refusal=check_gates(package, self.config.gates))
        if claim.approved_at is not None and not forced:
            base = replace(base, approved_at=claim.approved_at)
        if claim.act is None:
            return _duplicate(base, arn, claim.previous)
        if claim.act.kind == ACT_STALE:
            return replace(base, outcome=OUTCOME_SKIPPED_STALE, reason=_stale_reason(claim))
        if claim.act.kind == ACT_GATE_REFUSED:
            reason = check_gates(package, self.config.gates) or "refused by the gates"
            return self._refuse(base, package, reason)
        return self._started(base, package, approval, claim, claim.act)

    def _started(
        self, base: Outcome, package: Mapping[str, Any], approval: Approval, claim: Claim, act: Act
    ) -> Outcome:
        """Start the claimed act; stop it again when a newer approval overtook it."""
        token = act.client_request_token or request_token(act.arn, act.sequence)
        execution_id = self._start(base, package, act)
        base = replace(base, pipeline_execution_id=execution_id, client_request_token=token)
        newer = None if approval.forced else self.claims.newer_than(approval, _when(claim))
        if newer is not None:
            # A newer approval was claimed while this start was in flight, and its start
            # may have landed first: stop this one so the newer version is what runs.
            self.starts.stop_overtaken(execution_id, newer.version, base.event_id)
            overtaken = replace(claim, newer=newer)
            return replace(
                base,
                outcome=OUTCOME_SKIPPED_STALE,
                reason=f"{_stale_reason(overtaken)}; its execution {execution_id} was stopped",
            )
        return replace(
            base,
            outcome=OUTCOME_STARTED,
            reason=f"started {self.config.pipeline_name} for {act.arn}",
        )

    def _start(self, base: Outcome, package: Mapping[str, Any], act: Act) -> str:
        """Start the pipeline for the claimed ``act``; a start that fails releases the
        claim before the error goes on to Lambda's retries and the dead-letter queue."""
        arn = act.arn
        try:
            self.starts.stop_versionless(arn, base.event_id)
            return self.starts.start(
                arn=arn,
                version=str(package["ModelPackageVersion"]),
                trigger_reason=str(base.trigger_reason),
                request_id=base.event_id,
                token=act.client_request_token or request_token(arn, act.sequence),
            )
        except Exception:
            try:
                self.claims.release(act)
            except Exception:
                logger.exception("could not release the claim on %s (act %s)", arn, act.sequence)
            raise

    def _refuse(self, base: Outcome, package: Mapping[str, Any], reason: str) -> Outcome:
        """Tell the topic and write the refusal back to the registry."""
        arn = str(package["ModelPackageArn"])
        publish(
            self.sns,
            topic_arn=self.config.topic_arn,
            subject=f"Greenlight: {self.config.group} version "
            f"{package.get('ModelPackageVersion')} refused by the gates",
            body=(
                f"The approval of {arn} did not start a deployment.\n\n"
                f"Reason: {reason}\n"
                f"Approved by: {base.approved_by}\nRegistered by: {base.registered_by}\n"
                f"Event: {base.event_id}\n"
            ),
            attributes={"group": self.config.group, "outcome": OUTCOME_GATE_REJECTED},
        )
        self.sagemaker.update_model_package(
            ModelPackageArn=arn,
            CustomerMetadataProperties={GATE_METADATA_KEY: metadata_value(reason)},
        )
        return replace(base, outcome=OUTCOME_GATE_REJECTED, reason=reason)


def _duplicate(base: Outcome, arn: str, previous: Act | None) -> Outcome:
    return replace(
        base,
        outcome=OUTCOME_SKIPPED_DUPLICATE,
        reason=(
            f"this approval of {arn} was already acted on "
            f"({previous.kind}, event {previous.event_id})"
            if previous is not None
            else f"this approval of {arn} was already acted on"
        ),
    )


def _when(claim: Claim) -> datetime:
    if claim.approved_at is None:  # pragma: no cover - only a duplicate has no time
        raise ValueError("a claim to start has an approval time")
    return claim.approved_at


def _stale_reason(claim: Claim) -> str:
    newer = claim.newer
    approved = (
        "at an unknown time"
        if claim.approved_at is None
        else (f"at {claim.approved_at.isoformat()}")
    )
    if newer is None:
        return f"approved {approved}, before an approval of the group already acted on"
    return (
        f"approved {approved}, before version {newer.version} "
        f"(approved {newer.approved_at.isoformat()}) which was already acted on"
    )
