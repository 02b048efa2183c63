"""A function that an EventBridge rule invokes, with a dead-letter queue on either side.

EventBridge invokes the function asynchronously, so two things can fail and each has its
own queue: the rule retries a delivery that does not reach the function and then puts
the event in ``rule_dead_letter_queue``; Lambda retries an invocation whose handler
fails and then puts it in ``failure_queue``. Both keep messages 14 days for a replay, so
the handler must be idempotent: an event may arrive more than once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.lambda_function import GreenlightFunction
from stacks.nag import acknowledge
from stacks.queues import dead_letter_queue

RULE_RETRY_ATTEMPTS: Final = 20
RULE_MAX_EVENT_AGE: Final = Duration.hours(6)
LAMBDA_ASYNC_RETRY_ATTEMPTS: Final = 2
LAMBDA_ASYNC_MAX_EVENT_AGE: Final = Duration.hours(6)


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """What one event-driven function is: the code in ``lambdas/<handler_module>``, the
    events its rule passes on, the two descriptions, and the AwsSolutions-SQS3 reason for
    the rule's dead-letter queue (it says whose rule it serves and what waits there)."""

    handler_module: str
    event_pattern: events.EventPattern
    function_description: str
    rule_description: str
    rule_dead_letter_queue_reason: str


class EventDrivenFunction(Construct):
    """A GreenlightFunction behind an EventBridge rule, as ``subscription`` describes it.

    Exposes ``rule``, ``function`` (a GreenlightFunction), ``rule_dead_letter_queue``
    (events EventBridge could not deliver) and ``failure_queue`` (asynchronous
    invocations that failed in the function after Lambda's own retries).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subscription: Subscription,
        environment: dict[str, str],
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule_dead_letter_queue = dead_letter_queue(self, "RuleDeadLetterQueue")
        self.failure_queue = dead_letter_queue(self, "FailureQueue")
        acknowledge(
            self.rule_dead_letter_queue,
            "AwsSolutions-SQS3",
            subscription.rule_dead_letter_queue_reason,
        )
        self.function = GreenlightFunction(
            self,
            "Function",
            handler_module=subscription.handler_module,
            description=subscription.function_description,
            environment=environment,
            key=key,
            # A function error is retried by Lambda, not by the rule, and then lands here.
            dead_letter_queue=self.failure_queue,
            retry_attempts=LAMBDA_ASYNC_RETRY_ATTEMPTS,
            max_event_age=LAMBDA_ASYNC_MAX_EVENT_AGE,
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=subscription.rule_description,
            event_pattern=subscription.event_pattern,
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    retry_attempts=RULE_RETRY_ATTEMPTS,
                    max_event_age=RULE_MAX_EVENT_AGE,
                )
            ],
        )
