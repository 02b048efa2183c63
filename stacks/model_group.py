"""Everything one model package group needs, composed from the unit constructs.

The grants live here: this is the one place that knows which ARNs belong to the group.
"""

from __future__ import annotations

import dataclasses
import json

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from shared import contract
from shared.config import GreenlightConfig, ModelGroupConfig
from shared.stage_access import StageTarget
from stacks import arns
from stacks.accounts import grant_assume_stage_roles
from stacks.action_functions import action_functions
from stacks.alarms import StageAlarms, stage_alarm_names
from stacks.approval_trigger import approval_trigger_subscription
from stacks.bundle import DeployBundle
from stacks.dashboard import GroupDashboard
from stacks.endpoint_cleanup import EndpointCleanup
from stacks.event_driven_function import EventDrivenFunction
from stacks.execution_role import ModelExecutionRole
from stacks.nag import acknowledge_wildcard_action, acknowledge_wildcard_resource
from stacks.pipeline import DeploymentPipeline, StageWiring
from stacks.recorder import recorder_subscription
from stacks.registry import ModelRegistryGroup

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
#: What the trigger does to the ledger (shared/ledger.py): read an outcome, list a
#: group's outcomes and acts, put one conditionally. Its TransactWriteItems holds only
#: Put items, and DynamoDB authorises each item of a transaction as its own PutItem.
TRIGGER_LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
#: The trigger reads a version, and writes a gate refusal back to it.
TRIGGER_PACKAGE_ACTIONS = ("sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage")
#: The recorder writes stage outcomes back to a version.
RECORDER_PACKAGE_ACTIONS = ("sagemaker:UpdateModelPackage",)
#: The recorder appends its records with conditional puts and reads them back; it never
#: changes one it wrote.
RECORDER_LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
#: The trigger reads the pipeline's history (executions, their variables and actions,
#: the declared actions of a stage), starts a run, and on a rejection stops the run in
#: flight; these are authorized on the pipeline's ARN.
TRIGGER_PIPELINE_ACTIONS = (
    "codepipeline:GetPipeline",
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListPipelineExecutions",
    "codepipeline:ListActionExecutions",
    "codepipeline:StartPipelineExecution",
    "codepipeline:StopPipelineExecution",
)
#: On a rejection the trigger rolls a stage back, which IAM authorizes on the stage's
#: ARN (``<pipeline ARN>/<stage>``), not on the pipeline's.
TRIGGER_STAGE_ACTIONS = ("codepipeline:RollbackStage",)
#: The recorder only reads the pipeline: variables and trigger of an execution, the
#: failing action's message, earlier executions for rollback targets.
RECORDER_PIPELINE_ACTIONS = (
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListActionExecutions",
    "codepipeline:ListPipelineExecutions",
)


