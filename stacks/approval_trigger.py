"""The approval trigger (``lambdas/approval_trigger``) and each group's approval rule.

One function serves every group; each group's stack adds only its rule, which passes on
that group's approval changes. The trigger reads the group's settings from the group
registry, re-reads the package either way and dedupes on the ledger, so a retried
delivery is safe.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events as events

from shared import contract
from stacks.event_driven_function import Subscription

APPROVAL_STATUSES: Final = (contract.APPROVED, contract.REJECTED)

APPROVAL_TRIGGER: Final = Subscription(
    handler_module="approval_trigger",
    function_description="approval or rejection in the registry to a pipeline run",
    rule_dead_letter_queue_reason=(
        "This queue is itself the dead-letter queue of the approval rules' target; "
        "messages here are kept 14 days for an operator to replay."
    ),
)


def approval_pattern(group: str) -> events.EventPattern:
    """This group's approval changes."""
    return events.EventPattern(
        source=[contract.EVENT_SOURCE],
        detail_type=[contract.EVENT_DETAIL_TYPE],
        detail={
            "ModelPackageGroupName": [group],
            "ModelApprovalStatus": list(APPROVAL_STATUSES),
        },
    )


def approval_rule_description(group: str) -> str:
    return f"SageMaker approval changes of the {group} model package group"
