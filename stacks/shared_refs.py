"""What a group's stack uses of the shared stack, passed as named CloudFormation exports.

The shared stack exports every value below, whatever the groups are, and a group's
stack imports them by name (``Fn::ImportValue``). So adding, changing or removing a
group never changes the shared stack's template: CDK's automatic cross-stack references
would add an export the first time some group needs a value, and are avoided on purpose.
The group stacks depend on the shared stack, so ``cdk deploy --all`` deploys it first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from aws_cdk import CfnOutput, Fn, Stack

from shared import contract

#: Field of SharedRefs → the suffix of its export name (``Greenlight-<suffix>``).
_EXPORTS: Final = {
    "key_arn": "KeyArn",
    "topic_arn": "TopicArn",
    "artifact_bucket_arn": "ArtifactBucketArn",
    "trigger_function_arn": "ApprovalTriggerArn",
    "trigger_dead_letter_queue_arn": "ApprovalRuleDeadLetterQueueArn",
    "deploy_function_arn": "DeployFunctionArn",
    "smoke_test_function_arn": "SmokeTestFunctionArn",
    "bake_function_arn": "BakeFunctionArn",
    "endpoint_cleanup_service_token": "EndpointCleanupServiceToken",
}


def export_name(field_name: str) -> str:
    return f"{contract.STACK_NAME}-{_EXPORTS[field_name]}"


@dataclass(frozen=True, kw_only=True)
class SharedRefs:
    """The shared values, as tokens of the stack that holds this instance."""

    key_arn: str
    topic_arn: str
    artifact_bucket_arn: str
    trigger_function_arn: str
    trigger_dead_letter_queue_arn: str
    deploy_function_arn: str
    smoke_test_function_arn: str
    bake_function_arn: str
    endpoint_cleanup_service_token: str

    def export(self, stack: Stack) -> None:
        """One named output per value, in the shared stack."""
        for item in fields(self):
            CfnOutput(
                stack,
                f"Export{_EXPORTS[item.name]}",
                value=getattr(self, item.name),
                export_name=export_name(item.name),
                description=f"For the group stacks: {item.name.replace('_', ' ')}",
            )

    @classmethod
    def imported(cls) -> SharedRefs:
        """Every value as ``Fn::ImportValue`` of its export, for a group's stack."""
        return cls(**{name: Fn.import_value(export_name(name)) for name in _EXPORTS})