class GreenlightModelGroup(Construct):
    """Exposes ``registry``, ``execution_role``, ``alarms`` (by stage name), ``trigger``,
    ``deploy``, ``smoke_test``, ``bake``, ``bundle``, ``pipeline``, ``recorder``,
    ``endpoint_cleanup`` and ``dashboard``."""

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
        app_config: GreenlightConfig | None = None,
    ) -> None:
        """``app_config`` places the stages (those in other accounts are reached
        through their target stacks); without it every stage is in this account."""
        super().__init__(scope, construct_id)
        group = config.name
        pipeline_name = contract.pipeline_name(group)
        placed = app_config or GreenlightConfig(model_groups=(config,))
        #: Stage name → how its actions reach it, for the stages in other accounts.
        self.remote = {
            stage.name: placed.stage_target(stage)
            for stage in config.stages
            if placed.placement(stage) is not None
        }
        local = dataclasses.replace(
            config, stages=tuple(s for s in config.stages if s.name not in self.remote)
        )

        self.registry = ModelRegistryGroup(self, "Registry", config=config)
        self.execution_role = ModelExecutionRole(
            self, "ModelExecutionRole", config=config, endpoint_names=local.endpoint_names
        )
        self.alarms = {
            stage.name: StageAlarms(self, f"Alarms-{stage.name}", group=group, stage=stage)
            for stage in local.stages
        }
        self.execution_role.allow_reading_alarms(self._alarm_arns())

        self.trigger = EventDrivenFunction(
            self,
            "ApprovalTrigger",
            subscription=approval_trigger_subscription(group),
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
        functions = action_functions(
            self, prefix=f"{group}: ", environment=action_environment, key=key
        )
        self.deploy = functions[contract.ACTION_DEPLOY]
        self.smoke_test = functions[contract.ACTION_SMOKE_TEST]
        self.bake = functions[contract.ACTION_BAKE]

        self.bundle = DeployBundle(self, "Bundle", group=config)
        self.pipeline = DeploymentPipeline(
            self,
            "Pipeline",
            config=config,
            stages=tuple(
                StageWiring(
                    stage=stage,
                    alarm_names=stage_alarm_names(group, stage),
                    target=self.remote.get(stage.name, StageTarget()),
                    execution_role_arn=placed.remote_execution_role_arn(config, stage),
                )
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

        self.recorder = EventDrivenFunction(
            self,
            "Recorder",
            subscription=recorder_subscription(group, pipeline_name),
            key=key,
            environment={
                contract.ENV_LEDGER_TABLE: ledger.table_name,
                contract.ENV_TOPIC_ARN: topic.topic_arn,
                contract.ENV_GROUP_NAME: group,
                contract.ENV_PIPELINE_NAME: pipeline_name,
                contract.ENV_STAGES: json.dumps(list(config.stage_names)),
            },
        )

        self.endpoint_cleanup = EndpointCleanup(
            self,
            "EndpointCleanup",
            group=group,
            endpoint_names=config.endpoint_names,
            retain_endpoints=config.retain_endpoints_on_destroy,
            key=key,
            stage_targets={
                stage.endpoint_name: self.remote[stage.name]
                for stage in config.stages
                if stage.name in self.remote
            },
        )
        # The pipeline depends on the cleanup, so CloudFormation deletes the pipeline
        # first: once the cleanup runs, no Deploy action can create an endpoint again.
        self.pipeline.pipeline.node.add_dependency(self.endpoint_cleanup.resource)
        self.dashboard = GroupDashboard(self, "Dashboard", config=local, alarms=self.alarms)

        self._grant_trigger(config, key=key, ledger=ledger, topic=topic)
        self._grant_recorder(config, key=key, ledger=ledger, topic=topic)
        self._grant_stage_functions(local, placed, config)
        self._acknowledge_pipeline_role()

    @property
    def stage_roles(self) -> list[iam.IRole]:
        """The roles a target stack's deployment role trusts: Deploy, SmokeTest, Bake and
        the endpoint cleanup, which act on the stages."""
        return [
            self.deploy.role,
            self.smoke_test.role,
            self.bake.role,
            self.endpoint_cleanup.function.role,
        ]

    def _grant_stage_functions(
        self, local: ModelGroupConfig, placed: GreenlightConfig, config: ModelGroupConfig
    ) -> None:
        """Each stage function may act on the stages here, and assume the deployment
        role of each target account a stage runs in."""
        if local.stages:
            self._grant_deploy(local)
            self._grant_smoke_test(local)
            self._grant_bake(local)
            self._grant_endpoint_cleanup(local)
        else:
            for action_role in (self.deploy.role, self.smoke_test.role, self.bake.role):
                acknowledge_wildcard_resource(
                    action_role,
                    "*",
                    "The CodePipeline job result actions have no resource-level permissions.",
                )
        for stage_role in self.stage_roles:
            grant_assume_stage_roles(stage_role, placed, config.stages)

    # --- grants -----------------------------------------------------------------------
    # CDK's Lambda invoke action already grants each action function
    # codepipeline:PutJobSuccessResult and PutJobFailureResult (no resource-level
    # permissions, hence "*"), which is all Deploy, SmokeTest and Bake need of CodePipeline.

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
        self._grant_event_function(
            self.trigger.function.role,
            config,
            package_statement=("ReadAndAnnotateModelPackages", TRIGGER_PACKAGE_ACTIONS),
            pipeline_statement=("DrivePipeline", TRIGGER_PIPELINE_ACTIONS),
            ledger_actions=TRIGGER_LEDGER_ACTIONS,
            key=key,
            ledger=ledger,
            topic=topic,
        )
        pipeline_arn = self.pipeline.pipeline.pipeline_arn
        self.trigger.function.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RollBackStages",
                actions=list(TRIGGER_STAGE_ACTIONS),
                resources=[arns.stage_arn(pipeline_arn, stage) for stage in config.stage_names],
            )
        )

    def _grant_recorder(
        self,
        config: ModelGroupConfig,
        *,
        key: kms.IKey,
        ledger: dynamodb.ITable,
        topic: sns.ITopic,
    ) -> None:
        self._grant_event_function(
            self.recorder.function.role,
            config,
            package_statement=("WriteBackToModelPackages", RECORDER_PACKAGE_ACTIONS),
            pipeline_statement=("ReadPipelineHistory", RECORDER_PIPELINE_ACTIONS),
            ledger_actions=RECORDER_LEDGER_ACTIONS,
            key=key,
            ledger=ledger,
            topic=topic,
        )

    def _grant_event_function(
        self,
        role: iam.IRole,
        config: ModelGroupConfig,
        *,
        package_statement: tuple[str, tuple[str, ...]],
        pipeline_statement: tuple[str, tuple[str, ...]],
        ledger_actions: tuple[str, ...],
        key: kms.IKey,
        ledger: dynamodb.ITable,
        topic: sns.ITopic,
    ) -> None:
        """What the trigger and the recorder both get: actions on this group's versions
        and on its pipeline, the ledger, the topic and the key; which actions differ."""
        for (sid, actions), resource in (
            (package_statement, arns.model_packages_arn(self, config.name)),
            (pipeline_statement, self.pipeline.pipeline.pipeline_arn),
        ):
            role.add_to_principal_policy(
                iam.PolicyStatement(sid=sid, actions=list(actions), resources=[resource])
            )
        _acknowledge_versions(role, config)
        ledger.grant(role, *ledger_actions)
        _grant_publish(role, topic)
        _grant_key(role, key)

    def _grant_endpoint_cleanup(self, config: ModelGroupConfig) -> None:
        role = self.endpoint_cleanup.function.role
        endpoints = config.endpoint_names
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DeleteStageEndpoints",
                actions=["sagemaker:DeleteEndpoint"],
                resources=[arns.endpoint_arn(self, name) for name in endpoints],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DeleteStageEndpointConfigs",
                actions=["sagemaker:DeleteEndpointConfig"],
                resources=[arns.endpoint_configs_arn(self, name) for name in endpoints],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DeleteStageModels",
                actions=["sagemaker:DeleteModel"],
                resources=[arns.models_arn(self, name) for name in endpoints],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListForCleanup",
                actions=["sagemaker:ListEndpointConfigs", "sagemaker:ListModels"],
                resources=["*"],
            )
        )
        for endpoint in endpoints:
            acknowledge_wildcard_resource(
                role,
                arns.endpoint_configs_arn(self, endpoint),
                f"On stack deletion the cleanup deletes every endpoint config Deploy made "
                f"for {endpoint}, named {endpoint}-<suffix> at deploy time; delete only.",
            )
            acknowledge_wildcard_resource(
                role,
                arns.models_arn(self, endpoint),
                f"On stack deletion the cleanup deletes every model Deploy made for "
                f"{endpoint}, named {endpoint}-<suffix> at deploy time; delete only.",
            )
        acknowledge_wildcard_resource(
            role,
            "*",
            "sagemaker:ListEndpointConfigs and sagemaker:ListModels are list actions with no "
            "resource-level permissions; the cleanup filters by the endpoint name prefix.",
        )

    def _grant_deploy(self, config: ModelGroupConfig) -> None:
        role = self.deploy.role
        endpoints = config.endpoint_names
        models = [arns.models_arn(self, name) for name in endpoints]
        endpoint_configs = [arns.endpoint_configs_arn(self, name) for name in endpoints]
        endpoint_arns = [arns.endpoint_arn(self, name) for name in endpoints]
        role.add_to_policy(
            # Deploy makes no DescribeModelPackage call itself: CreateModel from a
            # versioned package reads the package as the caller (the registry's
            # cross-account policy grants the same pair for the same reason).
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
                actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
                # CreateEndpoint and UpdateEndpoint are also authorised on the config.
                resources=endpoint_arns + endpoint_configs,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="RecreateFailedEndpoints",
                # A Failed endpoint accepts only DeleteEndpoint; Deploy then creates it again.
                actions=["sagemaker:DeleteEndpoint"],
                resources=endpoint_arns,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadAndTagEndpoints",
                # CreateEndpoint with Tags also needs AddTags on the endpoint.
                actions=["sagemaker:DescribeEndpoint", "sagemaker:AddTags"],
                resources=endpoint_arns,
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
        # The bundle is read with the job's own artifact credentials, which CodePipeline
        # issues for the input artifact: the role needs no S3 permission.
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


def _grant_publish(role: iam.IRole, topic: sns.ITopic) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="Notify", actions=["sns:Publish"], resources=[topic.topic_arn])
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
