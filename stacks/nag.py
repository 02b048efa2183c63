"""Acknowledging AwsSolutions findings: one finding, one construct, one specific reason."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge exactly ``finding`` (e.g. ``AwsSolutions-IAM5[Resource::*]``)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_wildcard_resource(construct: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge the IAM5 finding of one wildcard resource, however it is tokenised."""
    rendered = render(Stack.of(construct).resolve(resource))
    acknowledge(construct, f"AwsSolutions-IAM5[Resource::{rendered}]", reason)


def acknowledge_wildcard_action(construct: IConstruct, action: str, reason: str) -> None:
    acknowledge(construct, f"AwsSolutions-IAM5[Action::{action}]", reason)


def render(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag names it in a finding id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(render(part) for part in parts)
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::ImportValue":
            return render(argument)
    raise ValueError(f"cannot name a finding for {value!r}")
