"""One model package group's own stack: only what that group owns.

The group's registry entry in SageMaker (and its resource policy), its execution role,
its stage alarms, its deploy bundle, its pipeline and the pipeline's role, its approval
rule and the rule's permission to invoke the shared trigger, its entry in the group
registry, the resource that deletes its endpoints with the stack, and its dashboard.
No function and no queue: those are the shared stack's, imported by export name
(``stacks/shared_refs.py``). Adding or removing a group deploys or deletes this stack
alone.
"""

from __future__ import annotations

import dataclasses

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shared import contract
from shared.config import GreenlightConfig, ModelGroupConfig
from shared.group_registry import GroupEntry
from shared.stage_access import StageTarget
from stacks.alarms import StageAlarms, stage_alarm_names
from stacks.approval_trigger import approval_pattern, approval_rule_description
from stacks.bundle import DeployBundle
from stacks.dashboard import GroupDashboard
from stacks.endpoint_cleanup import endpoint_cleanup
from stacks.event_driven_function import subscribe
from stacks.execution_role import ModelExecutionRole
from stacks.nag import acknowledge_wildcard_action, acknowledge_wildcard_resource
from stacks.pipeline import DeploymentPipeline, StageWiring
from stacks.registry import ModelRegistryGroup
from stacks.shared_refs import SharedRefs


