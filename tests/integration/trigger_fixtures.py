"""A small world for the approval trigger's integration tests: moto (SageMaker, DynamoDB,
SNS, SQS) plus the emulated CodePipeline, with helpers shaped like what people do."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from approval_trigger.logic import ApprovalTrigger
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from shared import contract
from shared.gates import Gates
from shared.ledger import Outcome
from shared.settings import TriggerConfig
from tests.stub_engine import StubEngine

REGION = "us-east-1"
GROUP = "house-price-linear-learner"
STAGES = ("staging", "production")
EVENTS = Path(__file__).resolve().parents[1] / "events"

INFERENCE_SPEC = {
    "Containers": [
        {
            "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
            "ModelDataUrl": "s3://greenlight-example-models/house-price/v1/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
ALL_REPORTS = {
    "ModelQuality": {
        "Statistics": {"ContentType": "application/json", "S3Uri": "s3://reports/quality.json"}
    },
    "Bias": {"Report": {"ContentType": "application/json", "S3Uri": "s3://reports/bias.json"}},
    "Explainability": {
        "Report": {"ContentType": "application/json", "S3Uri": "s3://reports/shap.json"}
    },
}


def _lambda_stage(name: str, group: str) -> dict[str, Any]:
    parameters = {
        "endpointName": f"house-price-{name}",
        "group": group,
        "modelPackageArn": "#{variables.ModelPackageArn}",
        "stage": name,
    }
    return {
        "name": name,
        "onFailure": {"result": "ROLLBACK"},
        "actions": [
            {
                "name": action,
                "actionTypeId": {
                    "category": "Invoke",
                    "owner": "AWS",
                    "provider": "Lambda",
                    "version": "1",
                },
                "configuration": {
                    "FunctionName": f"greenlight-{action.lower()}",
                    "UserParameters": json.dumps(parameters, sort_keys=True),
                },
                "runOrder": order,
            }
            for order, action in enumerate(contract.STAGE_ACTIONS, start=1)
        ],
    }


def pipeline_declaration(group: str = GROUP) -> dict[str, Any]:
    """A pipeline shaped like the one the stacks synthesize for ``group``."""
    return {
        "name": contract.pipeline_name(group),
        "roleArn": "arn:aws:iam::123456789012:role/greenlight-pipeline",
        "pipelineType": "V2",
        "executionMode": "SUPERSEDED",
        "variables": [
            {"name": contract.VAR_MODEL_PACKAGE_ARN, "defaultValue": "none"},
            {"name": contract.VAR_MODEL_PACKAGE_VERSION, "defaultValue": "0"},
            {"name": contract.VAR_TRIGGER_REASON, "defaultValue": contract.REASON_APPROVAL},
            {"name": contract.VAR_REQUEST_ID, "defaultValue": "none"},
        ],
        "stages": [
            {
                "name": contract.SOURCE_STAGE,
                "actions": [
                    {
                        "name": contract.SOURCE_ACTION,
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "S3",
                            "version": "1",
                        },
                        "configuration": {"S3Bucket": "bundle", "S3ObjectKey": "bundle.zip"},
                    }
                ],
            },
            _lambda_stage(STAGES[0], group),
            {
                "name": contract.approval_stage_name(STAGES[1]),
                "actions": [
                    {
                        "name": contract.ACTION_APPROVE,
                        "actionTypeId": {
                            "category": "Approval",
                            "owner": "AWS",
                            "provider": "Manual",
                            "version": "1",
                        },
                    }
                ],
            },
            _lambda_stage(STAGES[1], group),
        ],
    }


class TriggerWorld:
    """Everything one trigger test needs; create it inside ``mock_aws``."""

    def __init__(self, *, gates: Gates | None = None) -> None:
        self.clock = VirtualClock()
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.codepipeline = EmulatedCodePipeline(clock=self.clock)
        self.codepipeline.register_pipeline(pipeline_declaration())
        self.pipeline = contract.pipeline_name(GROUP)
        #: The sandbox's pipeline engine, with stub functions that succeed.
        self.engine = StubEngine(self.codepipeline, self.clock)

        self.table = self.create_ledger("greenlight-ledger")
        self.topic_arn = self.sns.create_topic(Name="greenlight-notifications")["TopicArn"]
        queue_url = self.sqs.create_queue(QueueName="notifications")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.queue_url = queue_url

        self.sagemaker.meta.events.register(
            "provide-client-params.sagemaker.UpdateModelPackage", self._keep_unchanged_fields
        )
        self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        self.config = TriggerConfig(
            ledger_table=self.table,
            topic_arn=self.topic_arn,
            group=GROUP,
            pipeline_name=self.pipeline,
            stages=STAGES,
            gates=gates or Gates(),
        )
        self.trigger = ApprovalTrigger(
            self.config,
            sagemaker=self.sagemaker,
            codepipeline=self.codepipeline,  # type: ignore[arg-type]
            sns=self.sns,
            dynamodb=self.dynamodb,
            clock=self.clock,
        )

    def create_ledger(self, name: str) -> str:
        """A ledger table shaped like the stack's; returns its name."""
        self.dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": contract.LEDGER_PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": contract.LEDGER_SORT_KEY, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": contract.LEDGER_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": contract.LEDGER_SORT_KEY, "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    # --- the registry ----------------------------------------------------------------

    def _keep_unchanged_fields(self, params: dict[str, Any], **_: Any) -> None:
        """UpdateModelPackage changes only the fields it is given. moto 5.2.5 instead
        clears the approval status, approval description and metadata a call leaves
        out, so fill them in from the package as it is (and merge the metadata)."""
        arn = params.get("ModelPackageArn")
        if not arn:
            return
        current = self.sagemaker.describe_model_package(ModelPackageName=arn)
        params.setdefault("ModelApprovalStatus", current.get("ModelApprovalStatus"))
        if "ApprovalDescription" not in params and current.get("ApprovalDescription"):
            params["ApprovalDescription"] = current["ApprovalDescription"]
        params["CustomerMetadataProperties"] = {
            **current.get("CustomerMetadataProperties", {}),
            **params.get("CustomerMetadataProperties", {}),
        }
        if not params["CustomerMetadataProperties"]:
            del params["CustomerMetadataProperties"]
        if params["ModelApprovalStatus"] is None:
            del params["ModelApprovalStatus"]

    def register(
        self,
        *,
        group: str = GROUP,
        metrics: dict[str, Any] | None = None,
        inference: bool = True,
    ) -> str:
        kwargs: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelMetrics": ALL_REPORTS if metrics is None else metrics,
        }
        if inference:
            kwargs["InferenceSpecification"] = INFERENCE_SPEC
        return str(self.sagemaker.create_model_package(**kwargs)["ModelPackageArn"])

    def set_status(self, arn: str, status: str) -> None:
        # moto stamps LastModifiedTime with the wall clock in milliseconds: keep two
        # approvals in a row apart so their order is the order they happened in.
        time.sleep(0.003)
        self.sagemaker.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=f"{status} in test"
        )

    def approve(self, arn: str) -> None:
        self.set_status(arn, "Approved")

    def reject(self, arn: str) -> None:
        self.set_status(arn, "Rejected")

    def describe(self, arn: str) -> dict[str, Any]:
        return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))

    # --- events ----------------------------------------------------------------------

    def event(self, arn: str, *, event_id: str | None = None, group: str = GROUP) -> dict[str, Any]:
        """The state-change event SageMaker sends for the package as it is now."""
        template = "model_package_approved.json"
        event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / template).read_text()))
        package = self.describe(arn) if group == GROUP else None
        event["id"] = event_id or str(uuid.uuid4())
        event["resources"] = [arn]
        detail = event["detail"]
        detail["ModelPackageArn"] = arn
        detail["ModelPackageGroupName"] = group
        version = int(arn.rsplit("/", 1)[-1])
        detail["ModelPackageVersion"] = version
        detail["ModelPackageName"] = f"{group}/{version}"
        if package is not None:
            detail["ModelApprovalStatus"] = package["ModelApprovalStatus"]
            modified = package.get("LastModifiedTime") or package["CreationTime"]
            detail["LastModifiedTime"] = int(modified.timestamp() * 1000)
        return event

    def deliver(self, event: dict[str, Any]) -> Outcome:
        return self.trigger.handle(event)

    # --- the pipeline ----------------------------------------------------------------

    def variables(self, execution_id: str) -> dict[str, str]:
        execution = self.codepipeline.get_pipeline_execution(
            pipelineName=self.pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        return {v["name"]: v["resolvedValue"] for v in execution["variables"]}

    def executions(self) -> list[dict[str, Any]]:
        return list(
            self.codepipeline.list_pipeline_executions(pipelineName=self.pipeline)[
                "pipelineExecutionSummaries"
            ]
        )

    def deploy_everywhere(self, arn: str) -> str:
        """Approve ``arn``, let the trigger start it, and run the pipeline to success."""
        self.approve(arn)
        outcome = self.deliver(self.event(arn))
        assert outcome.pipeline_execution_id is not None, outcome
        self.engine.run_to_end(outcome.pipeline_execution_id)
        self.clock.advance(60)
        return outcome.pipeline_execution_id

    # --- the ledger and the topic ------------------------------------------------------

    def outcomes(self) -> list[Outcome]:
        return self.trigger.ledger.outcomes(GROUP)

    def outcomes_of(self, event_id: str) -> list[Outcome]:
        return [o for o in self.outcomes() if o.event_id == event_id]

    def notifications(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = response.get("Messages", [])
            if not batch:
                return messages
            messages.extend(json.loads(m["Body"]) for m in batch)
            for m in batch:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
