"""The CodePipeline V2 that carries one approved version through the group's stages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from shared import contract
from shared.config import ModelGroupConfig, StageConfig
from shared.parameters import (
    ActionTarget,
    BakeParameters,
    DeployParameters,
    SmokeTestParameters,
)
from shared.stage_access import StageTarget

MODEL_PACKAGE_ARN_REF = f"#{{variables.{contract.VAR_MODEL_PACKAGE_ARN}}}"

VARIABLE_DESCRIPTIONS: Mapping[str, tuple[str, str]] = {
    contract.VAR_MODEL_PACKAGE_ARN: (
        contract.NO_MODEL_VERSION,
        "The exact model package version to deploy (the ARN the reviewer approved).",
    ),
    contract.VAR_MODEL_PACKAGE_VERSION: ("0", "The version number of that model package."),
    contract.VAR_TRIGGER_REASON: (
        contract.REASON_APPROVAL,
        "Why the run started: " + ", ".join(contract.TRIGGER_REASONS) + ".",
    ),
    contract.VAR_REQUEST_ID: (
        "none",
        "The EventBridge event id or CLI request id that started the run.",
    ),
}


def deploy_namespace(stage: str) -> str:
    """The namespace of the Deploy action's output variables in ``stage``."""
    return f"deploy-{stage}"


@dataclass(frozen=True, kw_only=True)
class StageWiring:
    """What one configured stage's actions need from the rest of the group."""

    stage: StageConfig
    alarm_names: tuple[str, ...]
    #: How the actions reach a stage in another account (nothing for the tooling one).
    target: StageTarget = field(default_factory=StageTarget)
    #: The execution role there, for a stage in another account.
    execution_role_arn: str | None = None


