"""A function that EventBridge rules invoke, with a dead-letter queue on either side.

EventBridge invokes the function asynchronously, so two things can fail and each has its
own queue: a rule retries a delivery that does not reach the function and then puts
the event in ``rule_dead_letter_queue``; Lambda retries an invocation whose handler
fails and then puts it in ``failure_queue``. Both keep messages 14 days for a replay, so
the handler must be idempotent: an event may arrive more than once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from shared import contract
from stacks.lambda_function import GreenlightFunction
from stacks.nag import acknowledge
from stacks.queues import dead_letter_queue

RULE_RETRY_ATTEMPTS: Final = 20
RULE_MAX_EVENT_AGE: Final = Duration.hours(6)
LAMBDA_ASYNC_RETRY_ATTEMPTS: Final = 2
LAMBDA_ASYNC_MAX_EVENT_AGE: Final = Duration.hours(6)


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """What one event-driven function is: the code in ``lambdas/<handler_module>``, its
    description, and the AwsSolutions-SQS3 reason for its rules' dead-letter queue (it
    says whose rules it serves and what waits there)."""

    handler_module: str
    function_description: str
    rule_dead_letter_queue_reason: str


class EventDrivenFunction(Construct):
    """A GreenlightFunction that EventBridge rules invoke, as ``subscription`` describes.

    Exposes ``function`` (a GreenlightFunction), ``rule_dead_letter_queue`` (events
    EventBridge could not deliver, from any of the function's rules) and
    ``failure_queue`` (asynchronous invocations that failed in the function after
    Lambda's own retries). Rules are added with :func:`subscribe`, in this stack or in
    another one: the queue's policy admits every rule named ``greenlight-*`` of the
    account, so a rule in a group's stack needs no change here.
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
        stack = Stack.of(self)
        self.rule_dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GreenlightRulesDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.rule_dead_letter_queue.queue_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="events",
                            resource="rule",
                            resource_name=f"{contract.NAME_PREFIX}*",
                        )
                    }
                },
            )
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


def subscribe(
    scope: Construct,
    construct_id: str,
    *,
    rule_name: str,
    description: str,
    event_pattern: events.EventPattern,
    function: lambda_.IFunction,
    rule_dead_letter_queue: sqs.IQueue,
) -> events.Rule:
    """A rule named ``rule_name`` (``greenlight-…``) that sends ``event_pattern``'s events to
    ``function``, with retries and then ``rule_dead_letter_queue``.

    In another stack than the function's, pass the function and queue as imported
    references: the invoke permission is then created next to the rule, and the queue's
    own policy already admits the rule by its name.
    """
    if not rule_name.startswith(contract.NAME_PREFIX):
        raise ValueError(f"rule name {rule_name!r} must start with {contract.NAME_PREFIX!r}")
    return events.Rule(
        scope,
        construct_id,
        rule_name=rule_name,
        description=description,
        event_pattern=event_pattern,
        targets=[
            targets.LambdaFunction(
                function,
                dead_letter_queue=rule_dead_letter_queue,
                retry_attempts=RULE_RETRY_ATTEMPTS,
                max_event_age=RULE_MAX_EVENT_AGE,
            )
        ],
    )
