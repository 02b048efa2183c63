"""The sandbox: the synthesized app, provisioned on moto, with the emulation behind it.

``Sandbox`` reads the cloud assembly, creates what the template declares (``provision``,
one resource kind at a time), and routes the calls moto lacks to the emulators
(``routing``), so that the real handlers — and any boto3 client in this process, or a
client of the sandbox server — see one consistent AWS, in one account (``accounts``).

Events travel as in AWS: SageMaker's state-change events and CodePipeline's execution
events go to the default event bus (``bus``); the template's rules, with their
synthesized patterns, decide which reach which function. Time is virtual: waiting
advances the clock straight to the next thing due.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto import mock_aws

from pipeline_scripts.emulation.accounts import EmulatedAccounts
from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.faults import FaultInjector
from pipeline_scripts.emulation.iam import IamCheck
from pipeline_scripts.emulation.jobs import EmulatedJobs
from pipeline_scripts.emulation.registry import RegistryEmulation
from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker
from pipeline_scripts.emulation.service import ServiceRoutes, caller_access_key
from pipeline_scripts.emulation.validation import validate_request
from pipeline_scripts.sandbox import accounts, provision
from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, OPERATOR_KEY, REGION, ProcessEnvironment
from pipeline_scripts.sandbox.app_spec import AppSpec
from pipeline_scripts.sandbox.bus import put_pipeline_event, rule_matches
from pipeline_scripts.sandbox.changes import Change
from pipeline_scripts.sandbox.custom_resources import CustomResources
from pipeline_scripts.sandbox.delivery import RuleDelivery
from pipeline_scripts.sandbox.engine import PipelineEngine
from pipeline_scripts.sandbox.inventory import provision_inventory
from pipeline_scripts.sandbox.moto_clock import MotoClock
from pipeline_scripts.sandbox.narration import Narrator
from pipeline_scripts.sandbox.notifications import Notification, drain_notifications
from pipeline_scripts.sandbox.routing import route_codepipeline, route_sagemaker
from pipeline_scripts.sandbox.runtime import LambdaRuntime
from pipeline_scripts.sandbox.template import load_app
from shared.clock import install_clock

Log = Callable[[str], None]


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
        self.clock = VirtualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.notifications: list[Notification] = []
        self._stack = ExitStack()
        #: The sandbox's own clients, by service, caller and account: a boto3 client is
        #: costly to make and holds no state of the emulated services, so each is made once.
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        self._environment = ProcessEnvironment()
        self.delivery = RuleDelivery(rule.name for rule in app.rules)
        self._notification_queue = ""
        #: CodePipeline's events on the bus, by id, as the functions receive them.
        self._events: dict[str, dict[str, Any]] = {}
        self.registry = RegistryEmulation(self.clock)
        self.codepipeline = EmulatedCodePipeline(clock=self.clock)
        self.runtime = LambdaRuntime(app.functions, sqs=lambda: self.client("sqs"))
        # Through ``self.log`` at each line: a story replaces the log after construction.
        self._narrator = Narrator(self.runtime, say=lambda line: self.log(line))  # noqa: PLW0108
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
        #: Each function's calls are evaluated against its synthesized role; the target
        #: stacks' roles may be assumed as their trust policies say.
        self.iam = IamCheck.for_functions(
            app.roles,
            account=ACCOUNT_ID,
            declared=[role for target in app.targets for role in target.roles],
        )
        self.iam.declare_resource_policy(app.resource_policies)
        self.registry.principal = self.iam.principal_arn
        self.checkpoint.add(self.iam)
        #: Faults a drill or a test injects into the functions' calls (none by default).
        self.faults = FaultInjector(
            {spec.name: spec.handler.split(".", 1)[0] for spec in app.functions.values()}
        )
        self.checkpoint.add(self.faults)
        self.checkpoint.add_after(self.faults.after)
        #: The emulated SageMaker and alarms of each account; ``sagemaker`` is the
        #: tooling account's.
        self.accounts: EmulatedAccounts
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
        self._environment.enter()
        # Every time the sandbox shows is virtual, moto's own stamps included.
        self.moto_clock.install()
        self.delivery.install()
        self.registry.install()
        self.accounts = EmulatedAccounts(self.clock, home=(ACCOUNT_ID, REGION))
        self.sagemaker = self.accounts.at_home
        # The handlers' waits pass in virtual time, and let every account's endpoints and
        # alarms move on as they pass.
        install_clock(self.accounts.clock)
        self.engine = PipelineEngine(
            codepipeline=self.codepipeline,
            jobs=self.jobs,
            functions=self.runtime,
            clock=self.clock,
            bundles={},
            on_transition=self._publish_pipeline_event,
            identity=self.caller_arn,
        )
        route_codepipeline(
            self.routes,
            self.codepipeline,
            self.engine,
            self.jobs,
            pipelines=lambda: [spec.name for spec in self.app.pipelines],
            identity=self.caller_arn,
        )
        route_sagemaker(self.routes, self.accounts)
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
        self._environment.restore()

    def caller_arn(self) -> str:
        """Who makes the request being served, as AWS names them: a function's (or an
        assumed role's) session, or a person, the IAM user of the key's name."""
        return self.iam.principal_arn(caller_access_key() or OPERATOR_KEY, ACCOUNT_ID)

    def client(
        self, service: str, *, access_key: str = OPERATOR_KEY, account: str | None = None
    ) -> Any:
        """A plain boto3 client of the sandbox's AWS, acting as ``access_key`` (or as
        the operator of ``account``, a target account)."""
        target = account if account not in (None, ACCOUNT_ID) else None
        key = (service, access_key, target)
        if key not in self._clients:
            self._clients[key] = (
                accounts.client_in(target, REGION, service)
                if target
                else accounts.client(service, access_key=access_key)
            )
        return self._clients[key]

    def _provision(self) -> None:
        """Create what the template declares (docs/aws-behaviour.md, "CloudFormation and
        the provisioned inventory"), then the pipelines with their source bundles."""
        app, client = self.app, self.client
        provision_inventory(app.inventory, client)
        provision.provision_tables(app, client("dynamodb"))
        self._notification_queue = provision.provision_topics(app, client("sns"), client("sqs"))
        provision.provision_alarms(app.alarms, client("cloudwatch"))
        for target in app.targets:
            in_target = functools.partial(accounts.client_in, target.account, target.region)
            provision.provision_alarms(target.alarms, in_target("cloudwatch"))
            provision.provision_roles(target.roles, in_target("iam"))
        provision.provision_groups(app, self.existing_groups, client)
        provision.provision_rules(app, client("events"))
        self.custom_resources.stack_id = provision.publish_stack_outputs(
            app, client("cloudformation")
        )
        provision.provision_pipelines(app, client("s3"), self.engine)
        self.custom_resources.create()

    def destroy(self) -> None:
        """What ``cdk destroy`` runs of Greenlight's own code: each custom resource's
        Delete (the endpoint cleanup), under its function's timeout and role."""
        self.custom_resources.delete()

    # --- events -----------------------------------------------------------------------

    def _publish_pipeline_event(self, kind: str, change: Change) -> None:
        """Put CodePipeline's state-change event on the default bus, as AWS does."""
        self._narrator.pipeline(kind, change)
        event = put_pipeline_event(kind, change)
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
                    self._narrator.invocation(function, event or each.event, result)
        self._drain_notifications()
        return bool(matched)

    def redeliver(self, event: dict[str, Any]) -> None:
        """Deliver an event again to the functions whose rules match it (EventBridge's
        delivery is at-least-once)."""
        for rule in self.app.rules:
            if rule_matches(rule.name, event):
                for function in rule.target_functions:
                    result = self.runtime.invoke_async(function, event)
                    self._narrator.invocation(function, event, result)

    def _drain_notifications(self) -> None:
        for notification in drain_notifications(self.client("sqs"), self._notification_queue):
            self.notifications.append(notification)
            self.log(f"sns: {notification.subject or notification.message[:80]}")

    # --- time -------------------------------------------------------------------------

    def settle(
        self, *, max_seconds: float = 7 * 24 * 3600, until: Callable[[], bool] | None = None
    ) -> None:
        """Run events and pipelines until nothing more can happen without a person
        (a manual approval), or until ``until`` holds — letting virtual time pass while
        actions wait."""
        deadline = self.clock.now().timestamp() + max_seconds
        while until is None or not until():
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
            self.accounts.tick()
