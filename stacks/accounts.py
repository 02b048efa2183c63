"""Stages in other accounts, at synth: one target stack per target account and region,
and what the tooling side grants and passes so its functions reach them.

``app.py`` wiring calls ``add_target_stacks`` once the shared stack and its function
roles exist; the shared stack lets those functions assume ``stage_role_arns``
(``grant_assume_stage_roles``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from shared.config import GreenlightConfig
from stacks.target_stack import RemoteStage, TargetStack


def tooling_environment(config: GreenlightConfig) -> Environment | None:
    """The tooling stacks' environment when the config names it (a stage elsewhere
    requires it); None keeps them environment-agnostic, as a single account needs."""
    if config.tooling_account is None:
        return None
    return Environment(account=config.tooling_account, region=config.tooling_region)


def add_target_stacks(
    scope: Construct,
    config: GreenlightConfig,
    *,
    trusted_roles: Sequence[iam.IRole],
    tooling: Stack,
) -> dict[tuple[str, str], TargetStack]:
    """One ``TargetStack`` per (account, region) a stage runs in, after ``tooling``
    (the deployment role's trust names its function roles, which must exist first)."""
    environment = tooling_environment(config)
    if environment is None:
        return {}
    targets: dict[tuple[str, str], TargetStack] = {}
    for account, region in config.target_accounts:
        stages = [
            RemoteStage(group, stage)
            for group in config.model_groups
            for stage in group.stages
            if config.placement(stage) == (account, region)
        ]
        target = TargetStack(
            scope,
            account=account,
            region=region,
            stages=stages,
            trusted_roles=trusted_roles,
            tooling=environment,
        )
        target.add_stack_dependency(tooling)
        targets[(account, region)] = target
    return targets


def stage_role_arns(config: GreenlightConfig) -> tuple[str, ...]:
    """The deployment role of every target account and region a stage runs in."""
    stages = (stage for group in config.model_groups for stage in group.stages)
    return tuple(sorted({config.stage_target(s).role_arn for s in stages if config.placement(s)}))


def grant_assume_stage_roles(role: iam.IRole, arns: Iterable[str]) -> None:
    """Let ``role`` assume each of the target accounts' deployment roles ``arns``."""
    listed = sorted(arns)
    if listed:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AssumeStageRoles", actions=["sts:AssumeRole"], resources=listed
            )
        )
