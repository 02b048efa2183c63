"""Build the CDK app for a configuration; ``app.py`` and the tests both call this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from shared import contract
from shared.config import GreenlightConfig
from stacks.accounts import add_target_stacks, stage_role_arns, tooling_environment
from stacks.greenlight_stack import STACK_NAME, GreenlightStack
from stacks.group_stack import GroupStack
from stacks.target_stack import TargetStack


@dataclass(frozen=True)
class GreenlightApp:
    """The stacks of one app: the shared one, and one per group (by group name)."""

    shared: GreenlightStack
    groups: dict[str, GroupStack]
    #: The target stacks, by (account, region): what stages in other accounts need there.
    targets: dict[tuple[str, str], TargetStack] = field(default_factory=dict)


def add_greenlight(app: App, config: GreenlightConfig) -> GreenlightApp:
    """Add the shared ``Greenlight`` stack and one ``Greenlight-<group>`` stack per group
    to ``app``, and attach the AwsSolutions checks.

    Each group stack depends on the shared one, so ``cdk deploy --all`` deploys the
    shared stack first and the groups after it. Environment-agnostic (no account or
    region, no lookups, no credentials needed) unless a stage runs in another account:
    then the config names the tooling account and region for the shared stack (the
    target stacks trust its roles by ARN), each target account and region gets a target
    stack after it, and each group stack comes after the targets of its stages
    (docs/accounts.md). The group stacks stay environment-agnostic: they import the
    shared functions by export name, which CodePipeline's actions need in the pipeline's
    own (unnamed) environment, and name the targets' roles by their ARNs. Acknowledged
    findings are also written into each resource's template metadata.
    """
    environment = tooling_environment(config)
    shared = GreenlightStack(
        app,
        STACK_NAME,
        notification_emails=config.notification_emails,
        stage_role_arns=stage_role_arns(config),
        description="Greenlight: SageMaker Model Registry approvals to audited deployments",
        env=environment,
    )
    targets = add_target_stacks(app, config, trusted_roles=shared.stage_roles, tooling=shared)
    _refuse_shared_output_ids(config)
    groups: dict[str, GroupStack] = {}
    for group in config.model_groups:
        stack = GroupStack(
            app,
            contract.group_stack_name(group.name),
            config=group,
            app_config=config,
            description=f"Greenlight: the {group.name} model package group's pipeline",
        )
        stack.add_stack_dependency(shared, "imports the shared functions and stores by export name")
        for placed in dict.fromkeys(p for s in group.stages if (p := config.placement(s))):
            stack.add_stack_dependency(
                targets[placed], "deploys into the target's account through its roles"
            )
        groups[group.name] = stack
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return GreenlightApp(shared=shared, groups=groups, targets=targets)


def _refuse_shared_output_ids(config: GreenlightConfig) -> None:
    """The CLI finds each group's pipeline by its output id across the stacks: two groups
    must not name the same one."""
    owners: dict[str, str] = {}
    for group in config.model_groups:
        output_id = contract.pipeline_output_id(group.name)
        if output_id in owners:
            raise ValueError(
                f"groups {owners[output_id]!r} and {group.name!r} both name the stack output "
                f"{output_id}; rename one of them"
            )
        owners[output_id] = group.name


def build_app(
    config: GreenlightConfig,
    *,
    outdir: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> App:
    """A fresh app holding the Greenlight stacks for ``config``.

    ``context`` carries the feature flags of ``cdk.json`` so that a test synthesizes
    what ``cdk synth`` does.
    """
    app = App(outdir=outdir, context=dict(context or {}))
    add_greenlight(app, config)
    return app
