"""The emulated SageMaker's endpoint model: how a version behaves, what serves an
endpoint since when, a guardrail rollout's timeline, and UpdateEndpoint's
DeploymentConfig read as AWS validates it (``sagemaker`` holds the module's account of
AWS's behaviour)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from shared import contract
from shared.clock import Clock

METRIC_5XX = "Invocation5XXErrors"


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
class Serving:
    since: datetime
    until: datetime | None = None


@dataclass
class Rollout:
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
class EndpointState:
    serving: dict[str, Serving] = field(default_factory=dict)
    rollout: Rollout | None = None
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


def virtual_time(stamp: datetime | None, now: datetime) -> datetime | None:
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
        raise validation_error("UpdateEndpoint", "RollingUpdatePolicy is not emulated.")
    policy = deployment.get("BlueGreenUpdatePolicy")
    if not isinstance(policy, dict):
        raise validation_error(
            "UpdateEndpoint", "DeploymentConfig.BlueGreenUpdatePolicy is required."
        )
    routing = policy.get("TrafficRoutingConfiguration", {})
    kind = routing.get("Type")
    wait = bounded(routing, "WaitIntervalInSeconds", 0, 3600)
    termination = bounded(policy, "TerminationWaitInSeconds", 0, 3600, default=0)
    bounded(policy, "MaximumExecutionTimeoutInSeconds", 600, 28800, default=3600)
    alarms = deployment.get("AutoRollbackConfiguration", {}).get("Alarms")
    if alarms is not None and not 1 <= len(alarms) <= 10:
        raise validation_error(
            "UpdateEndpoint", "AutoRollbackConfiguration.Alarms: 1 to 10 alarms."
        )
    if kind == contract.ROLLOUT_ALL_AT_ONCE:
        return [wait], termination
    if kind == contract.ROLLOUT_CANARY:
        size = routing.get("CanarySize", {})
        if size.get("Type") == contract.CAPACITY_PERCENT and not 1 <= size.get("Value", 0) <= 50:
            raise validation_error(
                "UpdateEndpoint", "CanarySize must be at most 50% of the variant's capacity."
            )
        return [wait, wait], termination
    if kind == contract.ROLLOUT_LINEAR:
        step = routing.get("LinearStepSize", {})
        value = int(step.get("Value", 0))
        if step.get("Type") == contract.CAPACITY_PERCENT and not 10 <= value <= 50:
            raise validation_error(
                "UpdateEndpoint", "LinearStepSize must be 10-50% of the variant's capacity."
            )
        steps = -(-100 // value) if step.get("Type") == contract.CAPACITY_PERCENT else 2
        return [wait] * steps, termination
    raise validation_error(
        "UpdateEndpoint", f"TrafficRoutingConfiguration.Type {kind!r} is not valid."
    )


def bounded(raw: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise validation_error("UpdateEndpoint", f"{key} must be {low}..{high}, got {value!r}.")
    return value


def validation_error(operation: str, message: str) -> ClientError:
    return ClientError(
        error_response(
            {
                "Error": {"Code": "ValidationException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        ),
        operation,
    )


def error_response(raw: dict[str, Any]) -> Any:
    """An error response as botocore parses one (extra modelled members included)."""
    return raw


def refuse_update(endpoint: Any, arn: str, config: str, config_exists: bool) -> None:
    """UpdateEndpoint's refusals: an unknown or failed endpoint, one not InService, an
    unknown endpoint configuration."""
    if endpoint is None:
        raise validation_error("UpdateEndpoint", f"Could not find endpoint '{arn}'.")
    if endpoint.endpoint_status == contract.ENDPOINT_FAILED:
        raise validation_error(
            "UpdateEndpoint",
            f'Cannot update failed endpoint "{arn}". '
            "DeleteEndpoint is the only operation that can be performed on a failed endpoint.",
        )
    if endpoint.endpoint_status != contract.ENDPOINT_IN_SERVICE:
        raise validation_error("UpdateEndpoint", f'Cannot update in-progress endpoint "{arn}".')
    if not config_exists:
        raise validation_error(
            "UpdateEndpoint", f"Could not find endpoint configuration '{config}'."
        )


def plan_rollout(
    deployment: dict[str, Any],
    *,
    endpoint: str,
    old: tuple[str, str | None],
    new: tuple[str, str | None],
    traffic_at: datetime,
) -> Rollout:
    """The timeline of an update from ``old`` to ``new`` (config, package) whose first
    traffic shift is at ``traffic_at``, as the DeploymentConfig lays it out."""
    steps, termination = _traffic_plan(deployment)
    alarms = tuple(
        a["AlarmName"] for a in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    )
    return Rollout(
        endpoint=endpoint,
        old_config=old[0],
        new_config=new[0],
        old_package=old[1],
        new_package=new[1],
        traffic_at=traffic_at,
        final_shift_at=traffic_at + timedelta(seconds=sum(steps[:-1])),
        completes_at=traffic_at + timedelta(seconds=sum(steps) + termination),
        alarm_names=alarms,
    )


def package_of(backend: Any, config_name: str) -> str | None:
    """The model package behind an endpoint configuration's first variant, if any."""
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


def model_error(runtime_client: Any, package: str | None) -> Exception:
    """InvokeEndpoint's ModelError for a version that fails its requests."""
    error: Exception = runtime_client.exceptions.ModelError(
        error_response(
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
    return error
