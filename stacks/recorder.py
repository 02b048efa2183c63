"""The recorder (``lambdas/recorder``) and its one rule.

CodePipeline emits a state-change event for every execution, stage and action of every
pipeline; the rule passes on those of the pipelines Greenlight names (``greenlight-…``),
and the recorder turns them into ledger records, the registry write-back and
notifications, reading each group's settings from the group registry. A recorder
failure never fails a deployment: the events are delivered asynchronously, retried, and
then kept in a dead-letter queue.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events as events

from shared import contract
from stacks.event_driven_function import Subscription

RECORDER: Final = Subscription(
    handler_module="recorder",
    function_description="pipeline state changes to the ledger, registry and topic",
    rule_dead_letter_queue_reason=(
        "This queue is itself the dead-letter queue of the recorder rule's target; "
        "undelivered pipeline state changes wait here 14 days for a replay."
    ),
)

RULE_DESCRIPTION: Final = "State changes of every Greenlight pipeline, for the recorder"


def recorder_pattern() -> events.EventPattern:
    """Execution, stage and action state changes of the pipelines named ``greenlight-…``.
    The recorder skips an event it has already recorded, so a retried delivery is safe."""
    return events.EventPattern(
        source=[contract.PIPELINE_EVENT_SOURCE],
        detail_type=list(contract.PIPELINE_DETAIL_TYPES),
        detail={"pipeline": [{"prefix": contract.NAME_PREFIX}]},
    )
