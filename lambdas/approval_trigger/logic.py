"""The approval trigger: a registry change becomes at most one deployment (or a rollback).

DESIGN rules 1-4 and 7-9. The event is a hint: the package is read again from the
registry and its status *now* decides what happens. Every event ends in exactly one
ledger outcome; an unexpected error is recorded as ``failed`` and raised again so that
Lambda retries the event and, in the end, sends it to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError

from approval_trigger.claims import (
    CLAIM_ATTEMPTS,
    Approval,
    Claim,
    ClaimContended,
    Claims,
    request_token,
)
from approval_trigger.gates import Gates, check_gates, identity
from approval_trigger.rejection import Rejection
from shared import contract
from shared.clock import Clock, current_clock
from shared.environment import ConfigError, json_value, required, stage_names
from shared.events import (
    MalformedEvent,
    event_id_of,
    parse_state_change,
)
from shared.group_registry import GroupEntry, group_settings
from shared.ledger import (
    ACT_GATE_REFUSED,
    ACT_REJECTION,
    ACT_STALE,
    OUTCOME_FAILED,
    OUTCOME_GATE_REJECTED,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_SKIPPED_INVALID,
    OUTCOME_SKIPPED_MALFORMED,
    OUTCOME_SKIPPED_MISSING,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_OTHER_GROUP,
    OUTCOME_SKIPPED_STALE,
    OUTCOME_STARTED,
    Act,
    Ledger,
    Outcome,
)
from shared.metadata import metadata_value
from shared.notify import publish
from shared.observability import logger
from shared.rollback import PipelineHistory, has_model_version, refusal

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient

APPROVED: Final = "Approved"
REJECTED: Final = "Rejected"
#: The CustomerMetadataProperties key where a gate refusal is written back.
GATE_METADATA_KEY: Final = "greenlight:gate"
#: StopPipelineExecution's answers when the execution is already stopped or stopping.
_NOT_STOPPABLE: Final = ("PipelineExecutionNotStoppableException", "DuplicatedStopRequestException")


@dataclass(frozen=True, kw_only=True)
class TriggerConfig:
    ledger_table: str
    topic_arn: str
    group: str
    pipeline_name: str
    stages: tuple[str, ...]
    gates: Gates = field(default_factory=Gates)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TriggerConfig:
        gates_raw = json_value(environ.get(contract.ENV_GATES) or "{}", contract.ENV_GATES)
        return cls(
            ledger_table=required(environ, contract.ENV_LEDGER_TABLE),
            topic_arn=required(environ, contract.ENV_TOPIC_ARN),
            group=required(environ, contract.ENV_GROUP_NAME),
            pipeline_name=required(environ, contract.ENV_PIPELINE_NAME),
            stages=stage_names(environ),
            gates=gates_from(gates_raw, contract.ENV_GATES),
        )

    @classmethod
    def for_group(cls, environ: Mapping[str, str], entry: GroupEntry) -> TriggerConfig:
        """The shared trigger's settings for one group: the ledger and topic from its
        environment, the rest from the group's registry entry."""
        return cls(
            **group_settings(environ, entry),
            gates=gates_from(entry.gates, contract.group_registry_parameter(entry.group)),
        )


