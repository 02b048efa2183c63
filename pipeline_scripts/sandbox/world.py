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

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.events.models import events_backends

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.faults import FaultInjector
from pipeline_scripts.emulation.iam import IamCheck
from pipeline_scripts.emulation.jobs import Artifact, EmulatedJobs
from pipeline_scripts.emulation.pipeline_events import (
    action_execution_event,
    pipeline_execution_event,
    stage_execution_event,
)
from pipeline_scripts.emulation.registry import RegistryEmulation, identity_for
from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker
from pipeline_scripts.emulation.service import Operation, ServiceRoutes, caller_access_key
from pipeline_scripts.emulation.validation import validate_request
from pipeline_scripts.sandbox.custom_resources import CustomResources
from pipeline_scripts.sandbox.delivery import RuleDelivery
from pipeline_scripts.sandbox.engine import Change, PipelineEngine
from pipeline_scripts.sandbox.inventory import provision_inventory, zip_path
from pipeline_scripts.sandbox.moto_clock import MotoClock
from pipeline_scripts.sandbox.runtime import LambdaRuntime
from pipeline_scripts.sandbox.template import (
    ACCOUNT_ID,
    REGION,
    AppSpec,
    ResourceAlreadyExists,
    load_app,
)
from shared.clock import install_clock
from shared.contract import VAR_MODEL_PACKAGE_ARN, is_model_version

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

    def __init__(
        self, app: AppSpec, *, log: Log | None = None, existing_groups: Iterable[str] = ()
    ) -> None:
        self.app = app
        #: Model package groups in the account before the stack is deployed: the ones
        #: the stack adopts, and any a test puts there.
        self.existing_groups = tuple(dict.fromkeys((*app.adopted_groups, *existing_groups)))
        self.log: Log = log or (lambda _line: None)
        #: (function, event id) -> how its last invocation was narrated.
        self._narrated: dict[tuple[str, str], str] = {}
        self.clock = VirtualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.notifications: list[Notification] = []
        self._stack = ExitStack()
        self._saved_environment: dict[str, str | None] = {}
        self.delivery = RuleDelivery(rule.name for rule in app.rules)
        self._notification_queue = ""
        self._events: dict[str, dict[str, Any]] = {}
        self.registry = RegistryEmulation(self.clock)
        self.codepipeline = EmulatedCodePipeline(clock=self.clock)
        self.runtime = LambdaRuntime(app.functions, sqs=lambda: self.client("sqs"))
        # A job answer from a function past its timeout never reaches CodePipeline.
        self.jobs = EmulatedJobs(before_answer=self.runtime.check_deadline)
        self.routes = ServiceRoutes()
        self.custom_resources = CustomResources(
            specs=app.custom_resources, runtime=self.runtime, stack_id=""
        )
        #: Every request passes its checks before it is served (IAM, the service model).
        self.checkpoint = RequestCheckpoint()
        self.moto_clock = MotoClock(self.clock)
        self.checkpoint.add(validate_request)
        #: Each function's calls are evaluated against its synthesized role.
        self.iam = IamCheck.for_functions(app.roles, account=ACCOUNT_ID)
        self.checkpoint.add(self.iam)
        #: Faults a drill or a test injects into the functions' calls (none by default).
        self.faults = FaultInjector(
            {spec.name: spec.handler.split(".", 1)[0] for spec in app.functions.values()}
        )
        self.checkpoint.add(self.faults)
        self.checkpoint.add_after(self.faults.after)
        self.sagemaker: EmulatedSageMaker
        self.engine: PipelineEngine

    @classmethod
    def from_cdk_out(cls, cdk_out: Path, *, log: Log | None = None) -> Sandbox:
        return cls(load_app(cdk_out), log=log)

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self._stack.enter_context(mock_aws())
        try:
            self.start()
        except BaseException:
            # A failed provisioning leaves no patch and no mock behind.
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._stack.close()

    def start(self) -> None:
        """Install the emulation and provision the template (moto must be active)."""
        # The sandbox's own clients, and the functions', talk to the in-process AWS: an
        # exported AWS_ENDPOINT_URL (a served sandbox's, or another emulator's) is set
        # aside while it runs, and given back when it stops.
        redirects = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
        self._saved_environment = {
            name: os.environ.get(name) for name in [*_SANDBOX_ENVIRONMENT, *redirects]
        }
        for name in redirects:
            del os.environ[name]
        for name, value in _SANDBOX_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
        # Every time the sandbox shows is virtual, moto's own stamps included.
        self.moto_clock.install()
        self.delivery.install()
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
        self.checkpoint.install()
        self.faults.install()
        self._provision()

    def stop(self) -> None:
        self.faults.uninstall()
        self.checkpoint.uninstall()
        self.routes.uninstall()
        self.registry.uninstall()
        self.delivery.uninstall()
        self.moto_clock.uninstall()
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
            "StartPipelineExecution": self._start_pipeline_execution,
            "StopPipelineExecution": cp.stop_pipeline_execution,
            "RollbackStage": self._rollback_stage,
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
            before=self.sagemaker.refuse_existing,
            after=lambda p: self.sagemaker.endpoint_created(
                p["EndpointName"], p["EndpointConfigName"]
            ),
        )
        alarms = self.sagemaker.alarms
        routes.wrap("cloudwatch", "PutMetricAlarm", after=alarms.created)
        routes.wrap("cloudwatch", "SetAlarmState", after=alarms.set_by_hand)
        routes.wrap("cloudwatch", "DescribeAlarms", before=lambda _p: self.sagemaker.tick())
        for operation in ("DescribeEndpoint", "ListEndpoints", "DescribeEndpointConfig"):
            routes.wrap("sagemaker", operation, before=lambda _p: self.sagemaker.tick())
        routes.wrap(
            "sagemaker-runtime",
            "InvokeEndpoint",
            before=lambda p: self.sagemaker.prepare_invocation(p["EndpointName"]),
        )

    def _start_pipeline_execution(self, **params: Any) -> dict[str, Any]:
        return self.codepipeline.start_pipeline_execution(**params, caller=_caller_arn())

    def _rollback_stage(self, **params: Any) -> dict[str, Any]:
        return self.codepipeline.rollback_stage(**params, caller=_caller_arn())

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
        """Create what the template declares (docs/aws-behaviour.md, "CloudFormation and
        the provisioned inventory"), then the pipelines with their source bundles."""
        app = self.app
        provision_inventory(app.inventory, self.client)
        self._provision_tables()
        self._provision_topics()
        cloudwatch = self.client("cloudwatch")
        for alarm in app.alarms:
            cloudwatch.put_metric_alarm(
                **{k: v for k, v in alarm.properties.items() if k in _ALARM_KEYS}
            )
        self._provision_groups()
        self._provision_rules()
        self._publish_stack_outputs()
        self._provision_pipelines()
        self.custom_resources.create()

    def destroy(self) -> None:
        """What ``cdk destroy`` runs of Greenlight's own code: each custom resource's
        Delete (the endpoint cleanup), under its function's timeout and role."""
        self.custom_resources.delete()

    def _provision_groups(self) -> None:
        """The account's existing groups, then the template's: CloudFormation fails to
        create a group whose name exists (adopt it with ``adoptExistingGroup``)."""
        sagemaker = self.client("sagemaker", access_key=DATA_SCIENTIST_KEY)
        for group in self.existing_groups:
            sagemaker.create_model_package_group(
                ModelPackageGroupName=group,
                ModelPackageGroupDescription="created in SageMaker before the stack",
            )
        for group in self.app.model_package_groups:
            if group in self.app.adopted_groups:
                continue
            if group in self.existing_groups:
                raise ResourceAlreadyExists(
                    "AWS::SageMaker::ModelPackageGroup",
                    group,
                    'set "adoptExistingGroup": true on the group in cdk.json to use it',
                )
            self.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)

    def _provision_tables(self) -> None:
        """Each table with the encryption, deletion protection and point-in-time
        recovery the template declares."""
        dynamodb = self.client("dynamodb")
        for name, table in self.app.tables.items():
            sse = table.get("SSESpecification", {})
            dynamodb.create_table(
                TableName=name,
                KeySchema=table["KeySchema"],
                AttributeDefinitions=table["AttributeDefinitions"],
                BillingMode=table.get("BillingMode", "PAY_PER_REQUEST"),
                DeletionProtectionEnabled=bool(table.get("DeletionProtectionEnabled", False)),
                **(
                    {
                        "SSESpecification": {
                            "Enabled": bool(sse.get("SSEEnabled", False)),
                            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                            **(
                                {"KMSMasterKeyId": sse["KMSMasterKeyId"]}
                                if "KMSMasterKeyId" in sse
                                else {}
                            ),
                        }
                    }
                    if sse
                    else {}
                ),
            )
            recovery = table.get("PointInTimeRecoverySpecification", {})
            if recovery.get("PointInTimeRecoveryEnabled"):
                dynamodb.update_continuous_backups(
                    TableName=name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )

    def _provision_topics(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        self._notification_queue = sqs.create_queue(QueueName="sandbox-notifications")["QueueUrl"]
        notification_arn = _queue_arn(sqs, self._notification_queue)
        topics = {r.name: r.properties for r in self.app.inventory.of("AWS::SNS::Topic")}
        for topic_arn in self.app.topics.values():
            properties = topics.get(topic_arn, {})
            sns.create_topic(
                Name=topic_arn.rsplit(":", 1)[-1],
                Attributes={
                    key: str(properties[key])
                    for key in ("DisplayName", "KmsMasterKeyId")
                    if key in properties
                },
            )
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=notification_arn,
                Attributes={"RawMessageDelivery": "false"},
            )

    def _provision_rules(self) -> None:
        """The rules with their real targets; ``self.delivery`` runs the functions."""
        events = self.client("events")
        declared = {r.logical_id: r.properties for r in self.app.inventory.of("AWS::Events::Rule")}
        for rule in self.app.rules:
            properties = declared.get(rule.logical_id, {})
            events.put_rule(
                Name=rule.name,
                EventPattern=json.dumps(rule.event_pattern),
                State=properties.get("State", "ENABLED"),
                **(
                    {"Description": properties["Description"]}
                    if "Description" in properties
                    else {}
                ),
            )
            targets = properties.get("Targets", [])
            if targets:
                events.put_targets(Rule=rule.name, Targets=targets)

    def _provision_pipelines(self) -> None:
        s3 = self.client("s3")
        for pipeline in self.app.pipelines:
            if pipeline.bundle is not None:
                bundle = pipeline.bundle
                if bundle.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                    s3.create_bucket(Bucket=bundle.bucket)
                    s3.put_bucket_versioning(
                        Bucket=bundle.bucket, VersioningConfiguration={"Status": "Enabled"}
                    )
                put = s3.put_object(
                    Bucket=bundle.bucket, Key=bundle.key, Body=zip_path(bundle.local_path)
                )
                self.engine.bundles[pipeline.name] = Artifact(
                    name="Bundle",
                    bucket=bundle.bucket,
                    key=bundle.key,
                    revision=put.get("VersionId"),
                )
            self.engine.add_pipeline(pipeline.declaration)

    def _publish_stack_outputs(self) -> None:
        """The stack, with every output the template declares, resolved (the CLI looks
        them up with DescribeStacks)."""
        template = {
            "Resources": {},
            "Outputs": {
                key: {"Value": value, **({"Description": description} if description else {})}
                for key, (value, description) in self.app.inventory.outputs.items()
            },
        }
        created = self.client("cloudformation").create_stack(
            StackName=self.app.stack_name, TemplateBody=json.dumps(template)
        )
        self.custom_resources.stack_id = str(created["StackId"])

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
        matched = self.delivery.take()
        for rule in self.app.rules:
            waiting = [m for m in matched if m.rule == rule.name]
            for each in reversed(waiting) if newest_first else waiting:
                event_id = each.event.get("id", "")
                event = self.registry.emitted.get(event_id) or self._events.get(event_id)
                for function in each.functions:
                    result = self.runtime.invoke_async(function, event or each.event)
                    self._narrate_invocation(function, event or each.event, result)
        self._drain_notifications()
        return bool(matched)

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
            attempts = 1 + len(self.runtime.retry_waits(function))
            self.log(
                f"{dead.function} failed {attempts} time{'s' if attempts > 1 else ''}; "
                f"event {event['id']} -> DLQ: {dead.error}"
            )
            return
        if isinstance(result, dict) and "outcome" in result:
            detail = event.get("detail", {})
            version = detail.get("ModelPackageVersion", "?")
            status = detail.get("ModelApprovalStatus", "?")
            what = _outcome_text(result)
            key = (self.runtime.spec(function).name, str(event.get("id")))
            earlier = self._narrated.get(key)
            self._narrated[key] = what
            if earlier is not None and result["outcome"] != "failed" and earlier == what:
                # The trigger found the event's outcome already recorded and did nothing.
                execution = str(result.get("pipelineExecutionId") or "")[:8]
                self.log(
                    f"trigger: {status} event for v{version} redelivered -> nothing done, "
                    f"its outcome is already recorded ({result['outcome']}"
                    + (f", execution {execution})" if execution else ")")
                )
                return
            self.log(f"trigger: {status} event for v{version} -> {what}")

    def _narrate_pipeline(self, kind: str, change: Change) -> None:
        execution = change.execution
        versioned = is_model_version(execution.variables.get(VAR_MODEL_PACKAGE_ARN, ""))
        version = f"v{execution.variables.get('ModelPackageVersion', '?')}"
        label = f"{execution.pipeline_execution_id[:8]} ({version if versioned else 'no version'})"
        if execution.execution_type == "ROLLBACK":
            label += " [rollback]"
        state = change.state
        if kind == "execution" and state == "STARTED":
            if execution.execution_type == "ROLLBACK":
                how = f"{execution.trigger_type} of {execution.rollback_stage}"
            elif versioned:
                how = execution.variables.get("TriggerReason", "")
            else:  # the pipeline's own run on creation, or a release with no version
                how = execution.trigger_type
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


def _outcome_text(result: Mapping[str, Any]) -> str:
    """The trigger's answer in words: the execution it started, or what it decided and
    why (a skip names no execution, even when its reason mentions one)."""
    outcome = str(result["outcome"])
    execution = str(result.get("pipelineExecutionId") or "")[:8]
    if outcome == "started" and execution:
        return f"started execution {execution}"
    if outcome == "rollback-started" and execution:
        return f"rollback-started execution {execution}"
    return f"{outcome} ({result['reason']})" if result.get("reason") else outcome


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
