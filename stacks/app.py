"""Build the CDK app for a configuration; ``app.py`` and the tests both call this."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from shared.config import GreenlightConfig
from stacks.accounts import add_target_stacks, tooling_environment
from stacks.greenlight_stack import STACK_NAME, GreenlightStack


def add_greenlight(app: App, config: GreenlightConfig) -> GreenlightStack:
    """Add the ``Greenlight`` stack to ``app`` and attach the AwsSolutions checks.

    Environment-agnostic (no account or region, no lookups, no credentials needed) unless
    a stage runs in another account: then the config names the tooling account and
    region, and each target account and region gets its target stack.
    Acknowledged findings are also written into each resource's template metadata.
    """
    stack = GreenlightStack(
        app,
        STACK_NAME,
        config=config,
        description="Greenlight: SageMaker Model Registry approvals to audited deployments",
        env=tooling_environment(config),
    )
    add_target_stacks(app, config, trusted_roles=stack.stage_roles, tooling=stack)
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return stack


def build_app(
    config: GreenlightConfig,
    *,
    outdir: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> App:
    """A fresh app holding the Greenlight stack for ``config``.

    ``context`` carries the feature flags of ``cdk.json`` so that a test synthesizes
    what ``cdk synth`` does.
    """
    app = App(outdir=outdir, context=dict(context or {}))
    add_greenlight(app, config)
    return app
