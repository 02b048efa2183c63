"""Everything one model package group needs, composed from the unit constructs.

The grants live here: this is the one place that knows which ARNs belong to the group.
"""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from shared import contract
from stacks import arns
from stacks.alarms import StageAlarms
from stacks.approval_trigger import ApprovalTrigger
from stacks.bake import BakeFunction
from stacks.bundle import DeployBundle
from stacks.config import ModelGroupConfig
from stacks.deploy import DeployFunction
from stacks.execution_role import ModelExecutionRole
from stacks.lambda_function import GreenlightFunction
from stacks.nag import acknowledge_wildcard_action, acknowledge_wildcard_resource
from stacks.pipeline import DeploymentPipeline, StageWiring
from stacks.registry import ModelRegistryGroup
from stacks.smoke_test import SmokeTestFunction

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
LEDGER_READ_WRITE = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
JOB_RESULTS = ("codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult")
TRIGGER_PIPELINE_ACTIONS = (
    "codepipeline:StartPipelineExecution",
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListPipelineExecutions",
    "codepipeline:ListActionExecutions",
    "codepipeline:StopPipelineExecution",
    "codepipeline:RollbackStage",
    "codepipeline:GetPipelineState",
)


class GreenlightModelGroup(Construct):
    """Exposes ``registry``, ``execution_role``, ``alarms`` (by stage name), ``trigger``,
    ``deploy``, ``smoke_test``, ``bake``, ``bundle`` and ``pipeline``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelGroupConfig,
        key: kms.IKey,
        ledger: dynamodb.ITable,
        topic: sns.ITopic,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        group = config.name
        pipeline_name = contract.pipeline_name(group)

        self.registry = ModelRegistryGroup(self, "Registry", config=config)
        self.execution_role = ModelExecutionRole(self, "ModelExecutionRole", config=config)
        self.alarms = {
            stage.name: StageAlarms(self, f"Alarms-{stage.name}", group=group, stage=stage)
            for stage in config.stages
        }

        self.trigger = ApprovalTrigger(
            self,
            "ApprovalTrigger",
            group=group,
            key=key,
            environment={
                contract.ENV_LEDGER_TABLE: ledger.table_name,
                contract.ENV_TOPIC_ARN: topic.topic_arn,
                contract.ENV_GROUP_NAME: group,
                contract.ENV_PIPELINE_NAME: pipeline_name,
                contract.ENV_STAGES: json.dumps(list(config.stage_names)),
                contract.ENV_GATES: config.gates.to_json(),
            },
        )
        action_environment = {
            contract.ENV_GROUP_NAME: group,
            contract.ENV_PIPELINE_NAME: pipeline_name,
        }
        self.deploy = DeployFunction(
            self, "Deploy", group=group, environment=action_environment, key=key
        )
        self.smoke_test = SmokeTestFunction(
            self, "SmokeTest", group=group, environment=action_environment, key=key
        )
        self.bake = BakeFunction(self, "Bake", group=group, environment=action_environment, key=key)

        self.bundle = DeployBundle(self, "Bundle", group=config)
        self.pipeline = DeploymentPipeline(
            self,
            "Pipeline",
            config=config,
            stages=tuple(
                StageWiring(stage=stage, alarm_names=self.alarms[stage.name].alarm_names)
                for stage in config.stages
            ),
            bundle=self.bundle.asset,
            deploy=self.deploy.function,
            smoke_test=self.smoke_test.function,
            bake=self.bake.function,
            execution_role_arn=self.execution_role.role.role_arn,
            topic=topic,
            access_logs=access_logs,
        )
        # The registry group must exist before a rule or pipeline refers to it by name.
        self.pipeline.node.add_dependency(self.registry)

        self._grant_trigger(config, key=key, ledger=ledger, topic=topic)
        self._grant_deploy(config)
        self._grant_smoke_test(config)
        self._grant_bake(config)
        self._acknowledge_pipeline_role()

    # --- grants -----------------------------------------------------------------------

    def _alarm_arns(self) -> list[str]:
        return [alarm.alarm_arn for alarms in self.alarms.values() for alarm in alarms.alarms]

    def _grant_trigger(
        self,
        config: ModelGroupConfig,
        *,
        key: kms.IKey,
        ledger: dynamodb.ITable,
        topic: sns.ITopic,
    ) -> None:
        role = self.trigger.function.role
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadAndAnnotateModelPackages",
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=[arns.model_packages_arn(self, config.name)],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DrivePipeline",
                actions=list(TRIGGER_PIPELINE_ACTIONS),
                resources=[self.pipeline.pipeline.pipeline_arn],
            )
        )
        _acknowledge_versions(role, config)
        _grant_ledger(role, ledger)
        role.add_to_policy(
            iam.PolicyStatement(sid="Notify", actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        _grant_key(role, key)

    def _grant_deploy(self, config: ModelGroupConfig) -> None:
        role = self.deploy.role
        endpoints = config.endpoint_names
        models = [arns.models_arn(self, name) for name in endpoints]
        endpoint_configs = [arns.endpoint_configs_arn(self, name) for name in endpoints]
        endpoint_arns = [arns.endpoint_arn(self, name) for name in endpoints]
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadModelPackages",
                actions=["sagemaker:DescribeModelPackage"],
                resources=[arns.model_packages_arn(self, config.name)],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageModels",
                actions=[
                    "sagemaker:CreateModel",
                    "sagemaker:DescribeModel",
                    "sagemaker:DeleteModel",
                    "sagemaker:AddTags",
                ],
                resources=models,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageEndpointConfigs",
                actions=[
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:AddTags",
                ],
                resources=endpoint_configs,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageEndpoints",
                actions=[
                    "sagemaker:CreateEndpoint",
                    "sagemaker:UpdateEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:AddTags",
                ],
                # CreateEndpoint and UpdateEndpoint are also authorised on the config.
                resources=endpoint_arns + endpoint_configs,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListForCleanup",
                actions=["sagemaker:ListEndpointConfigs", "sagemaker:ListModels"],
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadStageAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=self._alarm_arns(),
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassModelExecutionRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.execution_role.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            )
        )
        _grant_job_results(self.deploy)
        _acknowledge_versions(role, config)
        for endpoint, model, endpoint_config in zip(
            endpoints, models, endpoint_configs, strict=True
        ):
            acknowledge_wildcard_resource(
                role,
                model,
                f"Deploy creates a new model per deployment, named {endpoint}-<suffix>, and "
                "deletes old ones; the prefix is this stage endpoint's own.",
            )
            acknowledge_wildcard_resource(
                role,
                endpoint_config,
                f"Endpoint configs are immutable: Deploy creates one per deployment, named "
                f"{endpoint}-<suffix>, and deletes old ones; the prefix is this endpoint's own.",
            )
        acknowledge_wildcard_resource(
            role,
            "*",
            "sagemaker:ListModels, sagemaker:ListEndpointConfigs and the CodePipeline job "
            "result actions have no resource-level permissions.",
        )

    def _grant_smoke_test(self, config: ModelGroupConfig) -> None:
        role = self.smoke_test.role
        role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeStageEndpoints",
                actions=["sagemaker:InvokeEndpoint"],
                resources=[arns.endpoint_arn(self, name) for name in config.endpoint_names],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSourceBundle",
                actions=["s3:GetObject"],
                resources=[self.pipeline.artifact_bucket.arn_for_objects("*")],
            )
        )
        _grant_job_results(self.smoke_test)
        acknowledge_wildcard_resource(
            role,
            self.pipeline.artifact_bucket.arn_for_objects("*"),
            "CodePipeline names the source artifact object at run time; the smoke test "
            "reads the bundle from this group's own artifact bucket, read only.",
        )
        acknowledge_wildcard_resource(
            role, "*", "The CodePipeline job result actions have no resource-level permissions."
        )

    def _grant_bake(self, config: ModelGroupConfig) -> None:
        self.bake.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadStageAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=self._alarm_arns(),
            )
        )
        _grant_job_results(self.bake)
        acknowledge_wildcard_resource(
            self.bake.role,
            "*",
            "The CodePipeline job result actions have no resource-level permissions.",
        )

    def _acknowledge_pipeline_role(self) -> None:
        pipeline = self.pipeline.pipeline
        role = pipeline.role
        bucket = self.pipeline.artifact_bucket
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
                "CDK's artifact bucket grant: the pipeline reads and writes its own "
                "artifacts in this group's artifact bucket and nothing else.",
            )
        acknowledge_wildcard_resource(
            role,
            bucket.arn_for_objects("*"),
            "Artifact object keys are chosen by CodePipeline per execution; the grant is "
            "limited to this group's artifact bucket.",
        )
        for function in (self.deploy, self.smoke_test, self.bake):
            acknowledge_wildcard_resource(
                role,
                f"{function.function.function_arn}:*",
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
            "encrypted with the stack key; the grant names that one key.",
        )


def _acknowledge_versions(role: iam.IRole, config: ModelGroupConfig) -> None:
    acknowledge_wildcard_resource(
        role,
        arns.model_packages_arn(Stack.of(role), config.name),
        f"Versions of the {config.name} group get their number at registration; the "
        "wildcard covers that group's versions only.",
    )


def _grant_ledger(role: iam.IRole, ledger: dynamodb.ITable) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="Ledger", actions=list(LEDGER_READ_WRITE), resources=[ledger.table_arn]
        )
    )


def _grant_key(role: iam.IRole, key: kms.IKey) -> None:
    """Encrypt and decrypt with the stack key (ledger items, topic messages)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="UseStackKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
        )
    )


def _grant_job_results(function: GreenlightFunction) -> None:
    function.role.add_to_policy(
        iam.PolicyStatement(
            sid="ReportJobResult",
            # CodePipeline job results do not support resource-level permissions.
            actions=list(JOB_RESULTS),
            resources=["*"],
        )
    )
