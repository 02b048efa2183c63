"""Whose approval a deployment went out on (shared.pipeline_history.deployment_approval):
the one answer ``greenlight status`` and ``greenlight history`` both give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import contract
from shared.ledger import (
    OUTCOME_GATE_REJECTED,
    OUTCOME_ROLLBACK_NONE,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_STARTED,
    Outcome,
)
from shared.pipeline_history import deployment_approval

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1"
OTHER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/2"
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def _outcome(
    event_id: str,
    minutes: int,
    *,
    approved_by: str | None = ALICE,
    arn: str = ARN,
    reason: str = contract.REASON_APPROVAL,
    outcome: str = OUTCOME_STARTED,
) -> Outcome:
    return Outcome(
        group="churn",
        event_id=event_id,
        outcome=outcome,
        reason="",
        recorded_at=_at(minutes) + timedelta(seconds=5),
        model_package_arn=arn,
        trigger_reason=reason,
        approved_by=approved_by,
        approved_at=_at(minutes),
    )


def _went_out_on(
    outcomes: list[Outcome],
    *,
    request_id: str | None,
    minutes: int | None,
    execution_type: str = contract.EXECUTION_STANDARD,
) -> Outcome | None:
    """The approval an execution of ``ARN`` started at ``minutes`` went out on."""
    return deployment_approval(
        outcomes,
        arn=ARN,
        request_id=request_id,
        execution_type=execution_type,
        started_at=None if minutes is None else _at(minutes),
    )


def _approve_reject_reapprove() -> list[Outcome]:
    """Alice approves v1 (minute 0), it is rejected (10), Bob approves it again (20)."""
    return [
        _outcome("alice-approval", 0, approved_by=ALICE),
        _outcome(
            "rejection",
            10,
            approved_by=None,
            reason=contract.REASON_REJECTION_ROLLBACK,
            outcome=OUTCOME_ROLLBACK_NONE,
        ),
        _outcome("bob-approval", 20, approved_by=BOB),
    ]


def test_an_execution_an_approval_started_went_out_on_that_approval() -> None:
    # GIVEN Alice's approval, a rejection and Bob's approval of the same version
    outcomes = _approve_reject_reapprove()

    # WHEN asked about the execution Alice's approval started (before Bob approved)
    approval = _went_out_on(outcomes, request_id="alice-approval", minutes=1)

    # THEN it is Alice's
    assert approval is not None
    assert approval.approved_by == ALICE


def test_a_redeploy_after_a_re_approval_went_out_on_the_re_approval() -> None:
    # GIVEN Alice's approval, a rejection, Bob's approval, then a redeploy at minute 30
    outcomes = [
        *_approve_reject_reapprove(),
        _outcome("redeploy", 30, approved_by=None, reason=contract.REASON_REDEPLOY),
    ]

    # WHEN asked about the redeploy's execution
    approval = _went_out_on(outcomes, request_id="redeploy", minutes=30)

    # THEN it went out on Bob's approval, the one in force, not Alice's revoked one
    assert approval is not None
    assert approval.approved_by == BOB


def test_a_rollback_execution_carrying_a_revoked_approvals_request_id_names_the_one_in_force() -> (
    None
):
    # GIVEN Alice's approval, a rejection and Bob's approval; then a stage rolls back (at
    # minute 40) to the execution Alice's approval started, whose variables it carries
    outcomes = _approve_reject_reapprove()

    # WHEN asked about the ROLLBACK execution
    approval = _went_out_on(
        outcomes,
        request_id="alice-approval",
        minutes=40,
        execution_type=contract.EXECUTION_ROLLBACK,
    )

    # THEN it went out on Bob's approval
    assert approval is not None
    assert approval.approved_by == BOB


def test_an_approval_given_after_the_execution_started_is_not_the_one_it_went_out_on() -> None:
    # GIVEN a redeploy at minute 15, between the rejection and Bob's approval
    outcomes = _approve_reject_reapprove()

    # WHEN asked about that redeploy
    approval = _went_out_on(outcomes, request_id="redeploy", minutes=15)

    # THEN Bob's later approval is not it: the latest before the start is Alice's
    assert approval is not None
    assert approval.approved_by == ALICE


def test_refused_duplicate_and_other_versions_approvals_are_not_counted() -> None:
    # GIVEN Alice's approval of v1, then a gate-refused and a duplicate approval of v1,
    # and an approval of v2, all later
    outcomes = [
        _outcome("alice-approval", 0, approved_by=ALICE),
        _outcome("refused", 5, approved_by=BOB, outcome=OUTCOME_GATE_REJECTED),
        _outcome("duplicate", 6, approved_by=BOB, outcome=OUTCOME_SKIPPED_DUPLICATE),
        _outcome("v2", 7, approved_by=BOB, arn=OTHER_ARN),
    ]

    # WHEN asked about a redeploy of v1 at minute 30
    approval = _went_out_on(outcomes, request_id="redeploy", minutes=30)

    # THEN only Alice's approval counts
    assert approval is not None
    assert approval.event_id == "alice-approval"


def test_a_version_the_ledger_holds_no_approval_of_has_no_approval() -> None:
    # GIVEN outcomes about another version only
    outcomes = [_outcome("v2", 0, arn=OTHER_ARN)]

    # WHEN asked about v1
    approval = _went_out_on(outcomes, request_id=None, minutes=None)

    # THEN there is none
    assert approval is None
