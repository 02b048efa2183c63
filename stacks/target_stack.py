"""A target stack: what the stages in one other account (and region) need there.

One per target account and region, deployed after the tooling stack (its trust policy
names the tooling functions' roles, which IAM requires to exist) and before the stacks
whose pipelines deploy into it. It holds:

- the deployment role, trusted only by the tooling account's Deploy, SmokeTest, Bake and
  endpoint cleanup roles, by role ARN (not the account root): the functions assume it
  and act in this account with exactly what those four actions do to these stages;
- the SageMaker execution role of each group with a stage here (CreateModel can only
  pass a role of the model's own account);
- the stages' alarms (SageMaker's deployment guardrails read them in the endpoint's
  account, and Bake watches the same ones).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from shared import contract
from shared.config import ModelGroupConfig, StageConfig
from stacks import arns
from stacks.alarms import StageAlarms
from stacks.execution_role import ModelExecutionRole
from stacks.nag import acknowledge_wildcard_resource
from stacks.shared_grants import grant_reading_alarms

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"


@dataclass(frozen=True)
class RemoteStage:
    """One stage that runs in the target's account, with its group."""

    group: ModelGroupConfig
    stage: StageConfig


#: What Deploy, SmokeTest, Bake and the cleanup do to a stage's SageMaker resources, by
#: kind of resource: a statement per kind names each stage's ARNs once, since a role's
#: policies share IAM's quotas (10,240 characters inline; 6,144 in each managed policy
#: CDK moves the rest into).
_MODEL_ACTIONS = (
    "sagemaker:CreateModel",
    "sagemaker:DescribeModel",
    "sagemaker:DeleteModel",
    "sagemaker:AddTags",
)
#: CreateEndpoint and UpdateEndpoint act on the endpoint and on the config it takes.
_ENDPOINT_CONFIG_ACTIONS = (
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:AddTags",
)
_ENDPOINT_ACTIONS = (
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:InvokeEndpoint",
    "sagemaker:AddTags",
)


class TargetStack(Stack):
    """Exposes ``deployment_role``, ``execution_roles`` (by group) and ``alarms`` (by
    (group, stage))."""

    def __init__(
        self,
        scope: Construct,
        *,
        account: str,
        region: str,
        stages: Sequence[RemoteStage],
        trusted_roles: Sequence[iam.IRole],
        tooling: Environment,
    ) -> None:
        super().__init__(
            scope,
            contract.target_stack_name(account, region),
            env=Environment(account=account, region=region),
            description=f"Greenlight target: stages in account {account}, {region}",
        )
        self.deployment_role = iam.Role(
            self,
            "DeploymentRole",
            role_name=contract.deployment_role_name(region),
            assumed_by=iam.CompositePrincipal(
                *(iam.ArnPrincipal(role.role_arn) for role in trusted_roles)
            ),
            description="Greenlight: the tooling account's functions act on these stages",
        )
        groups = {remote.group.name: remote.group for remote in stages}
        self.alarms = {
            (remote.group.name, remote.stage.name): StageAlarms(
                self,
                f"Alarms-{_id(remote.group.name)}-{remote.stage.name}",
                group=remote.group.name,
                stage=remote.stage,
            )
            for remote in stages
        }
        self.execution_roles = {
            name: ModelExecutionRole(
                self,
                f"ExecutionRole-{_id(name)}",
                config=group,
                alarm_arns=[
                    alarm.alarm_arn
                    for (owner, _stage), alarms in self.alarms.items()
                    if owner == name
                    for alarm in alarms.alarms
                ],
                role_name=contract.model_execution_role_name(name, region),
                endpoint_names=tuple(
                    remote.stage.endpoint_name for remote in stages if remote.group is group
                ),
            )
            for name, group in groups.items()
        }
        self._grant(stages, tooling)
        self.status_reader = self._status_reader(stages, tooling)
        CfnOutput(self, "DeploymentRoleArn", value=self.deployment_role.role_arn)

    def _status_reader(self, stages: Sequence[RemoteStage], tooling: Environment) -> iam.Role:
        """What ``greenlight status`` reads here (the live endpoint config, the alarms),
        for whoever the tooling account's own IAM lets assume it: read only."""
        reader = iam.Role(
            self,
            "StatusReader",
            role_name=contract.status_reader_role_name(self.region),
            assumed_by=iam.AccountPrincipal(tooling.account),
            description="Greenlight status: reads the stages' endpoints and alarms here",
        )
        reader.add_to_policy(
            iam.PolicyStatement(
                sid="ReadStageEndpoints",
                actions=["sagemaker:DescribeEndpoint"],
                resources=[arns.endpoint_arn(self, r.stage.endpoint_name) for r in stages],
            )
        )
        grant_reading_alarms(reader)
        return reader

    def _grant(self, stages: Sequence[RemoteStage], tooling: Environment) -> None:
        """What Deploy, SmokeTest, Bake and the endpoint cleanup do to these stages."""
        role = self.deployment_role
        endpoints = [remote.stage.endpoint_name for remote in stages]
        models = [arns.models_arn(self, name) for name in endpoints]
        configs = [arns.endpoint_configs_arn(self, name) for name in endpoints]
        endpoint_arns = [arns.endpoint_arn(self, name) for name in endpoints]
        packages = [
            f"arn:{self.partition}:sagemaker:{tooling.region}:{tooling.account}:"
            f"model-package/{name}/*"
            for name in dict.fromkeys(remote.group.name for remote in stages)
        ]
        statements = {
            # CreateModel from a package of the tooling account's registry reads the
            # package as the caller; the group's resource policy grants the other half.
            "ReadModelPackages": (["sagemaker:DescribeModelPackage"], packages),
            "ManageModels": (_MODEL_ACTIONS, models),
            "ManageEndpointConfigs": (_ENDPOINT_CONFIG_ACTIONS, configs),
            "ManageEndpoints": (_ENDPOINT_ACTIONS, endpoint_arns),
            "ListForCleanup": (["sagemaker:ListEndpointConfigs", "sagemaker:ListModels"], ["*"]),
        }
        for sid, (actions, resources) in statements.items():
            role.add_to_policy(
                iam.PolicyStatement(sid=sid, actions=list(actions), resources=resources)
            )
        grant_reading_alarms(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassModelExecutionRoles",
                actions=["iam:PassRole"],
                resources=[each.role.role_arn for each in self.execution_roles.values()],
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            )
        )
        self._acknowledge(endpoints, models, configs, packages)

    def _acknowledge(
        self,
        endpoints: list[str],
        models: list[str],
        configs: list[str],
        packages: list[str],
    ) -> None:
        role = self.deployment_role
        for endpoint, model, config in zip(endpoints, models, configs, strict=True):
            acknowledge_wildcard_resource(
                role,
                model,
                f"Deploy creates a model per deployment, named {endpoint}-<suffix>, and "
                "deletes old ones; the prefix is this stage endpoint's own.",
            )
            acknowledge_wildcard_resource(
                role,
                config,
                f"Endpoint configs are immutable: Deploy creates one per deployment, named "
                f"{endpoint}-<suffix>; the prefix is this stage endpoint's own.",
            )
        for package in packages:
            acknowledge_wildcard_resource(
                role,
                package,
                "Every version of the group may be approved and deployed; read only.",
            )
        acknowledge_wildcard_resource(
            role,
            "*",
            "sagemaker:ListModels and sagemaker:ListEndpointConfigs have no resource-level "
            "permissions; Deploy and the cleanup filter by the endpoint name prefix.",
        )


def _id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", name)
