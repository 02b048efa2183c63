"""The function behind the pipeline's Bake action (``lambdas/bake``).

CodePipeline invokes it once per action run and again through a continuation token while
it waits, so a short timeout is enough. The composing construct grants its permissions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.lambda_function import GreenlightFunction


class BakeFunction(GreenlightFunction):
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
            handler_module="bake",
            description=f"{group}: watch a stage's alarms for the bake time",
            environment=environment,
            key=key,
            timeout=Duration.seconds(30),
            memory_size=128,
        )