class DeploymentPipeline(Construct):
    """Exposes ``pipeline`` and ``source_artifact``. The artifacts go to the shared
    ``artifact_bucket``, under the pipeline's own prefix."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelGroupConfig,
        stages: tuple[StageWiring, ...],
        bundle: s3_assets.Asset,
        deploy: lambda_.IFunction,
        smoke_test: lambda_.IFunction,
        bake: lambda_.IFunction,
        execution_role_arn: str,
        topic: sns.ITopic,
        artifact_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source_artifact = codepipeline.Artifact(contract.SOURCE_ARTIFACT)
        stage_props = [self._source_stage(bundle)]
        for wiring in stages:
            stage = wiring.stage
            if stage.manual_approval_before:
                stage_props.append(_approval_stage(stage, topic))
            stage_props.append(
                self._deploy_stage(
                    config=config,
                    wiring=wiring,
                    deploy=deploy,
                    smoke_test=smoke_test,
                    bake=bake,
                    execution_role_arn=execution_role_arn,
                )
            )
        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=contract.pipeline_name(config.name),
            pipeline_type=codepipeline.PipelineType.V2,
            # A newer approval overtakes an older one between stages (DESIGN rule 4);
            # PARALLEL would also rule out stage rollback.
            execution_mode=codepipeline.ExecutionMode.SUPERSEDED,
            artifact_bucket=artifact_bucket,
            cross_account_keys=False,
            restart_execution_on_update=False,
            use_pipeline_role_for_actions=True,
            variables=[
                codepipeline.Variable(
                    variable_name=name,
                    default_value=VARIABLE_DESCRIPTIONS[name][0],
                    description=VARIABLE_DESCRIPTIONS[name][1],
                )
                for name in contract.PIPELINE_VARIABLES
            ],
            stages=stage_props,
        )

    def _source_stage(self, bundle: s3_assets.Asset) -> codepipeline.StageProps:
        """The bundle as the Source stage; it never starts a run by itself."""
        return codepipeline.StageProps(
            stage_name=contract.SOURCE_STAGE,
            actions=[
                actions.S3SourceAction(
                    action_name=contract.SOURCE_ACTION,
                    bucket=bundle.bucket,
                    bucket_key=bundle.s3_object_key,
                    output=self.source_artifact,
                    # Runs start only through StartPipelineExecution with the
                    # approved version's variables.
                    trigger=actions.S3Trigger.NONE,
                )
            ],
        )

    def _deploy_stage(
        self,
        *,
        config: ModelGroupConfig,
        wiring: StageWiring,
        deploy: lambda_.IFunction,
        smoke_test: lambda_.IFunction,
        bake: lambda_.IFunction,
        execution_role_arn: str,
    ) -> codepipeline.StageProps:
        stage = wiring.stage
        deploy_parameters, smoke_parameters, bake_parameters = _stage_parameters(
            config, wiring, wiring.execution_role_arn or execution_role_arn
        )
        return codepipeline.StageProps(
            stage_name=stage.name,
            actions=[
                actions.LambdaInvokeAction(
                    action_name=contract.ACTION_DEPLOY,
                    lambda_=deploy,
                    user_parameters_string=_placed(deploy_parameters.to_json(), wiring.target),
                    variables_namespace=deploy_namespace(stage.name),
                    run_order=1,
                ),
                actions.LambdaInvokeAction(
                    action_name=contract.ACTION_SMOKE_TEST,
                    lambda_=smoke_test,
                    inputs=[self.source_artifact],
                    user_parameters_string=_placed(smoke_parameters.to_json(), wiring.target),
                    run_order=2,
                ),
                actions.LambdaInvokeAction(
                    action_name=contract.ACTION_BAKE,
                    lambda_=bake,
                    user_parameters_string=_placed(bake_parameters.to_json(), wiring.target),
                    run_order=3,
                ),
            ],
            # Any failure in the stage re-runs it with the last version that succeeded
            # there (DESIGN rule 5).
            on_failure=codepipeline.FailureConditions(result=codepipeline.Result.ROLLBACK),
        )


def _stage_parameters(
    config: ModelGroupConfig, wiring: StageWiring, execution_role_arn: str
) -> tuple[DeployParameters, SmokeTestParameters, BakeParameters]:
    """The UserParameters of a stage's Deploy, SmokeTest and Bake actions."""
    stage = wiring.stage
    target = ActionTarget(
        group=config.name,
        stage=stage.name,
        endpoint_name=stage.endpoint_name,
        model_package_arn=MODEL_PACKAGE_ARN_REF,
    )
    deploy_parameters = DeployParameters(
        **vars(target),
        instance_type=stage.instance_type,
        instance_count=stage.instance_count,
        rollout=stage.rollout.to_parameters(),
        alarm_names=wiring.alarm_names,
        execution_role_arn=execution_role_arn,
        keep_configs=config.keep_endpoint_configs,
        variant_name=contract.VARIANT_NAME,
    )
    smoke_parameters = SmokeTestParameters(**vars(target))
    bake_parameters = BakeParameters(
        **vars(target),
        alarm_names=wiring.alarm_names,
        bake_minutes=stage.bake_minutes,
    )
    return deploy_parameters, smoke_parameters, bake_parameters


def _approval_stage(stage: StageConfig, topic: sns.ITopic) -> codepipeline.StageProps:
    """The manual approval in front of ``stage``, announced on the group's topic."""
    return codepipeline.StageProps(
        stage_name=contract.approval_stage_name(stage.name),
        actions=[
            actions.ManualApprovalAction(
                action_name=contract.ACTION_APPROVE,
                notification_topic=topic,
                additional_information=(
                    f"Deploy {MODEL_PACKAGE_ARN_REF} to {stage.name} ({stage.endpoint_name})?"
                ),
            )
        ],
    )


def _placed(parameters: str, target: StageTarget) -> str:
    """An action's UserParameters with what reaches its stage's account, if another."""
    extra = target.to_parameters()
    if not extra:
        return parameters
    return json.dumps({**json.loads(parameters), **extra}, separators=(",", ":"), sort_keys=True)
