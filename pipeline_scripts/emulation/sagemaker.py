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
  metrics say is this module's ``alarm_state``.

Every behaviour here has its line, and its AWS page, in ``docs/aws-behaviour.md``.
- InvokeEndpoint answers as the version behind the live config does: an unhealthy
  version raises ``ModelError`` (model status 500); a healthy one answers its declared
  body and content type after its declared latency, on the injected clock.
- The emulation covers BlueGreenUpdatePolicy only; RollingUpdatePolicy is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from moto.cloudwatch.models import cloudwatch_backends
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.models import sagemakerruntime_backends

from pipeline_scripts.emulation.cloudwatch import INSUFFICIENT_DATA, EmulatedAlarms
from shared import contract
from shared.clock import Clock

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
METRIC_5XX = "Invocation5XXErrors"
METRIC_LATENCY = "ModelLatency"


@dataclass(frozen=True, kw_only=True)
class Behaviour:
    """How a model package version behaves once it serves traffic."""

    healthy: bool = True
    #: CloudWatch metrics the version breaks when unhealthy.
    failing_metrics: tuple[str, ...] = (METRIC_5XX,)
    latency_ms: float = 20.0
    body: str = "0.5"
    content_type: str = "text/csv"
    #: When set, the version's instances never start: this is the FailureReason.
    startup_failure: str | None = None
    #: Whether an unhealthy version's invocations fail (ModelError). A version whose
    #: error rate is high enough to trip an alarm may still answer a single request.
    invocations_fail: bool = True
    #: Endpoints where the version misbehaves; empty means everywhere (a version that is
    #: only bad under production traffic, say).
    only_on: tuple[str, ...] = ()

    def healthy_on(self, endpoint: str) -> bool:
        return self.healthy or bool(self.only_on and endpoint not in self.only_on)


@dataclass
class _Serving:
    since: datetime
    until: datetime | None = None


@dataclass
class _Rollout:
    endpoint: str
    old_config: str
    new_config: str
    old_package: str | None
    new_package: str | None
    traffic_at: datetime
    final_shift_at: datetime
    completes_at: datetime
    alarm_names: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class EndpointEvent:
    """Something the emulation did to an endpoint, for tests and the sandbox's story."""

    at: datetime
    endpoint: str
    what: str
    detail: str = ""


@dataclass
class _EndpointState:
    serving: dict[str, _Serving] = field(default_factory=dict)
    rollout: _Rollout | None = None
    alarm_names: tuple[str, ...] = ()


