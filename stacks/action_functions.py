"""The functions behind the pipeline's stage actions, built from one table.

Deploy, SmokeTest and Bake differ only in their code, description, timeout and memory.
CodePipeline invokes each once per action run and again through a continuation token
while it waits, so a short timeout is enough. Everything stage-specific reaches them as
the action's ``UserParameters``; the composing stack grants their permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from shared import contract
from stacks.lambda_function import GreenlightFunction


@dataclass(frozen=True, kw_only=True)
class ActionFunction:
    """One stage action's function: ``lambdas/<handler_module>``, as the action names it."""

    action: str
    handler_module: str
    description: str
    timeout: Duration
    memory_size: int


ACTION_FUNCTIONS: Final = (
    ActionFunction(
        action=contract.ACTION_DEPLOY,
        handler_module="deploy",
        description="deploy the approved version to a stage endpoint",
        timeout=Duration.minutes(2),
        memory_size=256,
    ),
    ActionFunction(
        action=contract.ACTION_SMOKE_TEST,
        handler_module="smoke_test",
        description="invoke a stage endpoint with the bundle's smoke test",
        timeout=Duration.minutes(1),
        memory_size=256,
    ),
    ActionFunction(
        action=contract.ACTION_BAKE,
        handler_module="bake",
        description="watch a stage's alarms for the bake time",
        timeout=Duration.seconds(30),
        memory_size=128,
    ),
)


def action_functions(
    scope: Construct, *, prefix: str, environment: dict[str, str], key: kms.IKey
) -> dict[str, GreenlightFunction]:
    """One GreenlightFunction per row of ``ACTION_FUNCTIONS``, by action name."""
    return {
        row.action: GreenlightFunction(
            scope,
            row.action,
            handler_module=row.handler_module,
            description=f"{prefix}{row.description}",
            environment=environment,
            key=key,
            timeout=row.timeout,
            memory_size=row.memory_size,
        )
        for row in ACTION_FUNCTIONS
    }
