"""The recorder rule and the recorder function (``lambdas/recorder``).

CodePipeline emits a state-change event for every execution, stage and action of the
group's pipeline; the recorder turns them into ledger records, the registry write-back
and notifications. A recorder failure never fails a deployment: the events are
delivered asynchronously, retried, and then kept in a dead-letter queue.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from constructs import Construct

from shared import contract
from stacks.lambda_function import GreenlightFunction
from stacks.nag import acknowledge
from stacks.queues import dead_letter_queue

#: The recorder skips an event it has already recorded, so retries are safe.
RULE_RETRY_ATTEMPTS: Final = 20
RULE_MAX_EVENT_AGE: Final = Duration.hours(6)
LAMBDA_ASYNC_RETRY_ATTEMPTS: Final = 2
LAMBDA_ASYNC_MAX_EVENT_AGE: Final = Duration.hours(6)


def recorder_event_pattern(pipeline_name: str) -> events.EventPattern:
    """Execution, stage and action state changes of one pipeline."""
    return events.EventPattern(
        source=[contract.PIPELINE_EVENT_SOURCE],
        detail_type=list(contract.PIPELINE_DETAIL_TYPES),
        detail={"pipeline": [pipeline_name]},
    )


class PipelineRecorder(Construct):
    """Exposes ``rule``, ``function`` (a GreenlightFunction), ``rule_dead_letter_queue``
    (events EventBridge could not deliver) and ``failure_queue`` (asynchronous
    invocations that failed in the function after Lambda's own retries)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group: str,
        pipeline_name: str,
        environment: dict[str, str],
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule_dead_letter_queue = dead_letter_queue(self, "RuleDeadLetterQueue")
        self.failure_queue = dead_letter_queue(self, "FailureQueue")
        acknowledge(
            self.rule_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the recorder rule's target; "
            "undelivered pipeline state changes wait here 14 days for a replay.",
        )
        self.function = GreenlightFunction(
            self,
            "Function",
            handler_module="recorder",
            description=f"{group}: pipeline state changes to the ledger, registry and topic",
            environment=environment,
            key=key,
            timeout=Duration.seconds(60),
            dead_letter_queue=self.failure_queue,
            retry_attempts=LAMBDA_ASYNC_RETRY_ATTEMPTS,
            max_event_age=LAMBDA_ASYNC_MAX_EVENT_AGE,
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"State changes of the {pipeline_name} pipeline, for the recorder",
            event_pattern=recorder_event_pattern(pipeline_name),
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    retry_attempts=RULE_RETRY_ATTEMPTS,
                    max_event_age=RULE_MAX_EVENT_AGE,
                )
            ],
        )
