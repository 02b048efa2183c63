"""A world for the recorder, the write-back loop and the ``greenlight`` commands.

moto serves SageMaker (with the registry as AWS runs it), DynamoDB, SNS, SQS and
CloudFormation; the emulated CodePipeline sits behind moto's own codepipeline endpoint
(``ServiceRoutes``), so the Lambda logic and the CLI alike use plain boto3 clients.
``PipelineWorld`` runs executions with the sandbox's pipeline engine (stub functions in
place of the action handlers) and hands every state-change event it publishes to the
real recorder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws
from moto.core.utils import camelcase_to_underscores
from trigger_fixtures import ALL_REPORTS, INFERENCE_SPEC, pipeline_declaration

from approval_trigger.logic import ApprovalTrigger
from pipeline_scripts.emulation import pipeline_events
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import FAILED, SUCCEEDED, EmulatedCodePipeline
from pipeline_scripts.emulation.registry import RegistryEmulation, registry_emulation
from pipeline_scripts.emulation.service import ServiceRoutes
from pipeline_scripts.sandbox.changes import Change, change_event
from recorder.logic import Recorded, Recorder
from shared import contract
from shared.gates import Gates
from shared.ledger import Ledger, Outcome, PipelineRecord
from shared.settings import RecorderConfig, TriggerConfig
from tests.stub_engine import StubEngine, StubJob

REGION = "us-east-1"
GROUP = "house-price-linear-learner"
STAGES = ("staging", "production")
TABLE = "greenlight-ledger"
REGISTRANT_KEY = "AKIAREGISTRANT000001"
APPROVER_KEY = "AKIAAPPROVER00000001"

CODEPIPELINE_OPERATIONS = (
    "GetPipeline",
    "GetPipelineExecution",
    "GetPipelineState",
    "ListPipelineExecutions",
    "ListActionExecutions",
    "StartPipelineExecution",
    "StopPipelineExecution",
    "RollbackStage",
)


@contextmanager
def emulated_aws(codepipeline: EmulatedCodePipeline) -> Iterator[RegistryEmulation]:
    """moto, the registry emulation, and ``codepipeline`` behind moto's endpoint."""
    routes = ServiceRoutes()
    with mock_aws(), registry_emulation() as registry:
        for operation in CODEPIPELINE_OPERATIONS:
            routes.route(
                "codepipeline",
                operation,
                getattr(codepipeline, camelcase_to_underscores(operation)),
            )
        try:
            yield registry
        finally:
            routes.uninstall()


def create_ledger(dynamodb: Any, table: str = TABLE) -> None:
    dynamodb.create_table(
        TableName=table,
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


class PipelineWorld:
    """Create inside ``emulated_aws`` (see the ``world`` fixtures)."""

    def __init__(
        self, codepipeline: EmulatedCodePipeline, clock: VirtualClock, registry: RegistryEmulation
    ) -> None:
        self._registry = registry
        self.clock = clock
        self.codepipeline = codepipeline
        self.codepipeline.register_pipeline(pipeline_declaration())
        self.pipeline = contract.pipeline_name(GROUP)
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.registrant = boto3.client(
            "sagemaker",
            region_name=REGION,
            aws_access_key_id=REGISTRANT_KEY,
            aws_secret_access_key="testing",
        )
        self.approver = boto3.client(
            "sagemaker",
            region_name=REGION,
            aws_access_key_id=APPROVER_KEY,
            aws_secret_access_key="testing",
        )
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        create_ledger(self.dynamodb)
        self.ledger = Ledger(TABLE, client=self.dynamodb)
        self.topic_arn = self.sns.create_topic(Name="greenlight-notifications")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="notifications")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        self.trigger = ApprovalTrigger(
            TriggerConfig(
                ledger_table=TABLE,
                topic_arn=self.topic_arn,
                group=GROUP,
                pipeline_name=self.pipeline,
                stages=STAGES,
                gates=Gates(),
            ),
            clock=self.clock,
        )
        self.recorder = Recorder(
            RecorderConfig(
                ledger_table=TABLE,
                topic_arn=self.topic_arn,
                group=GROUP,
                pipeline_name=self.pipeline,
                stages=STAGES,
            ),
            clock=self.clock,
        )
        self.delivered: list[dict[str, Any]] = []
        self.recorded: list[Recorded] = []
        #: While set, the engine's events never reach the recorder (lost deliveries).
        self.losing_events = False
        self._answered_by: str | None = None
        self.engine = StubEngine(
            codepipeline,
            clock,
            on_transition=self._published,
            identity=lambda: self._answered_by,
            action_seconds=60,
        )
        self.engine.functions.stubs[contract.ACTION_DEPLOY] = self._deploy

    # --- the registry -----------------------------------------------------------------

    def register(self) -> str:
        return str(
            self.registrant.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus="PendingManualApproval",
                ModelMetrics=ALL_REPORTS,
                InferenceSpecification=INFERENCE_SPEC,
            )["ModelPackageArn"]
        )

    def approve(self, arn: str, description: str = "metrics reviewed") -> Outcome:
        """Approve ``arn`` as the approver and hand the Approved event to the trigger."""
        self.clock.advance(30)
        self.approver.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=description
        )
        return self.trigger.handle(self.approved_event(arn))

    def approved_event(self, arn: str) -> dict[str, Any]:
        package = self.sagemaker.describe_model_package(ModelPackageName=arn)
        for event in reversed(list(self.registry_events())):
            if event["resources"] == [arn]:
                return event
        raise AssertionError(f"no event emitted for {arn} ({package['ModelApprovalStatus']})")

    def registry_events(self) -> Iterator[dict[str, Any]]:
        yield from self._registry.emitted.values()

    def describe(self, arn: str) -> dict[str, Any]:
        return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))

    # --- CodePipeline, run by the sandbox's engine -----------------------------------------

    def deliver(self, event: dict[str, Any]) -> Recorded:
        self.delivered.append(event)
        recorded = self.recorder.handle(event)
        self.recorded.append(recorded)
        return recorded

    def _published(self, kind: str, change: Change) -> None:
        """The engine's state changes reach the recorder as EventBridge delivers them."""
        if not self.losing_events:
            self.deliver(change_event(kind, change))

    def _deploy(self, job: StubJob) -> None:
        """The Deploy stub: reports the endpoint and the config it made."""
        endpoint = f"house-price-{job.stage}"
        job.succeed(
            {
                contract.OUT_ENDPOINT_NAME: endpoint,
                contract.OUT_ENDPOINT_CONFIG_NAME: f"{endpoint}-{job.execution_id[:8]}",
            }
        )

    def _execution(self, execution_id: str) -> Any:
        return self.codepipeline.execution_record(execution_id)

    def pipeline_event(self, execution_id: str, state: str, **extra: Any) -> dict[str, Any]:
        """An execution event made by hand, for events out of the engine's order."""
        execution = self._execution(execution_id)
        return pipeline_events.pipeline_execution_event(
            pipeline=self.pipeline,
            execution_id=execution_id,
            state=state,
            start_time=execution.start_time,
            at=self.clock.now(),
            trigger_type=execution.trigger_type,
            **extra,
        )

    def stage_event(self, execution_id: str, stage: str, state: str) -> dict[str, Any]:
        """A stage event made by hand, for events out of the engine's order."""
        return pipeline_events.stage_execution_event(
            pipeline=self.pipeline,
            execution_id=execution_id,
            stage=stage,
            state=state,
            start_time=self._execution(execution_id).start_time,
            at=self.clock.now(),
        )

    def start(self, execution_id: str) -> None:
        """The execution starts: it runs its Source stage, or a rollback enters the
        stage it rolls back."""
        execution = self._execution(execution_id)
        if execution.rollback_stage is None:
            self.engine.run_stage(execution_id, contract.SOURCE_STAGE)
        else:
            self.engine.run_until(
                lambda: execution.rollback_stage in execution.stages,
                f"{execution_id} entered {execution.rollback_stage}",
            )
        self.clock.advance(5)

    def run_stage(
        self,
        execution_id: str,
        stage: str,
        *,
        fail: str | None = None,
        summary: str = "alarm greenlight-house-price-linear-learner-staging-5xx in ALARM",
    ) -> None:
        """Run ``stage``'s actions in order; ``fail`` names the action that fails."""
        if fail is not None:
            self.engine.fail(stage, fail, summary)
        self.engine.run_stage(execution_id, stage)
        self.clock.advance(5)

    def await_approval(self, execution_id: str, stage: str) -> None:
        """Run until the execution waits at the manual approval before ``stage``."""
        self.engine.run_to_approval(execution_id, contract.approval_stage_name(stage))
        self.clock.advance(300)

    def pass_approval(
        self, execution_id: str, stage: str, *, answered_by: str | None = None
    ) -> None:
        """A reviewer (``answered_by``) approves the manual approval before ``stage``."""
        self._answered_by = answered_by
        self.engine.approve(
            execution_id, contract.approval_stage_name(stage), contract.ACTION_APPROVE
        )

    def finish(self, execution_id: str, status: str = SUCCEEDED) -> None:
        """Run the execution to its end, which must be ``status``."""
        self.engine.run_to_end(execution_id)
        assert self._execution(execution_id).status == status
        self.clock.advance(60)

    def run_everywhere(self, execution_id: str) -> None:
        """Source, staging, the approval, production: all green."""
        self.start(execution_id)
        self.run_stage(execution_id, STAGES[0])
        self.await_approval(execution_id, STAGES[1])
        self.pass_approval(execution_id, STAGES[1])
        self.run_stage(execution_id, STAGES[1])
        self.finish(execution_id)

    def deploy(self, arn: str, description: str = "metrics reviewed") -> str:
        outcome = self.approve(arn, description)
        assert outcome.pipeline_execution_id is not None, outcome
        self.run_everywhere(outcome.pipeline_execution_id)
        return outcome.pipeline_execution_id

    def fail_and_roll_back(self, execution_id: str, stage: str, *, action: str) -> str:
        """``stage`` fails at ``action``; its OnFailure ROLLBACK puts the last good
        execution back. Returns the rollback execution id."""
        self.run_stage(execution_id, stage, fail=action)
        self.finish(execution_id, FAILED)
        rollback = next(
            e.pipeline_execution_id
            for e in reversed(self.codepipeline.pipeline_record(self.pipeline).executions)
            if e.trigger_type == "AutomatedRollback" and e.rollback_stage == stage
        )
        self.engine.run_stage(rollback, stage)
        self.clock.advance(5)
        self.finish(rollback)
        return rollback

    def fail_in_production(
        self, arn: str, description: str = "metrics reviewed"
    ) -> tuple[str, str]:
        """``arn`` approved, through staging and production's manual approval; its
        production bake fails and production rolls back to the last good execution.
        Returns its execution and the rollback's."""
        outcome = self.approve(arn, description)
        assert outcome.pipeline_execution_id is not None
        bad = outcome.pipeline_execution_id
        self.start(bad)
        self.run_stage(bad, STAGES[0])
        self.await_approval(bad, STAGES[1])
        self.pass_approval(bad, STAGES[1])
        return bad, self.fail_and_roll_back(bad, STAGES[1], action=contract.ACTION_BAKE)

    # --- what was kept and told -----------------------------------------------------------

    def records(self) -> list[PipelineRecord]:
        return sorted(self.ledger.pipeline_records(GROUP), key=PipelineRecord.sort_key)

    def notifications(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(json.loads(m["Body"]) for m in batch)
            for m in batch:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


@contextmanager
def open_world() -> Iterator[PipelineWorld]:
    clock = VirtualClock()
    codepipeline = EmulatedCodePipeline(clock=clock)
    with emulated_aws(codepipeline) as registry:
        yield PipelineWorld(codepipeline, clock, registry)


def common_flags(world: PipelineWorld) -> list[str]:
    """Flags that point the CLI at the world's group, stages and ledger."""
    return ["--stages", ",".join(STAGES), "--ledger-table", TABLE]


def topic_flags(world: PipelineWorld) -> list[str]:
    return [*common_flags(world), "--topic-arn", world.topic_arn]


def history_scenario(world: PipelineWorld) -> dict[str, str]:
    """v1 live everywhere; v2 passes staging, fails its production bake and is rolled back
    to v1. Returns the ARNs and execution ids by name."""
    v1 = world.register()
    good = world.deploy(v1, "v1: quality report reviewed")
    v2 = world.register()
    bad, rollback = world.fail_in_production(v2, "v2: better RMSE")
    return {"v1": v1, "v2": v2, "good": good, "bad": bad, "rollback": rollback}
