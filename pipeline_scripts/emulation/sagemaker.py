"""SageMaker endpoint updates with deployment guardrails, and scenario-driven metrics.

moto keeps endpoints in ``moto.sagemaker.models.sagemaker_backends[account][region]``
but has no UpdateEndpoint, evaluates no alarm and runs no model. This module adds those
on top of moto's in-process backends, so that plain boto3 clients (and a moto server
running in the same process) see the result.

What real AWS does (SageMaker developer guide, "Deployment guardrails"):

- ``UpdateEndpoint`` with ``DeploymentConfig.BlueGreenUpdatePolicy`` puts the endpoint in
  ``Updating``, provisions a new (green) fleet from the new EndpointConfig, then shifts
  traffic from the old (blue) fleet: ALL_AT_ONCE (100 % at once), CANARY (``CanarySize``
  first, the rest after the wait) or LINEAR (``LinearStepSize`` per step). Each shift is
  followed by a baking period of ``WaitIntervalInSeconds``; after the last one the old
  fleet is kept ``TerminationWaitInSeconds`` before it is terminated.
- If any alarm of ``AutoRollbackConfiguration`` trips during a baking period, all
  traffic goes back to the blue fleet. The endpoint returns to ``InService`` on the
  *old* EndpointConfigName; the update is not reported as a failure (FailureReason is
  often empty). Callers must compare the live config with the one they requested.
- Otherwise the endpoint becomes ``InService`` on the new EndpointConfig.
- An endpoint whose instances cannot start ends ``Failed`` with a FailureReason when it
  is being created; an update whose new fleet cannot start leaves the endpoint
  ``InService`` on the old config, with the FailureReason set.

How this emulation follows it:

- Time is the injected clock's. Provisioning takes ``provisioning_seconds``; traffic
  shifts and waits follow the DeploymentConfig. Progress is computed whenever
  ``tick()`` runs: every call through the proxies below ticks first, and so does
  ``clock.sleep`` on ``EmulatedSageMaker.clock``.
- Metrics are the scenario's: ``declare_behaviour(package_arn, healthy=False)`` makes a
  version raise its stage alarms (those with dimension EndpointName = the endpoint and
  a metric the version breaks, 5XX errors by default) ``alarm_delay_seconds`` after it
  starts taking traffic (one evaluation period), and the alarms return to OK
  ``alarm_recovery_seconds`` after it stops. Alarms are set with moto's
  ``set_alarm_state``; an alarm set to ALARM by someone else (a test, the sandbox)
  counts as tripped from the moment a tick sees it.
- Rollback: an auto-rollback alarm in ALARM at any time between the first traffic
  shift and the end of the update sends the endpoint back to its old config, InService,
  with no FailureReason. The alarms watch the endpoint's variant, so the old fleet and
  the new one alike: an alarm already in ALARM when the update starts, or raised by the
  old version during it, trips the update too (at the first traffic shift at the
  earliest, when the guardrail starts watching).
- Endpoint times: CreationTime and LastModifiedTime are the injected clock's; every
  change of status (created, InService or Failed, update begun, update ended or rolled
  back) moves LastModifiedTime.
- Endpoint states: ``UpdateEndpoint`` is refused unless the endpoint is InService;
  a ``Failed`` endpoint accepts only DeleteEndpoint; CreateEndpoint is refused for a
  name that exists. The messages have AWS's shape.
- CloudWatch alarm states (start in INSUFFICIENT_DATA, re-evaluation after a
  SetAlarmState) are ``EmulatedAlarms``' (``emulation/cloudwatch.py``); what the
  metrics say is ``scenario_metrics``' ``alarm_state``.

Every behaviour here has its line, and its AWS page, in ``docs/aws-behaviour.md``.
- InvokeEndpoint answers as the version behind the live config does: an unhealthy
  version raises ``ModelError`` (model status 500); a healthy one answers its declared
  body and content type after its declared latency, on the injected clock.
- The emulation covers BlueGreenUpdatePolicy only; RollingUpdatePolicy is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from moto.cloudwatch.models import cloudwatch_backends
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.models import sagemakerruntime_backends

from pipeline_scripts.emulation.cloudwatch import EmulatedAlarms
from pipeline_scripts.emulation.endpoint_model import (
    METRIC_5XX,
    Behaviour,
    EndpointEvent,
    EndpointState,
    Rollout,
    Serving,
    TickingClock,
    endpoint_variant,
    model_error,
    package_of,
    plan_rollout,
    refuse_update,
    validation_error,
    virtual_time,
)
from pipeline_scripts.emulation.sagemaker_proxies import RuntimeProxy, SageMakerProxy
from pipeline_scripts.emulation.scenario_metrics import ScenarioMetrics
from shared import contract
from shared.clock import Clock

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class EmulatedSageMaker:
    """Guardrail UpdateEndpoint, scenario metrics and InvokeEndpoint over moto's backends.

    Use inside ``mock_aws`` (or with a moto server in this process).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        provisioning_seconds: float = 120,
        alarm_delay_seconds: float = 60,
        alarm_recovery_seconds: float = 300,
        sagemaker: Any = None,
        runtime: Any = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = TickingClock(clock, self.tick)
        self.provisioning = timedelta(seconds=provisioning_seconds)
        self.behaviours: dict[str, Behaviour] = {}
        #: Every UpdateEndpoint request that was accepted, as boto3 kwargs.
        self.update_requests: list[dict[str, Any]] = []
        self.events: list[EndpointEvent] = []
        self._endpoints: dict[str, EndpointState] = {}
        self._pending_creates: dict[str, tuple[datetime, str | None]] = {}
        self.metrics = ScenarioMetrics(
            account_id=account_id,
            region=region,
            alarm_delay=timedelta(seconds=alarm_delay_seconds),
            alarm_recovery=timedelta(seconds=alarm_recovery_seconds),
            behaviour=self.behaviour,
            endpoint_status=self._endpoint_status,
            record=lambda endpoint, what, detail, at: self._record(endpoint, what, detail, at=at),
        )
        self.alarms = EmulatedAlarms(
            self.clock, self.metrics.alarm_state, account_id=account_id, region=region
        )
        self._sagemaker = sagemaker or boto3.client("sagemaker", region_name=region)
        self._runtime = runtime or boto3.client("sagemaker-runtime", region_name=region)

    # --- scenario ------------------------------------------------------------------

    def declare_behaviour(
        self,
        package_arn: str,
        *,
        healthy: bool = True,
        failing_metrics: tuple[str, ...] = (METRIC_5XX,),
        latency_ms: float = 20.0,
        body: str = "0.5",
        content_type: str = "text/csv",
        startup_failure: str | None = None,
        invocations_fail: bool = True,
        only_on: tuple[str, ...] = (),
    ) -> None:
        self.behaviours[package_arn] = Behaviour(
            healthy=healthy,
            failing_metrics=failing_metrics,
            latency_ms=latency_ms,
            body=body,
            content_type=content_type,
            startup_failure=startup_failure,
            invocations_fail=invocations_fail,
            only_on=only_on,
        )

    def behaviour(self, package_arn: str | None) -> Behaviour:
        return self.behaviours.get(package_arn or "", Behaviour())

    # --- clients -------------------------------------------------------------------

    def sagemaker_client(self) -> SageMakerClient:
        """A sagemaker client: moto's, plus UpdateEndpoint and guardrail progress."""
        proxy: Any = SageMakerProxy(self, self._sagemaker)
        return proxy  # type: ignore[no-any-return]

    def runtime_client(self) -> SageMakerRuntimeClient:
        """A sagemaker-runtime client answering as the live version behaves."""
        proxy: Any = RuntimeProxy(self, self._runtime)
        return proxy  # type: ignore[no-any-return]

    # --- SageMaker API -------------------------------------------------------------

    def create_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        """CreateEndpoint: Creating for the provisioning time, then InService (or Failed
        when the version's instances cannot start)."""
        self.refuse_existing(kwargs)
        response = dict(self._sagemaker.create_endpoint(**kwargs))
        self.endpoint_created(kwargs["EndpointName"], kwargs["EndpointConfigName"])
        return response

    def refuse_existing(self, params: Mapping[str, Any]) -> None:
        """Before CreateEndpoint: a name in use is refused (moto would overwrite it)."""
        self.tick()
        name = str(params.get("EndpointName", ""))
        if name in self._backend().endpoints:
            raise validation_error(
                "CreateEndpoint", f'Cannot create already existing endpoint "{self._arn(name)}".'
            )

    def endpoint_created(self, name: str, config: str) -> None:
        """What follows moto's CreateEndpoint (which is InService at once)."""
        endpoint = self._backend().endpoints[name]
        endpoint.endpoint_status = contract.ENDPOINT_CREATING
        endpoint.creation_time = endpoint.last_modified_time = self.clock.now()
        package = self._package_of(config)
        self._pending_creates[name] = (self.clock.now() + self.provisioning, package)
        self._endpoints[name] = EndpointState()
        self._record(name, "create", config)

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        """UpdateEndpoint with BlueGreenUpdatePolicy and AutoRollbackConfiguration."""
        self.tick()
        name = kwargs.get("EndpointName", "")
        config = kwargs.get("EndpointConfigName", "")
        backend = self._backend()
        endpoint = backend.endpoints.get(name)
        refuse_update(endpoint, self._arn(name), config, config in backend.endpoint_configs)
        deployment = kwargs.get("DeploymentConfig") or {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": contract.ROLLOUT_ALL_AT_ONCE,
                    "WaitIntervalInSeconds": 0,
                }
            }
        }
        now = self.clock.now()
        state = self._endpoints.setdefault(name, EndpointState())
        state.rollout = plan_rollout(
            deployment,
            endpoint=name,
            old=(endpoint.endpoint_config_name, self._package_of(endpoint.endpoint_config_name)),
            new=(config, self._package_of(config)),
            traffic_at=now + self.provisioning,
        )
        state.alarm_names = state.rollout.alarm_names or state.alarm_names
        endpoint.endpoint_status = contract.ENDPOINT_UPDATING
        endpoint.failure_reason = None
        endpoint.last_modified_time = now
        self.update_requests.append(dict(kwargs))
        self._record(name, "update", f"{endpoint.endpoint_config_name} -> {config}")
        return {"EndpointArn": endpoint.arn}

    # --- progress ------------------------------------------------------------------

    def tick(self) -> None:
        """Bring every emulated endpoint and alarm up to the clock's time."""
        now = self.clock.now()
        backend = self._backend()
        for name, (ready_at, package) in list(self._pending_creates.items()):
            if now < ready_at:
                continue
            del self._pending_creates[name]
            endpoint = backend.endpoints.get(name)
            if endpoint is None:
                continue
            failure = self.behaviour(package).startup_failure
            endpoint.last_modified_time = ready_at
            if failure:
                endpoint.endpoint_status = contract.ENDPOINT_FAILED
                endpoint.failure_reason = failure
                self._record(name, "failed", failure, at=ready_at)
                continue
            endpoint.endpoint_status = contract.ENDPOINT_IN_SERVICE
            if package:
                self._endpoints[name].serving[package] = Serving(since=ready_at)
            self._record(name, "in-service", endpoint.endpoint_config_name, at=ready_at)
        for state in self._endpoints.values():
            rollout = state.rollout
            if rollout and rollout.new_package and now >= rollout.traffic_at:
                state.serving.setdefault(rollout.new_package, Serving(since=rollout.traffic_at))
        self.metrics.update(now, self._endpoints)
        self.alarms.evaluate()
        for state in self._endpoints.values():
            if state.rollout is not None:
                self._progress(state, state.rollout, now)
        self.metrics.update(now, self._endpoints)

    def _progress(self, state: EndpointState, rollout: Rollout, now: datetime) -> None:
        endpoint = self._backend().endpoints.get(rollout.endpoint)
        if endpoint is None:
            state.rollout = None
            return
        failure = self.behaviour(rollout.new_package).startup_failure
        if failure and now >= rollout.traffic_at:
            self._end_rollout(state, rollout, back=True, at=rollout.traffic_at, reason=failure)
            return
        tripped = self._tripped_at(rollout, now)
        if tripped is not None and tripped < rollout.completes_at:
            self._end_rollout(state, rollout, back=True, at=tripped, reason=None)
        elif now >= rollout.completes_at:
            self._end_rollout(state, rollout, back=False, at=rollout.completes_at, reason=None)

    def _tripped_at(self, rollout: Rollout, now: datetime) -> datetime | None:
        """When an auto-rollback alarm tripped the update: any of them in ALARM, whichever
        fleet raised it, from the first traffic shift on."""
        if now < rollout.traffic_at or not rollout.alarm_names:
            return None
        times: list[datetime] = []
        alarms = self._cloudwatch().alarms
        for name in rollout.alarm_names:
            alarm = alarms.get(name)
            if alarm is None or alarm.state_value != contract.ALARM_STATE_ALARM:
                continue
            raised = self.metrics.raised.get((rollout.endpoint, name))
            since = raised[1] if raised else virtual_time(alarm.state_updated_timestamp, now)
            times.append(max(since or rollout.traffic_at, rollout.traffic_at))
        return min(times) if times else None

    def _end_rollout(
        self,
        state: EndpointState,
        rollout: Rollout,
        *,
        back: bool,
        at: datetime,
        reason: str | None,
    ) -> None:
        endpoint = self._backend().endpoints[rollout.endpoint]
        state.rollout = None
        endpoint.endpoint_status = contract.ENDPOINT_IN_SERVICE
        endpoint.last_modified_time = at
        if back:
            endpoint.failure_reason = reason
            if rollout.new_package and rollout.new_package != rollout.old_package:
                serving = state.serving.get(rollout.new_package)
                if serving is not None:
                    serving.until = at
            self._record(rollout.endpoint, "rolled-back", rollout.old_config, at=at)
            return
        config = self._backend().endpoint_configs[rollout.new_config]
        endpoint.endpoint_config_name = rollout.new_config
        endpoint.production_variants = endpoint._process_production_variants(
            config.production_variants
        )
        if rollout.old_package and rollout.old_package != rollout.new_package:
            old = state.serving.get(rollout.old_package)
            if old is not None:
                old.until = rollout.final_shift_at
        self._record(rollout.endpoint, "updated", rollout.new_config, at=at)

    # --- InvokeEndpoint ------------------------------------------------------------

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.prepare_invocation(kwargs.get("EndpointName", ""))
        return dict(self._runtime.invoke_endpoint(**kwargs))

    def prepare_invocation(self, name: str) -> None:
        """Before moto answers InvokeEndpoint: check the endpoint serves, let the live
        version's latency pass, and either raise its ModelError or queue its answer."""
        self.tick()
        endpoint = self._backend().endpoints.get(name)
        if endpoint is None or endpoint.endpoint_status not in (
            contract.ENDPOINT_IN_SERVICE,
            contract.ENDPOINT_UPDATING,
        ):
            status = "missing" if endpoint is None else endpoint.endpoint_status
            raise validation_error(
                "InvokeEndpoint", f"Endpoint {name} of account {self.account_id} is {status}."
            )
        package = self._package_of(endpoint.endpoint_config_name)
        behaviour = self.behaviour(package)
        self.clock.sleep(behaviour.latency_ms / 1000)
        if not behaviour.healthy_on(name) and behaviour.invocations_fail:
            raise model_error(self._runtime, package)
        runtime = sagemakerruntime_backends[self.account_id][self.region]
        runtime.results.pop(name, None)
        runtime.results_queue.insert(
            0, (behaviour.body, behaviour.content_type, endpoint_variant(endpoint), "")
        )

    # --- helpers -------------------------------------------------------------------

    def _backend(self) -> Any:
        return sagemaker_backends[self.account_id][self.region]

    def _endpoint_status(self, name: str) -> str | None:
        live = self._backend().endpoints.get(name)
        return None if live is None else str(live.endpoint_status)

    def _cloudwatch(self) -> Any:
        return cloudwatch_backends[self.account_id][self.region]

    def _arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{name}"

    def _package_of(self, config_name: str) -> str | None:
        return package_of(self._backend(), config_name)

    def _record(self, endpoint: str, what: str, detail: str, at: datetime | None = None) -> None:
        self.events.append(
            EndpointEvent(at=at or self.clock.now(), endpoint=endpoint, what=what, detail=detail)
        )
