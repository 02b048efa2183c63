"""The function behind the pipeline's SmokeTest action (``lambdas/smoke_test``).

CodePipeline invokes it once per action run and again through a continuation token while
it waits, so a short timeout is enough. The composing construct grants its permissions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.lambda_function import GreenlightFunction


class SmokeTestFunction(GreenlightFunction):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group: str,
        environment: dict[str, str],
        key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            handler_module="smoke_test",
            description=f"{group}: invoke a stage endpoint with the bundle's smoke test",
            environment=environment,
            key=key,
            timeout=Duration.minutes(1),
            memory_size=256,
        )