class TickingClock:
    """The emulation's clock: sleeping lets the emulated endpoints progress."""

    def __init__(self, clock: Clock, tick: Callable[[], None]) -> None:
        self._clock = clock
        self._tick = tick

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)
        self._tick()


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
        self.alarm_delay = timedelta(seconds=alarm_delay_seconds)
        self.alarm_recovery = timedelta(seconds=alarm_recovery_seconds)
        self.behaviours: dict[str, Behaviour] = {}
        #: Every UpdateEndpoint request that was accepted, as boto3 kwargs.
        self.update_requests: list[dict[str, Any]] = []
        self.events: list[EndpointEvent] = []
        self._endpoints: dict[str, _EndpointState] = {}
        self._raised: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._pending_creates: dict[str, tuple[datetime, str | None]] = {}
        self.alarms = EmulatedAlarms(
            self.clock, self.alarm_state, account_id=account_id, region=region
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
        proxy: Any = _SageMakerProxy(self, self._sagemaker)
        return proxy  # type: ignore[no-any-return]

    def runtime_client(self) -> SageMakerRuntimeClient:
        """A sagemaker-runtime client answering as the live version behaves."""
        proxy: Any = _RuntimeProxy(self, self._runtime)
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
            raise _validation(
                "CreateEndpoint", f'Cannot create already existing endpoint "{self._arn(name)}".'
            )

    def endpoint_created(self, name: str, config: str) -> None:
        """What follows moto's CreateEndpoint (which is InService at once)."""
        endpoint = self._backend().endpoints[name]
        endpoint.endpoint_status = contract.ENDPOINT_CREATING
        endpoint.creation_time = endpoint.last_modified_time = self.clock.now()
        package = self._package_of(config)
        self._pending_creates[name] = (self.clock.now() + self.provisioning, package)
        self._endpoints[name] = _EndpointState()
        self._record(name, "create", config)

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        """UpdateEndpoint with BlueGreenUpdatePolicy and AutoRollbackConfiguration."""
        self.tick()
        name = kwargs.get("EndpointName", "")
        config = kwargs.get("EndpointConfigName", "")
        backend = self._backend()
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise _validation("UpdateEndpoint", f"Could not find endpoint '{self._arn(name)}'.")
        if endpoint.endpoint_status == contract.ENDPOINT_FAILED:
            raise _validation(
                "UpdateEndpoint",
                f'Cannot update failed endpoint "{self._arn(name)}". '
                "DeleteEndpoint is the only operation that can be performed on a failed endpoint.",
            )
        if endpoint.endpoint_status != contract.ENDPOINT_IN_SERVICE:
            raise _validation(
                "UpdateEndpoint", f'Cannot update in-progress endpoint "{self._arn(name)}".'
            )
        if config not in backend.endpoint_configs:
            raise _validation(
                "UpdateEndpoint", f"Could not find endpoint configuration '{config}'."
            )
        deployment = kwargs.get("DeploymentConfig") or {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": contract.ROLLOUT_ALL_AT_ONCE,
                    "WaitIntervalInSeconds": 0,
                }
            }
        }
        steps, termination = _traffic_plan(deployment)
        alarms = tuple(
            a["AlarmName"]
            for a in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])
        )
        now = self.clock.now()
        traffic_at = now + self.provisioning
        final_shift_at = traffic_at + timedelta(seconds=sum(steps[:-1]))
        state = self._endpoints.setdefault(name, _EndpointState())
        state.alarm_names = alarms or state.alarm_names
        state.rollout = _Rollout(
            endpoint=name,
            old_config=endpoint.endpoint_config_name,
            new_config=config,
            old_package=self._package_of(endpoint.endpoint_config_name),
            new_package=self._package_of(config),
            traffic_at=traffic_at,
            final_shift_at=final_shift_at,
            completes_at=traffic_at + timedelta(seconds=sum(steps) + termination),
            alarm_names=alarms,
        )
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
                self._endpoints[name].serving[package] = _Serving(since=ready_at)
            self._record(name, "in-service", endpoint.endpoint_config_name, at=ready_at)
        for state in self._endpoints.values():
            rollout = state.rollout
            if rollout and rollout.new_package and now >= rollout.traffic_at:
                state.serving.setdefault(rollout.new_package, _Serving(since=rollout.traffic_at))
        self._update_alarms(now)
        self.alarms.evaluate()
        for state in self._endpoints.values():
            if state.rollout is not None:
                self._progress(state, state.rollout, now)
        self._update_alarms(now)

    def _progress(self, state: _EndpointState, rollout: _Rollout, now: datetime) -> None:
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

    def _tripped_at(self, rollout: _Rollout, now: datetime) -> datetime | None:
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
            raised = self._raised.get((rollout.endpoint, name))
            since = raised[1] if raised else _virtual_time(alarm.state_updated_timestamp, now)
            times.append(max(since or rollout.traffic_at, rollout.traffic_at))
        return min(times) if times else None

    def _end_rollout(
        self,
        state: _EndpointState,
        rollout: _Rollout,
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

    def _update_alarms(self, now: datetime) -> None:
        cloudwatch = self._cloudwatch()
        for name, state in self._endpoints.items():
            for package, serving in state.serving.items():
                behaviour = self.behaviour(package)
                if behaviour.healthy_on(name):
                    continue
                trips_at = serving.since + self.alarm_delay
                active = trips_at <= now and (serving.until is None or trips_at < serving.until)
                for alarm_name in self._alarms_for(name, behaviour, state):
                    key = (name, alarm_name)
                    if active and key not in self._raised:
                        cloudwatch.set_alarm_state(
                            alarm_name,
                            f"Threshold Crossed: {package} raised {behaviour.failing_metrics[0]} "
                            f"on {name} (emulated)",
                            json.dumps({"emulated": True, "package": package}),
                            contract.ALARM_STATE_ALARM,
                        )
                        cloudwatch.alarms[alarm_name].state_updated_timestamp = trips_at
                        self._raised[key] = (package, trips_at)
                        self._record(name, "alarm", alarm_name, at=trips_at)
                    until = serving.until
                    recovered = until is not None and until + self._recovery(alarm_name) <= now
                    if (
                        until is not None
                        and recovered
                        and self._raised.get(key, ("", now))[0] == package
                    ):
                        del self._raised[key]
                        if alarm_name in cloudwatch.alarms:
                            cloudwatch.set_alarm_state(
                                alarm_name,
                                f"Threshold Crossed: {package} no longer serves {name} (emulated)",
                                json.dumps({"emulated": True, "package": package}),
                                contract.ALARM_STATE_OK,
                            )
                            cloudwatch.alarms[alarm_name].state_updated_timestamp = (
                                until + self._recovery(alarm_name)
                            )
                        self._record(name, "alarm-ok", alarm_name, at=serving.until)

    def alarm_state(self, alarm: Any) -> str:
        """What an alarm's metrics say now: ALARM while a version that breaks its metric
        serves its endpoint; otherwise OK when the endpoint serves (healthy datapoints),
        and, with no datapoints, what its TreatMissingData says."""
        endpoint = next((d.value for d in alarm.dimensions if d.name == "EndpointName"), None)
        if endpoint is not None and (endpoint, alarm.name) in self._raised:
            return contract.ALARM_STATE_ALARM
        live = self._backend().endpoints.get(endpoint) if endpoint else None
        if live is not None and live.endpoint_status in (
            contract.ENDPOINT_IN_SERVICE,
            contract.ENDPOINT_UPDATING,
        ):
            return contract.ALARM_STATE_OK
        missing = alarm.treat_missing_data or "missing"
        if missing == "notBreaching":
            return contract.ALARM_STATE_OK
        if missing == "breaching":
            return contract.ALARM_STATE_ALARM
        if missing == "ignore":
            return str(alarm.state_value)
        return INSUFFICIENT_DATA

    def _recovery(self, alarm_name: str) -> timedelta:
        """How long an alarm stays in ALARM after the bad datapoints stop: its
        evaluation window (Period x EvaluationPeriods), or the default when unknown."""
        alarm = self._cloudwatch().alarms.get(alarm_name)
        if alarm is None or not alarm.period or not alarm.evaluation_periods:
            return self.alarm_recovery
        return timedelta(seconds=int(alarm.period) * int(alarm.evaluation_periods))

    def _alarms_for(self, endpoint: str, behaviour: Behaviour, state: _EndpointState) -> list[str]:
        on_endpoint = [
            alarm
            for alarm in self._cloudwatch().alarms.values()
            if any(d.name == "EndpointName" and d.value == endpoint for d in alarm.dimensions)
        ]
        matching = [a.name for a in on_endpoint if a.metric_name in behaviour.failing_metrics]
        if matching:
            return sorted(matching)
        if on_endpoint:
            return sorted(a.name for a in on_endpoint)
        known = self._cloudwatch().alarms
        return [name for name in state.alarm_names if name in known]

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
            raise _validation(
                "InvokeEndpoint", f"Endpoint {name} of account {self.account_id} is {status}."
            )
        package = self._package_of(endpoint.endpoint_config_name)
        behaviour = self.behaviour(package)
        self.clock.sleep(behaviour.latency_ms / 1000)
        if not behaviour.healthy_on(name) and behaviour.invocations_fail:
            raise self._runtime.exceptions.ModelError(
                _response(
                    {
                        "Error": {
                            "Code": "ModelError",
                            "Message": "Received server error (500) from primary with message "
                            f'"{package} failed" (emulated).',
                        },
                        "OriginalStatusCode": 500,
                        "OriginalMessage": f"{package} failed",
                        "ResponseMetadata": {"HTTPStatusCode": 424},
                    }
                ),
                "InvokeEndpoint",
            )
        runtime = sagemakerruntime_backends[self.account_id][self.region]
        runtime.results.pop(name, None)
        runtime.results_queue.insert(
            0, (behaviour.body, behaviour.content_type, endpoint_variant(endpoint), "")
        )

    # --- helpers -------------------------------------------------------------------

    def _backend(self) -> Any:
        return sagemaker_backends[self.account_id][self.region]

    def _cloudwatch(self) -> Any:
        return cloudwatch_backends[self.account_id][self.region]

    def _arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{name}"

    def _package_of(self, config_name: str) -> str | None:
        backend = self._backend()
        config = backend.endpoint_configs.get(config_name)
        if config is None or not config.production_variants:
            return None
        model = backend._models.get(config.production_variants[0].get("ModelName"))
        if model is None:
            return None
        for container in [*model.containers, model.primary_container or {}]:
            arn = container.get("ModelPackageName")
            if arn:
                return str(arn)
        return None

    def _record(self, endpoint: str, what: str, detail: str, at: datetime | None = None) -> None:
        self.events.append(
            EndpointEvent(at=at or self.clock.now(), endpoint=endpoint, what=what, detail=detail)
        )


def _virtual_time(stamp: datetime | None, now: datetime) -> datetime | None:
    """An alarm's StateUpdatedTimestamp if it is on the virtual clock (the emulation and
    the API hooks stamp it so); None for one moto stamped with the wall clock, which the
    guardrail then takes as "in ALARM since before the update" (the stricter reading)."""
    if stamp is None or stamp.tzinfo is None or stamp > now:
        return None
    return stamp


def endpoint_variant(endpoint: Any) -> str:
    variants = endpoint.production_variants or [{}]
    return str(variants[0].get("VariantName", "AllTraffic"))


def _traffic_plan(deployment: dict[str, Any]) -> tuple[list[int], int]:
    """Baking periods (seconds) after each traffic shift, and the termination wait."""
    if "RollingUpdatePolicy" in deployment:
        raise _validation("UpdateEndpoint", "RollingUpdatePolicy is not emulated.")
    policy = deployment.get("BlueGreenUpdatePolicy")
    if not isinstance(policy, dict):
        raise _validation("UpdateEndpoint", "DeploymentConfig.BlueGreenUpdatePolicy is required.")
    routing = policy.get("TrafficRoutingConfiguration", {})
    kind = routing.get("Type")
    wait = _bounded(routing, "WaitIntervalInSeconds", 0, 3600)
    termination = _bounded(policy, "TerminationWaitInSeconds", 0, 3600, default=0)
    _bounded(policy, "MaximumExecutionTimeoutInSeconds", 600, 28800, default=3600)
    alarms = deployment.get("AutoRollbackConfiguration", {}).get("Alarms")
    if alarms is not None and not 1 <= len(alarms) <= 10:
        raise _validation("UpdateEndpoint", "AutoRollbackConfiguration.Alarms: 1 to 10 alarms.")
    if kind == contract.ROLLOUT_ALL_AT_ONCE:
        return [wait], termination
    if kind == contract.ROLLOUT_CANARY:
        size = routing.get("CanarySize", {})
        if size.get("Type") == contract.CAPACITY_PERCENT and not 1 <= size.get("Value", 0) <= 50:
            raise _validation(
                "UpdateEndpoint", "CanarySize must be at most 50% of the variant's capacity."
            )
        return [wait, wait], termination
    if kind == contract.ROLLOUT_LINEAR:
        step = routing.get("LinearStepSize", {})
        value = int(step.get("Value", 0))
        if step.get("Type") == contract.CAPACITY_PERCENT and not 10 <= value <= 50:
            raise _validation(
                "UpdateEndpoint", "LinearStepSize must be 10-50% of the variant's capacity."
            )
        steps = -(-100 // value) if step.get("Type") == contract.CAPACITY_PERCENT else 2
        return [wait] * steps, termination
    raise _validation("UpdateEndpoint", f"TrafficRoutingConfiguration.Type {kind!r} is not valid.")


def _bounded(raw: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise _validation("UpdateEndpoint", f"{key} must be {low}..{high}, got {value!r}.")
    return value


def _validation(operation: str, message: str) -> ClientError:
    return ClientError(
        _response(
            {
                "Error": {"Code": "ValidationException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        ),
        operation,
    )


def _response(raw: dict[str, Any]) -> Any:
    """An error response as botocore parses one (extra modelled members included)."""
    return raw


class _SageMakerProxy:
    """moto's sagemaker client with the emulated operations put in front."""

    def __init__(self, emulator: EmulatedSageMaker, client: Any) -> None:
        self._emulator = emulator
        self._client = client

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.update_endpoint(**kwargs)

    def create_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.create_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("exceptions", "meta"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._emulator.tick()
            return attribute(*args, **kwargs)

        return call


class _RuntimeProxy:
    def __init__(self, emulator: EmulatedSageMaker, client: Any) -> None:
        self._emulator = emulator
        self._client = client

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.invoke_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
