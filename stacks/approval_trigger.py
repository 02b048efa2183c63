"""The approval rule and the approval-trigger function (``lambdas/approval_trigger``)."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events as events

from shared import contract
from stacks.event_driven_function import Subscription

APPROVAL_STATUSES: Final = (contract.APPROVED, contract.REJECTED)
RULE_DEAD_LETTER_QUEUE_REASON: Final = (
    "This queue is itself the dead-letter queue of the approval rule's target; "
    "messages here are kept 14 days for an operator to replay."
)


def approval_trigger_subscription(group: str) -> Subscription:
    """This group's approval changes; the trigger re-reads the package either way. It
    dedupes on the ledger, so a retried delivery is safe."""
    return Subscription(
        handler_module="approval_trigger",
        event_pattern=events.EventPattern(
            source=[contract.EVENT_SOURCE],
            detail_type=[contract.EVENT_DETAIL_TYPE],
            detail={
                "ModelPackageGroupName": [group],
                "ModelApprovalStatus": list(APPROVAL_STATUSES),
            },
        ),
        function_description=f"{group}: approval or rejection in the registry to a pipeline run",
        rule_description=f"SageMaker approval changes of the {group} model package group",
        rule_dead_letter_queue_reason=RULE_DEAD_LETTER_QUEUE_REASON,
    )