def gates_from(gates_raw: object, where: str) -> Gates:
    """The governance gates ``{"requiredReports": [...], "separationOfDuties": bool}``
    read from ``where``; refused with ``where`` named."""
    if not isinstance(gates_raw, dict):
        raise ConfigError(where, f"expected a JSON object, got {gates_raw!r}")
    unknown = set(gates_raw) - {"requiredReports", "separationOfDuties"}
    if unknown:
        raise ConfigError(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    reports = gates_raw.get("requiredReports", [])
    separation = gates_raw.get("separationOfDuties", False)
    if not isinstance(reports, list) or not all(isinstance(r, str) for r in reports):
        raise ConfigError(where, "requiredReports: expected a list of names")
    if not isinstance(separation, bool):
        raise ConfigError(where, "separationOfDuties: expected true or false")
    try:
        return Gates(required_reports=tuple(reports), separation_of_duties=separation)
    except ValueError as error:
        raise ConfigError(where, str(error)) from None


class ApprovalTrigger:
    def __init__(
        self,
        config: TriggerConfig,
        *,
        sagemaker: SageMakerClient | None = None,
        codepipeline: CodePipelineClient | None = None,
        sns: SNSClient | None = None,
        dynamodb: DynamoDBClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._sagemaker = sagemaker
        self._codepipeline = codepipeline
        self._sns = sns
        self.ledger = Ledger(config.ledger_table, client=dynamodb)
        self.clock: Clock = clock or current_clock()
        self.claims = Claims(self.ledger, group=config.group, clock=self.clock)

    @property
    def sagemaker(self) -> SageMakerClient:
        if self._sagemaker is None:
            self._sagemaker = boto3.client("sagemaker")
        return self._sagemaker

    @property
    def codepipeline(self) -> CodePipelineClient:
        if self._codepipeline is None:
            self._codepipeline = boto3.client("codepipeline")
        return self._codepipeline

    @property
    def sns(self) -> SNSClient:
        if self._sns is None:
            self._sns = boto3.client("sns")
        return self._sns

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
            return self._approved(base, package, trigger_reason=reason)

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
        if status == APPROVED:
            said_approved = change.approval_status == APPROVED
            return self._approved(
                base,
                package,
                trigger_reason=contract.REASON_APPROVAL,
                event_approved_at=change.last_modified if said_approved else None,
            )
        if status == REJECTED:
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

    # --- approval -------------------------------------------------------------------

    def _approved(
        self,
        base: Outcome,
        package: Mapping[str, Any],
        *,
        trigger_reason: str,
        event_approved_at: datetime | None = None,
    ) -> Outcome:
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
            previous = claim.previous
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
        if claim.act.kind == ACT_STALE:
            return replace(base, outcome=OUTCOME_SKIPPED_STALE, reason=_stale_reason(claim))
        if claim.act.kind == ACT_GATE_REFUSED:
            reason = check_gates(package, self.config.gates) or "refused by the gates"
            return self._refuse(base, package, reason)
        token = claim.act.client_request_token or request_token(arn, claim.act.sequence)
        execution_id = self._start(base, package, claim.act, trigger_reason=trigger_reason)
        base = replace(base, pipeline_execution_id=execution_id, client_request_token=token)
        newer = None if forced else self.claims.newer_than(approval, _when(claim))
        if newer is not None:
            # A newer approval was claimed while this start was in flight, and its start
            # may have landed first: stop this one so the newer version is what runs.
            self._stop_overtaken(execution_id, newer.version, base.event_id)
            overtaken = replace(claim, newer=newer)
            return replace(
                base,
                outcome=OUTCOME_SKIPPED_STALE,
                reason=f"{_stale_reason(overtaken)}; its execution {execution_id} was stopped",
            )
        return replace(
            base, outcome=OUTCOME_STARTED, reason=f"started {self.config.pipeline_name} for {arn}"
        )

    def _start(
        self, base: Outcome, package: Mapping[str, Any], act: Act, *, trigger_reason: str
    ) -> str:
        """Start the pipeline for the claimed ``act``; a start that fails releases the
        claim before the error goes on to Lambda's retries and the dead-letter queue."""
        arn = act.arn
        token = act.client_request_token or request_token(arn, act.sequence)
        try:
            self._stop_versionless(arn, base.event_id)
            response = self.codepipeline.start_pipeline_execution(
                name=self.config.pipeline_name,
                variables=[
                    {"name": contract.VAR_MODEL_PACKAGE_ARN, "value": arn},
                    {
                        "name": contract.VAR_MODEL_PACKAGE_VERSION,
                        "value": str(package["ModelPackageVersion"]),
                    },
                    {"name": contract.VAR_TRIGGER_REASON, "value": trigger_reason},
                    {"name": contract.VAR_REQUEST_ID, "value": base.event_id},
                ],
                clientRequestToken=token,
            )
        except Exception:
            try:
                self.claims.release(act)
            except Exception:
                logger.exception("could not release the claim on %s (act %s)", arn, act.sequence)
            raise
        return str(response["pipelineExecutionId"])

    def _stop_overtaken(self, execution_id: str, newer_version: int, event_id: str) -> None:
        """Stop (letting running actions finish, so nothing is half deployed) an execution
        a newer approval overtook before it could run."""
        try:
            self.codepipeline.stop_pipeline_execution(
                pipelineName=self.config.pipeline_name,
                pipelineExecutionId=execution_id,
                abandon=False,
                # StopPipelineExecution takes a reason of 200 characters at most.
                reason=f"Greenlight: version {newer_version} was approved later (event {event_id})"[
                    :200
                ],
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in (
                "PipelineExecutionNotStoppableException",
                "DuplicatedStopRequestException",
            ):
                raise

    def _stop_versionless(self, arn: str, event_id: str) -> None:
        """Stop (abandon) running executions that carry no model version — the one
        CodePipeline starts on pipeline creation, a "Release change" — so one waiting at
        a manual approval does not hold the approved version back. They deploy nothing."""
        history = PipelineHistory(self.codepipeline, self.config.pipeline_name)
        for summary in history.summaries():
            execution_id = str(summary["pipelineExecutionId"])
            if summary["status"] != "InProgress" or summary.get("executionType") == "ROLLBACK":
                continue
            if has_model_version(history.variables(execution_id)):
                continue
            try:
                self.codepipeline.stop_pipeline_execution(
                    pipelineName=self.config.pipeline_name,
                    pipelineExecutionId=execution_id,
                    abandon=True,
                    # StopPipelineExecution takes a reason of 200 characters at most.
                    reason=f"Greenlight: no model version to deploy; {arn} was approved "
                    f"(event {event_id})"[:200],
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != (
                    "PipelineExecutionNotStoppableException"
                ):
                    raise

    def _refuse(self, base: Outcome, package: Mapping[str, Any], reason: str) -> Outcome:
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