class GroupStack(Stack):
    """Exposes ``registry``, ``execution_role``, ``alarms`` (by stage name), ``bundle``,
    ``pipeline``, ``approval_rule``, ``registry_entry``, ``endpoint_cleanup`` and
    ``dashboard``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelGroupConfig,
        app_config: GreenlightConfig | None = None,
        **kwargs: object,
    ) -> None:
        """``app_config`` places the stages: one in another account has its alarms and
        execution role in that account's target stack, and its actions carry the role
        that reaches it. Without it every stage is in this stack's account."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        shared = SharedRefs.imported()
        group = config.name
        self.placed = app_config or GreenlightConfig(model_groups=(config,))
        self.remote = _remote_stages(self.placed, config)
        local = tuple(stage for stage in config.stages if stage.name not in self.remote)
        remote_stages = [stage for stage in config.stages if stage.name in self.remote]
        self.registry = ModelRegistryGroup(self, "Registry", config=config)
        self.alarms = {
            stage.name: StageAlarms(self, f"Alarms-{stage.name}", group=group, stage=stage)
            for stage in local
        }
        self.execution_role = ModelExecutionRole(
            self,
            "ModelExecutionRole",
            config=config,
            alarm_arns=[
                alarm.alarm_arn for alarms in self.alarms.values() for alarm in alarms.alarms
            ],
            endpoint_names=tuple(stage.endpoint_name for stage in local),
        )
        self.bundle = DeployBundle(self, "Bundle", group=config)
        self.pipeline = self._pipeline(config, shared)
        # The registry group must exist before a rule or pipeline refers to it by name.
        self.pipeline.node.add_dependency(self.registry)
        self.registry_entry = self._registry_entry(config)
        self.approval_rule = self._approval_rule(group, shared)
        self.endpoint_cleanup = endpoint_cleanup(
            self,
            "EndpointCleanup",
            service_token=shared.endpoint_cleanup_service_token,
            group=group,
            endpoint_names=config.endpoint_names,
            retain_endpoints=config.retain_endpoints_on_destroy,
            stage_targets={s.endpoint_name: self.remote[s.name] for s in remote_stages},
        )
        # The pipeline depends on the cleanup, so CloudFormation deletes the pipeline
        # first: once the cleanup runs, no Deploy action can create an endpoint again.
        self.pipeline.pipeline.node.add_dependency(self.endpoint_cleanup)
        self.dashboard = GroupDashboard(
            self,
            "Dashboard",
            config=dataclasses.replace(config, stages=local),
            alarms=self.alarms,
        )
        self._acknowledge_pipeline_role(shared)
        self._output(group)

    def _registry_entry(self, config: ModelGroupConfig) -> ssm.StringParameter:
        """The group's settings for the shared trigger and recorder (the group registry)."""
        return ssm.StringParameter(
            self,
            "RegistryEntry",
            parameter_name=contract.group_registry_parameter(config.name),
            description=f"Greenlight: the settings of the {config.name} group, for the "
            "shared functions",
            string_value=GroupEntry(
                group=config.name,
                pipeline_name=contract.pipeline_name(config.name),
                stages=config.stage_names,
                gates=config.gates.to_mapping(),
            ).to_json(),
        )

    def _approval_rule(self, group: str, shared: SharedRefs) -> events.Rule:
        """The group's approval changes to the shared trigger, once its entry exists."""
        rule = subscribe(
            self,
            "ApprovalRule",
            rule_name=contract.approval_rule_name(group),
            description=approval_rule_description(group),
            event_pattern=approval_pattern(group),
            function=lambda_.Function.from_function_attributes(
                self,
                "ApprovalTrigger",
                function_arn=shared.trigger_function_arn,
                # Not marked same-environment, so CDK adds no permission here: the shared
                # stack admits every approval rule in one.
                skip_permissions=True,
            ),
            rule_dead_letter_queue=sqs.Queue.from_queue_arn(
                self, "ApprovalRuleDeadLetterQueue", shared.trigger_dead_letter_queue_arn
            ),
        )
        # The trigger reads the group's entry: the rule starts once the entry exists.
        rule.node.add_dependency(self.registry_entry, self.registry)
        return rule

    def _pipeline(self, config: ModelGroupConfig, shared: SharedRefs) -> DeploymentPipeline:
        def function(construct_id: str, arn: str) -> lambda_.IFunction:
            return lambda_.Function.from_function_attributes(
                self, construct_id, function_arn=arn, same_environment=True
            )

        return DeploymentPipeline(
            self,
            "Pipeline",
            config=config,
            stages=tuple(
                StageWiring(
                    stage=stage,
                    alarm_names=stage_alarm_names(config.name, stage),
                    target=self.remote.get(stage.name, StageTarget()),
                    execution_role_arn=self.placed.remote_execution_role_arn(config, stage),
                )
                for stage in config.stages
            ),
            bundle=self.bundle.asset,
            deploy=function("DeployFunction", shared.deploy_function_arn),
            smoke_test=function("SmokeTestFunction", shared.smoke_test_function_arn),
            bake=function("BakeFunction", shared.bake_function_arn),
            execution_role_arn=self.execution_role.role.role_arn,
            topic=sns.Topic.from_topic_attributes(
                self, "Notifications", topic_arn=shared.topic_arn, key_arn=shared.key_arn
            ),
            artifact_bucket=s3.Bucket.from_bucket_arn(
                self, "Artifacts", shared.artifact_bucket_arn
            ),
        )

    def _output(self, group: str) -> None:
        """The pipeline's name, for the ``greenlight`` CLI (``stack_outputs.py``)."""
        CfnOutput(
            self,
            contract.pipeline_output_id(group),
            value=self.pipeline.pipeline.pipeline_name,
            description=f"The CodePipeline that deploys the {group} model package group",
        )

    def _acknowledge_pipeline_role(self, shared: SharedRefs) -> None:
        role: iam.IRole = self.pipeline.pipeline.role
        for action in (
            "s3:Abort*",
            "s3:DeleteObject*",
            "s3:GetBucket*",
            "s3:GetObject*",
            "s3:List*",
        ):
            acknowledge_wildcard_action(
                role,
                action,
                "CDK's artifact bucket grant: the pipeline reads and writes its artifacts "
                "in the Greenlight artifact bucket and nothing else.",
            )
        acknowledge_wildcard_resource(
            role,
            f"{shared.artifact_bucket_arn}/*",
            "Artifact object keys are chosen by CodePipeline per execution; the grant is "
            "limited to the Greenlight artifact bucket.",
        )
        for arn in (
            shared.deploy_function_arn,
            shared.smoke_test_function_arn,
            shared.bake_function_arn,
        ):
            acknowledge_wildcard_resource(
                role,
                f"{arn}:*",
                "CDK's Lambda invoke action grant also covers the function's versions and "
                "aliases; it names only this stage action's function.",
            )
        acknowledge_wildcard_resource(
            role,
            "*",
            "lambda:ListFunctions, which CodePipeline calls before a Lambda invoke action, "
            "has no resource-level permissions.",
        )
        acknowledge_wildcard_action(
            role,
            "kms:GenerateDataKey*",
            "The manual approval action publishes to the notification topic, which is "
            "encrypted with the Greenlight key; the grant names that one key.",
        )


def _remote_stages(placed: GreenlightConfig, config: ModelGroupConfig) -> dict[str, StageTarget]:
    """Stage name → how its actions reach it, for the group's stages in other accounts."""
    return {
        stage.name: placed.stage_target(stage)
        for stage in config.stages
        if placed.placement(stage) is not None
    }
