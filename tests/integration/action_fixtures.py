"""A small world for the pipeline actions' integration tests: moto (SageMaker, CloudWatch,
S3), the emulated SageMaker guardrails and the emulated CodePipeline job API, all on a
virtual clock."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bake import logic as bake_logic
from deploy import logic as deploy_logic
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.jobs import ActionRun, Artifact, Credentials, EmulatedJobs, drive
from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker
from pipeline_scripts.sandbox.lambda_actions import ACTION_TIMEOUT, REINVOKE_SECONDS
from shared import contract
from shared.parameters import BakeParameters, DeployParameters, Rollout, SmokeTestParameters
from smoke_test import logic as smoke_logic

REGION = "us-east-1"
ACCOUNT = "123456789012"
GROUP = "house-price-linear-learner"
STAGE = "production"
ENDPOINT = "house-price-production"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/greenlight-model-execution"
ARTIFACT_BUCKET = "greenlight-artifacts"
EVENTS = Path(__file__).resolve().parents[1] / "events"
ALARM_5XX = contract.alarm_name(GROUP, STAGE, "5xx")
ALARM_LATENCY = contract.alarm_name(GROUP, STAGE, "latency")
STAGE_ALARMS = (ALARM_5XX, ALARM_LATENCY)
CANARY = Rollout(
    type="CANARY",
    percent=10,
    wait_seconds=300,
    termination_wait_seconds=120,
    max_execution_timeout_seconds=3600,
)
ALL_AT_ONCE = Rollout(type="ALL_AT_ONCE", wait_seconds=120)
#: Credentials CodePipeline hands the action; no log line may contain any of them.
ARTIFACT_CREDENTIALS = Credentials(
    access_key_id="ASIAGREENLIGHTTESTKEY",
    secret_access_key="s3cr3t-artifact-key-do-not-log",
    session_token="artifact-session-token-do-not-log",
)
INFERENCE_SPEC = {
    "Containers": [
        {
            "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
            "ModelDataUrl": "s3://greenlight-example-models/house-price/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


class ActionWorld:
    """moto plus emulation, with helpers shaped like what the pipeline does."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.emulator = EmulatedSageMaker(self.clock, account_id=ACCOUNT, region=REGION)
        self.jobs = EmulatedJobs()
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        for metric, name, threshold in (
            ("Invocation5XXErrors", ALARM_5XX, 0.05),
            ("ModelLatency", ALARM_LATENCY, 500_000),
        ):
            self.cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/SageMaker",
                MetricName=metric,
                Dimensions=[
                    {"Name": "EndpointName", "Value": ENDPOINT},
                    {"Name": "VariantName", "Value": contract.VARIANT_NAME},
                ],
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=threshold,
                ComparisonOperator="GreaterThanThreshold",
            )
        self.s3.create_bucket(Bucket=ARTIFACT_BUCKET)

    # --- registry --------------------------------------------------------------------

    def register(self) -> str:
        """A new approved version of the group; its ARN."""
        response = self.sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            InferenceSpecification=INFERENCE_SPEC,  # type: ignore[arg-type]
            ModelApprovalStatus="Approved",
        )
        return response["ModelPackageArn"]

    # --- actions ---------------------------------------------------------------------

    def deploy_parameters(
        self, arn: str, *, rollout: Rollout = CANARY, keep_configs: int = 3
    ) -> DeployParameters:
        return DeployParameters(
            group=GROUP,
            stage=STAGE,
            endpoint_name=ENDPOINT,
            model_package_arn=arn,
            instance_type="ml.m5.xlarge",
            instance_count=3,
            rollout=rollout,
            alarm_names=STAGE_ALARMS,
            execution_role_arn=ROLE_ARN,
            keep_configs=keep_configs,
        )

    def deploy_handler(self, **overrides: Any) -> Any:
        def handler(event: dict[str, Any], context: object) -> dict[str, str]:
            kwargs: dict[str, Any] = {
                "codepipeline": self.jobs,
                "sagemaker": self.emulator.sagemaker_client(),
                "cloudwatch": self.cloudwatch,
                "clock": self.emulator.clock,
            }
            kwargs.update(overrides)
            return deploy_logic.run(event, **kwargs)

        return handler

    def deploy(
        self,
        arn: str,
        *,
        rollout: Rollout = CANARY,
        keep_configs: int = 3,
        handler_override: Any = None,
        **overrides: Any,
    ) -> ActionRun:
        params = self.deploy_parameters(arn, rollout=rollout, keep_configs=keep_configs)
        return drive(
            handler_override or self.deploy_handler(**overrides),
            self.jobs,
            user_parameters=params.to_json(),
            credentials=ARTIFACT_CREDENTIALS,
            max_invocations=200,
            between=self.reinvocation_delay,
        )

    def reinvocation_delay(self) -> None:
        """CodePipeline invokes an action again some time after a continuation token."""
        self.emulator.clock.sleep(REINVOKE_SECONDS)

    def smoke_test_handler(self) -> Any:
        def handler(event: dict[str, Any], context: object) -> dict[str, str]:
            return smoke_logic.run(
                event,
                codepipeline=self.jobs,  # type: ignore[arg-type]
                runtime=self.emulator.runtime_client(),
                s3=self.s3,
                clock=self.emulator.clock,
            )

        return handler

    def smoke_test(self, arn: str, bundle_key: str = "bundle.zip") -> ActionRun:
        params = SmokeTestParameters(
            group=GROUP, stage=STAGE, endpoint_name=ENDPOINT, model_package_arn=arn
        )
        return drive(
            self.smoke_test_handler(),
            self.jobs,
            user_parameters=params.to_json(),
            input_artifacts=[
                Artifact(name=contract.SOURCE_ARTIFACT, bucket=ARTIFACT_BUCKET, key=bundle_key)
            ],
            credentials=ARTIFACT_CREDENTIALS,
        )

    def bake_handler(self) -> Any:
        def handler(event: dict[str, Any], context: object) -> dict[str, str]:
            return bake_logic.run(
                event,
                codepipeline=self.jobs,  # type: ignore[arg-type]
                cloudwatch=self.cloudwatch,
                clock=self.emulator.clock,
            )

        return handler

    def bake(
        self, arn: str, *, minutes: int = 15, between: Callable[[], None] | None = None
    ) -> ActionRun:
        """Bake driven as CodePipeline drives it: re-invoked REINVOKE_SECONDS after each
        continuation (then ``between`` runs), for at most the action's 24 hours."""

        def reinvoke_later() -> None:
            self.emulator.clock.sleep(REINVOKE_SECONDS)  # the endpoints and alarms move on
            if between is not None:
                between()

        params = BakeParameters(
            group=GROUP,
            stage=STAGE,
            endpoint_name=ENDPOINT,
            model_package_arn=arn,
            alarm_names=STAGE_ALARMS,
            bake_minutes=minutes,
        )
        return drive(
            self.bake_handler(),
            self.jobs,
            user_parameters=params.to_json(),
            credentials=ARTIFACT_CREDENTIALS,
            between=reinvoke_later,
            max_invocations=int(ACTION_TIMEOUT.total_seconds() // REINVOKE_SECONDS),
        )

    # --- bundle ------------------------------------------------------------------------

    def put_bundle(self, smoke_test: dict[str, Any], key: str = "bundle.zip") -> None:
        document = {"stages": {STAGE: {"smokeTest": smoke_test}}}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(contract.BUNDLE_FILE, json.dumps(document))
        self.s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=buffer.getvalue())

    # --- observations --------------------------------------------------------------------

    def endpoint(self) -> dict[str, Any]:
        return dict(self.sagemaker.describe_endpoint(EndpointName=ENDPOINT))

    def config_names(self) -> list[str]:
        return sorted(
            c["EndpointConfigName"]
            for c in self.sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
        )

    def model_names(self) -> list[str]:
        return sorted(m["ModelName"] for m in self.sagemaker.list_models()["Models"])

    def alarm_state(self, name: str) -> str:
        alarms = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return alarms[0]["StateValue"]


@contextmanager
def action_world() -> Iterator[ActionWorld]:
    with mock_aws():
        yield ActionWorld()


def load_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded
