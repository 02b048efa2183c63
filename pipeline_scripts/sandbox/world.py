"""The sandbox: the synthesized app, provisioned on moto, with the emulation behind it.

``Sandbox`` reads the cloud assembly, creates what the template declares (the ledger
table, the topic, the alarms, the model package groups, the rules, the source bundle,
the pipelines and the functions), and routes the calls moto lacks to the emulators, so
that the real handlers — and any boto3 client in this process, or a client of the
sandbox server — see one consistent AWS.

Events travel as in AWS: SageMaker's state-change events and CodePipeline's execution
events go to the default event bus; the template's rules, with their synthesized
patterns, decide which reach which function. Time is virtual: waiting advances the
clock straight to the next thing due.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.events.models import events_backends

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.jobs import Artifact, EmulatedJobs
from pipeline_scripts.emulation.pipeline_events import (
    action_execution_event,
    pipeline_execution_event,
    stage_execution_event,
)
from pipeline_scripts.emulation.registry import RegistryEmulation, identity_for
from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker
from pipeline_scripts.emulation.service import Operation, ServiceRoutes, caller_access_key
from pipeline_scripts.sandbox.engine import Change, PipelineEngine
from pipeline_scripts.sandbox.runtime import LambdaRuntime
from pipeline_scripts.sandbox.template import ACCOUNT_ID, REGION, AppSpec, load_app
from shared.clock import install_clock

#: Access keys of the sandbox's people: the registry records who did what by key.
DATA_SCIENTIST_KEY = "AKIADATASCIENTIST001"
REVIEWER_KEY = "AKIAREVIEWER00000001"

_ALARM_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "ComparisonOperator",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "MetricName",
    "Namespace",
    "Period",
    "Statistic",
    "ExtendedStatistic",
    "Threshold",
    "TreatMissingData",
    "Dimensions",
    "Unit",
)

Log = Callable[[str], None]

#: In-process clients of the sandbox need a region and some credentials; moto takes any.
_SANDBOX_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "AKIASANDBOXOPERATOR1",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
}


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str
    attributes: dict[str, str]


class Sandbox:
    """Use as a context manager: ``with Sandbox.from_cdk_out(path) as sandbox: ...``."""

    def __init__(self, app: AppSpec, *, log: Log | None = None) -> None:
        self.app = app
        self.log: Log = log or (lambda _line: None)
        self.clock = VirtualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.notifications: list[Notification] = []
        self._stack = ExitStack()
        self._saved_environment: dict[str, str | None] = {}
        self._rule_queues: dict[str, str] = {}
        self._notification_queue = ""
        self._events: dict[str, dict[str, Any]] = {}
        self.registry = RegistryEmulation(self.clock)
        self.codepipeline = EmulatedCodePipeline(clock=self.clock)
        self.jobs = EmulatedJobs()
        self.runtime = LambdaRuntime(app.functions)
        self.routes = ServiceRoutes()
        self.sagemaker: EmulatedSageMaker
        self.engine: PipelineEngine

    @classmethod
    def from_cdk_out(cls, cdk_out: Path, *, log: Log | None = None) -> Sandbox:
        return cls(load_app(cdk_out), log=log)

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self._stack.enter_context(mock_aws())
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._stack.close()

    def start(self) -> None:
        """Install the emulation and provision the template (moto must be active)."""
        self._saved_environment = {name: os.environ.get(name) for name in _SANDBOX_ENVIRONMENT}
        for name, value in _SANDBOX_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
        self.registry.install()
        self.sagemaker = EmulatedSageMaker(self.clock, account_id=ACCOUNT_ID, region=REGION)
        # The handlers' waits pass in virtual time, and let the endpoints and their
        # alarms move on as they pass.
        install_clock(self.sagemaker.clock)
        self.engine = PipelineEngine(
            codepipeline=self.codepipeline,
            jobs=self.jobs,
            runtime=self.runtime,
            clock=self.clock,
            bundles={},
            on_transition=self._publish_pipeline_event,
            identity=_caller_arn,
        )
        self._route()
        self._provision()

    def stop(self) -> None:
        self.routes.uninstall()
        self.registry.uninstall()
        install_clock(None)
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def client(self, service: str, *, access_key: str = "AKIASANDBOXOPERATOR1") -> Any:
        """A plain boto3 client of the sandbox's AWS, acting as ``access_key``."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            aws_access_key_id=access_key,
            aws_secret_access_key="sandbox",  # noqa: S106 - moto takes any secret
        )

    # --- wiring -----------------------------------------------------------------------

    def _route(self) -> None:
        routes, cp, engine = self.routes, self.codepipeline, self.engine
        implementations: dict[str, Operation] = {
            "GetPipeline": cp.get_pipeline,
            "GetPipelineExecution": cp.get_pipeline_execution,
            "ListPipelineExecutions": cp.list_pipeline_executions,
            "ListActionExecutions": cp.list_action_executions,
            "StartPipelineExecution": cp.start_pipeline_execution,
            "StopPipelineExecution": cp.stop_pipeline_execution,
            "RollbackStage": cp.rollback_stage,
            "CreatePipeline": cp.create_pipeline,
            "UpdatePipeline": cp.update_pipeline,
            "DisableStageTransition": self._disable_stage_transition,
            "EnableStageTransition": cp.enable_stage_transition,
            "RetryStageExecution": cp.retry_stage_execution,
            "GetPipelineState": engine.get_pipeline_state,
            "ListPipelines": self._list_pipelines,
            "PutApprovalResult": engine.put_approval_result,
            "PutJobSuccessResult": self.jobs.put_job_success_result,
            "PutJobFailureResult": self.jobs.put_job_failure_result,
        }
        for operation, implementation in implementations.items():
            routes.route("codepipeline", operation, implementation)
        routes.refuse_unimplemented("codepipeline")
        routes.route("sagemaker", "UpdateEndpoint", self.sagemaker.update_endpoint)
        routes.wrap(
            "sagemaker",
            "CreateEndpoint",
            after=lambda p: self.sagemaker.endpoint_created(
                p["EndpointName"], p["EndpointConfigName"]
            ),
        )
        for operation in ("DescribeEndpoint", "ListEndpoints", "DescribeEndpointConfig"):
            routes.wrap("sagemaker", operation, before=lambda _p: self.sagemaker.tick())
        routes.wrap(
            "sagemaker-runtime",
            "InvokeEndpoint",
            before=lambda p: self.sagemaker.prepare_invocation(p["EndpointName"]),
        )

    def _disable_stage_transition(self, **params: Any) -> dict[str, Any]:
        return self.codepipeline.disable_stage_transition(**params, caller=_caller_arn())

    def _list_pipelines(self, **_params: Any) -> dict[str, Any]:
        pipelines = []
        for spec in self.app.pipelines:
            record = self.codepipeline.pipeline_record(spec.name)
            pipelines.append(
                {
                    "name": spec.name,
                    "version": record.version,
                    "pipelineType": record.declaration.get("pipelineType", "V2"),
                    "executionMode": record.declaration.get("executionMode", "SUPERSEDED"),
                    "created": record.created,
                    "updated": record.updated,
                }
            )
        return {"pipelines": pipelines}

    def _provision(self) -> None:
        app = self.app
        dynamodb, sns, sqs = self.client("dynamodb"), self.client("sns"), self.client("sqs")
        for name, table in app.tables.items():
            dynamodb.create_table(
                TableName=name,
                KeySchema=table["KeySchema"],
                AttributeDefinitions=table["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
            )
        self._notification_queue = sqs.create_queue(QueueName="sandbox-notifications")["QueueUrl"]
        notification_arn = _queue_arn(sqs, self._notification_queue)
        for topic_arn in app.topics.values():
            sns.create_topic(Name=topic_arn.rsplit(":", 1)[-1])
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=notification_arn,
                Attributes={"RawMessageDelivery": "false"},
            )
        cloudwatch = self.client("cloudwatch")
        for alarm in app.alarms:
            cloudwatch.put_metric_alarm(
                **{k: v for k, v in alarm.properties.items() if k in _ALARM_KEYS}
            )
        sagemaker = self.client("sagemaker")
        for group in app.model_package_groups:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        events = self.client("events")
        for rule in app.rules:
            queue = sqs.create_queue(QueueName=f"sandbox-rule-{len(self._rule_queues)}")["QueueUrl"]
            events.put_rule(Name=rule.name, EventPattern=json.dumps(rule.event_pattern))
            events.put_targets(
                Rule=rule.name, Targets=[{"Id": "sandbox", "Arn": _queue_arn(sqs, queue)}]
            )
            self._rule_queues[rule.logical_id] = queue
        self._publish_stack_outputs()
        s3 = self.client("s3")
        for pipeline in app.pipelines:
            if pipeline.bundle is not None:
                bundle = pipeline.bundle
                if bundle.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                    s3.create_bucket(Bucket=bundle.bucket)
                    s3.put_bucket_versioning(
                        Bucket=bundle.bucket, VersioningConfiguration={"Status": "Enabled"}
                    )
                put = s3.put_object(
                    Bucket=bundle.bucket, Key=bundle.key, Body=_zip(bundle.local_path)
                )
                self.engine.bundles[pipeline.name] = Artifact(
                    name="Bundle",
                    bucket=bundle.bucket,
                    key=bundle.key,
                    revision=put.get("VersionId"),
                )
            self.engine.add_pipeline(pipeline.declaration)

    def _publish_stack_outputs(self) -> None:
        """The stack's outputs, where the CLI looks them up (DescribeStacks)."""
        outputs = {
            "LedgerTableName": next(iter(self.app.tables), ""),
            "NotificationTopicArn": next(iter(self.app.topics.values()), ""),
        }
        template = {
            "Resources": {},
            "Outputs": {key: {"Value": value} for key, value in outputs.items() if value},
        }
        self.client("cloudformation").create_stack(
            StackName=self.app.stack_name, TemplateBody=json.dumps(template)
        )

    # --- events -----------------------------------------------------------------------

    def _publish_pipeline_event(self, kind: str, change: Change) -> None:
        """Put CodePipeline's state-change event on the default bus, as AWS does."""
        self._narrate_pipeline(kind, change)
        execution = change.execution
        common: dict[str, Any] = {
            "pipeline": execution.pipeline_name,
            "execution_id": execution.pipeline_execution_id,
            "state": change.state,
            "start_time": execution.start_time,
            "at": change.at,
        }
        if kind == "execution":
            event = pipeline_execution_event(
                **common,
                trigger_type=execution.trigger_type,
                trigger_detail=execution.trigger_detail,
                summary=change.summary,
            )
        elif kind == "stage":
            event = stage_execution_event(**common, stage=change.stage or "")
        else:
            event = action_execution_event(
                **common,
                stage=change.stage or "",
                action=change.action or "",
                action_type=change.action_type,
                summary=change.summary,
            )
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Resources": event["resources"],
            "Detail": json.dumps(event["detail"]),
            "Time": change.at.timestamp(),
        }
        (result,) = events_backends[ACCOUNT_ID][REGION].put_events([entry])
        event["id"] = result["EventId"]
        self._events[event["id"]] = event

    def pump_events(self, *, newest_first: bool = False) -> bool:
        """Deliver what the rules matched to their functions; True if any was.

        EventBridge does not promise order: ``newest_first`` delivers what is waiting in
        reverse, as a late delivery of an older event would arrive."""
        sqs = self.client("sqs")
        delivered = False
        for rule in self.app.rules:
            queue = self._rule_queues[rule.logical_id]
            waiting: list[dict[str, Any]] = []
            while True:
                messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if not messages:
                    break
                for message in messages:
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                    matched = json.loads(message["Body"])
                    event = self.registry.emitted.get(matched["id"]) or self._events.get(
                        matched["id"]
                    )
                    if event is not None:
                        waiting.append(event)
            for event in reversed(waiting) if newest_first else waiting:
                for function in rule.target_functions:
                    result = self.runtime.invoke_async(function, event)
                    self._narrate_invocation(function, event, result)
                delivered = True
        self._drain_notifications()
        return delivered

    def redeliver(self, event: dict[str, Any]) -> None:
        """Deliver an event again to the functions whose rules match it (EventBridge's
        delivery is at-least-once)."""
        for rule in self.app.rules:
            if self._rule_matches(rule.logical_id, event):
                for function in rule.target_functions:
                    result = self.runtime.invoke_async(function, event)
                    self._narrate_invocation(function, event, result)

    def _rule_matches(self, logical_id: str, event: dict[str, Any]) -> bool:
        rule = next(r for r in self.app.rules if r.logical_id == logical_id)
        backend = events_backends[ACCOUNT_ID][REGION]
        bus = backend.describe_event_bus("default")
        matcher = bus.rules[rule.name].event_pattern
        matched: bool = matcher.matches_event(event)  # type: ignore[arg-type]
        return matched

    def _narrate_invocation(self, function: str, event: dict[str, Any], result: Any) -> None:
        if result is None:
            dead = self.runtime.dead_letters[-1]
            self.log(f"{dead.function} failed 3 times; event {event['id']} -> DLQ: {dead.error}")
            return
        if isinstance(result, dict) and "outcome" in result:
            detail = event.get("detail", {})
            version = detail.get("ModelPackageVersion", "?")
            status = detail.get("ModelApprovalStatus", "?")
            text = f"trigger: {status} event for v{version} -> {result['outcome']}"
            if result.get("pipelineExecutionId"):
                text += f" execution {str(result['pipelineExecutionId'])[:8]}"
            elif result.get("reason"):
                text += f" ({result['reason']})"
            self.log(text)

    def _narrate_pipeline(self, kind: str, change: Change) -> None:
        execution = change.execution
        version = f"v{execution.variables.get('ModelPackageVersion', '?')}"
        label = f"{execution.pipeline_execution_id[:8]} ({version})"
        if execution.execution_type == "ROLLBACK":
            label += " [rollback]"
        state = change.state
        if kind == "execution" and state == "STARTED":
            how = (
                f"{execution.trigger_type} of {execution.rollback_stage}"
                if execution.execution_type == "ROLLBACK"
                else execution.variables.get("TriggerReason", "")
            )
            self.log(f"pipeline: execution {label} started ({how})")
        elif kind == "execution":
            self.log(f"pipeline: execution {label} {state.lower()}")
        elif kind == "stage" and state in ("SUCCEEDED", "FAILED"):
            self.log(f"pipeline: {label} {change.stage} {state.lower()}")
        elif kind == "action" and state == "FAILED":
            self.log(f"pipeline: {label} {change.stage}.{change.action} failed: {change.summary}")
        elif (
            kind == "action"
            and state == "STARTED"
            and (change.action_type or {}).get("category") == "Approval"
        ):
            self.log(f"pipeline: {label} waits for a manual approval at {change.stage}")

    def _drain_notifications(self) -> None:
        sqs = self.client("sqs")
        while True:
            messages = sqs.receive_message(
                QueueUrl=self._notification_queue, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                sqs.delete_message(
                    QueueUrl=self._notification_queue, ReceiptHandle=message["ReceiptHandle"]
                )
                body = json.loads(message["Body"])
                attributes = {
                    key: str(value.get("Value"))
                    for key, value in (body.get("MessageAttributes") or {}).items()
                }
                notification = Notification(
                    subject=body.get("Subject") or "",
                    message=body.get("Message") or "",
                    attributes=attributes,
                )
                self.notifications.append(notification)
                self.log(f"sns: {notification.subject or notification.message[:80]}")

    # --- time -------------------------------------------------------------------------

    def settle(self, *, max_seconds: float = 7 * 24 * 3600) -> None:
        """Run events and pipelines until nothing more can happen without a person
        (a manual approval) — letting virtual time pass while actions wait."""
        deadline = self.clock.now().timestamp() + max_seconds
        while True:
            moved = self.pump_events()
            moved |= self.engine.step()
            if moved:
                continue
            due = self.engine.next_due()
            if due is None or due.timestamp() > deadline:
                return
            wait = (due - self.clock.now()).total_seconds()
            if wait > 0:
                self.clock.advance(wait)
            self.sagemaker.tick()


@contextmanager
def sandbox_from(cdk_out: Path, *, log: Log | None = None) -> Iterator[Sandbox]:
    with Sandbox.from_cdk_out(cdk_out, log=log) as sandbox:
        yield sandbox


def _caller_arn() -> str:
    """The identity ARN of the request being served, as the registry records people."""
    key = caller_access_key() or _SANDBOX_ENVIRONMENT["AWS_ACCESS_KEY_ID"]
    arn: str = identity_for(key, ACCOUNT_ID)["IamIdentity"]["Arn"]
    return arn


def _queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


def _zip(path: Path) -> bytes:
    """The bundle as the CDK publishes a directory asset: a zip of its files."""
    if path.is_file():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue()
