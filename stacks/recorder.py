"""The recorder rule and the recorder function (``lambdas/recorder``).

CodePipeline emits a state-change event for every execution, stage and action of the
group's pipeline; the recorder turns them into ledger records, the registry write-back
and notifications. A recorder failure never fails a deployment: the events are
delivered asynchronously, retried, and then kept in a dead-letter queue.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events as events

from shared import contract
from stacks.event_driven_function import Subscription

RULE_DEAD_LETTER_QUEUE_REASON: Final = (
    "This queue is itself the dead-letter queue of the recorder rule's target; "
    "undelivered pipeline state changes wait here 14 days for a replay."
)


def recorder_subscription(group: str, pipeline_name: str) -> Subscription:
    """Execution, stage and action state changes of one pipeline. The recorder skips an
    event it has already recorded, so a retried delivery is safe."""
    return Subscription(
        handler_module="recorder",
        event_pattern=events.EventPattern(
            source=[contract.PIPELINE_EVENT_SOURCE],
            detail_type=list(contract.PIPELINE_DETAIL_TYPES),
            detail={"pipeline": [pipeline_name]},
        ),
        function_description=f"{group}: pipeline state changes to the ledger, registry and topic",
        rule_description=f"State changes of the {pipeline_name} pipeline, for the recorder",
        rule_dead_letter_queue_reason=RULE_DEAD_LETTER_QUEUE_REASON,
    )
