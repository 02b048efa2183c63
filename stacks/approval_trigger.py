"""The approval rule and the approval-trigger function (``lambdas/approval_trigger``)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from constructs import Construct

from shared import contract
from stacks.lambda_function import GreenlightFunction
from stacks.nag import acknowledge
from stacks.queues import dead_letter_queue

APPROVAL_STATUSES = ("Approved", "Rejected")
#: The trigger is idempotent (it dedupes on the ledger), so retries are safe; an event
#: that still fails after this lands in the dead-letter queue with its error.
RULE_RETRY_ATTEMPTS = 20
RULE_MAX_EVENT_AGE = Duration.hours(6)
LAMBDA_ASYNC_RETRY_ATTEMPTS = 2
LAMBDA_ASYNC_MAX_EVENT_AGE = Duration.hours(6)


def approval_event_pattern(group: str) -> events.EventPattern:
    """This group's approval changes; the trigger re-reads the package either way."""
    return events.EventPattern(
        source=[contract.EVENT_SOURCE],
        detail_type=[contract.EVENT_DETAIL_TYPE],
        detail={
            "ModelPackageGroupName": [group],
            "ModelApprovalStatus": list(APPROVAL_STATUSES),
        },
    )


class ApprovalTrigger(Construct):
    """Exposes ``rule``, ``function`` (a GreenlightFunction), ``rule_dead_letter_queue``
    (events EventBridge could not deliver) and ``failure_queue`` (asynchronous
    invocations that failed in the function after Lambda's own retries)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group: str,
        environment: dict[str, str],
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule_dead_letter_queue = dead_letter_queue(self, "RuleDeadLetterQueue")
        self.failure_queue = dead_letter_queue(self, "FailureQueue")
        acknowledge(
            self.rule_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the approval rule's target; "
            "messages here are kept 14 days for an operator to replay.",
        )
        self.function = GreenlightFunction(
            self,
            "Function",
            handler_module="approval_trigger",
            description=f"{group}: approval or rejection in the registry to a pipeline run",
            environment=environment,
            key=key,
            timeout=Duration.seconds(60),
            # EventBridge invokes asynchronously: a function error is retried by Lambda,
            # not by the rule, and then lands here.
            dead_letter_queue=self.failure_queue,
            retry_attempts=LAMBDA_ASYNC_RETRY_ATTEMPTS,
            max_event_age=LAMBDA_ASYNC_MAX_EVENT_AGE,
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"SageMaker approval changes of the {group} model package group",
            event_pattern=approval_event_pattern(group),
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    dead_letter_queue=self.rule_dead_letter_queue,
                    retry_attempts=RULE_RETRY_ATTEMPTS,
                    max_event_age=RULE_MAX_EVENT_AGE,
                )
            ],
        )
