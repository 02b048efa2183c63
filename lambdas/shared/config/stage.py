"""Parsing one stage of a model package group: its endpoint, rollout, alarms and smoke test."""

from __future__ import annotations

import math
import re
from typing import Any, Final

from shared import contract
from shared.config.keys import ALARMS_KEYS, ROLLOUT_KEYS, SMOKE_TEST_KEYS, STAGE_KEYS
from shared.config.model import AlarmsConfig, RolloutConfig, StageConfig
from shared.config.placement import read_account, read_region
from shared.config.reader import ConfigError, JsonObject, describe
from shared.parameters import SmokeTestSpec

# SageMaker's own limits (API_TrafficRoutingConfig, API_BlueGreenUpdatePolicy,
# API_AutoRollbackConfig): refused here so that a typo fails at synth, not mid-rollout.
WAIT_MAX_SECONDS: Final = 3600
EXECUTION_TIMEOUT_RANGE: Final = (600, 28800)
CANARY_PERCENT_RANGE: Final = (1, 50)  # "less than or equal to 50% of the variant"
LINEAR_STEP_PERCENT_RANGE: Final = (10, 50)  # "must be 10-50% of the variant"

_STAGE_NAME = re.compile(r"^[a-z0-9](-?[a-z0-9])*$")
# Deploy names an endpoint's models and configs "<endpointName>-v<version>-<6 hex>",
# which must fit SageMaker's 63 characters for versions up to 99999: 63 - 14 = 49.
ENDPOINT_NAME_MAX = 49
_ENDPOINT_NAME = re.compile(rf"^(?=.{{1,{ENDPOINT_NAME_MAX}}}$)[a-z0-9](-*[a-z0-9])*$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
# Endpoint configs and models are named "<endpoint>-<suffix>"; CodePipeline stage names
# are "approve-<stage>", both within the services' 63/100 character limits.
_STAGE_NAME_MAX = 90


def _rollout(raw: Any, path: str, *, instance_count: int) -> RolloutConfig:
    obj = JsonObject(raw, path, ROLLOUT_KEYS)
    kind = obj.get("type")
    if kind not in contract.ROLLOUT_TYPES:
        raise ConfigError(
            obj.at("type"),
            f"expected one of {', '.join(contract.ROLLOUT_TYPES)}, got {describe(kind)}",
        )
    canary: int | None = None
    step: int | None = None
    if kind == contract.ROLLOUT_CANARY:
        canary = obj.integer(
            "canaryPercent", low=CANARY_PERCENT_RANGE[0], high=CANARY_PERCENT_RANGE[1]
        )
    elif "canaryPercent" in obj.raw:
        raise ConfigError(obj.at("canaryPercent"), f"only valid with type CANARY, not {kind}")
    if kind == contract.ROLLOUT_LINEAR:
        step = obj.integer(
            "linearStepPercent", low=LINEAR_STEP_PERCENT_RANGE[0], high=LINEAR_STEP_PERCENT_RANGE[1]
        )
    elif "linearStepPercent" in obj.raw:
        raise ConfigError(obj.at("linearStepPercent"), f"only valid with type LINEAR, not {kind}")
    wait = obj.integer("waitSeconds", low=0, high=WAIT_MAX_SECONDS, default=0)
    termination = obj.integer("terminationWaitSeconds", low=0, high=WAIT_MAX_SECONDS, default=0)
    timeout = obj.integer(
        "maximumExecutionTimeoutSeconds",
        low=EXECUTION_TIMEOUT_RANGE[0],
        high=EXECUTION_TIMEOUT_RANGE[1],
        default=3600,
    )
    if kind in (contract.ROLLOUT_CANARY, contract.ROLLOUT_LINEAR) and instance_count < 2:
        # A canary or a linear step must leave the rest of the fleet on the old version:
        # at most 50 % of the variant, so the variant needs at least two instances.
        raise ConfigError(
            obj.at("type"),
            f"{kind} shifts at most 50 % of the variant's instances at a time and needs "
            f"instanceCount >= 2, got {instance_count}",
        )
    steps = 1
    if kind == contract.ROLLOUT_CANARY:
        steps = 2
    elif kind == contract.ROLLOUT_LINEAR and step is not None:
        steps = math.ceil(100 / step)
    waits = wait * max(steps - 1, 1) + termination
    if waits >= timeout:
        raise ConfigError(
            obj.at("maximumExecutionTimeoutSeconds"),
            f"expected more than the rollout's waits ({waits} s: {max(steps - 1, 1)} x "
            f"waitSeconds {wait} + terminationWaitSeconds {termination}), got {timeout}",
        )
    return RolloutConfig(
        type=kind,
        canary_percent=canary,
        linear_step_percent=step,
        wait_seconds=wait,
        termination_wait_seconds=termination,
        maximum_execution_timeout_seconds=timeout,
    )


def _alarms(raw: Any, path: str) -> AlarmsConfig:
    obj = JsonObject(raw, path, ALARMS_KEYS)
    error_5xx = obj.number("errorRate5xx", low=0, high=1, low_inclusive=False)
    latency = obj.number("modelLatencyMs", low=0, high=None, low_inclusive=False)
    error_4xx = obj.number("errorRate4xx", low=0, high=1, low_inclusive=False, default=None)
    periods = obj.integer("evaluationPeriods", low=1, high=60, default=2)
    datapoints = obj.integer("datapointsToAlarm", low=1, high=60, default=min(2, periods))
    if datapoints > periods:
        raise ConfigError(
            obj.at("datapointsToAlarm"),
            f"expected at most evaluationPeriods ({periods}), got {datapoints}",
        )
    return AlarmsConfig(
        error_rate_5xx=error_5xx,
        model_latency_ms=latency,
        error_rate_4xx=error_4xx,
        evaluation_periods=periods,
        datapoints_to_alarm=datapoints,
    )


def _smoke_test(raw: Any, path: str) -> SmokeTestSpec:
    obj = JsonObject(raw, path, SMOKE_TEST_KEYS)
    defaults = SmokeTestSpec(payload="")
    payload = obj.string("payload", expected="a non-empty string")
    pattern = obj.string("expectedPattern", default=defaults.expected_pattern)
    try:
        re.compile(pattern)
    except re.error as error:
        raise ConfigError(
            obj.at("expectedPattern"), f"expected a valid regular expression ({error})"
        ) from None
    return SmokeTestSpec(
        payload=payload,
        content_type=obj.string("contentType", default=defaults.content_type),
        accept=obj.string("accept", default=defaults.accept),
        expected_content_type=obj.string(
            "expectedContentType", default=defaults.expected_content_type
        ),
        expected_pattern=pattern,
        latency_budget_ms=obj.integer(
            "latencyBudgetMs", low=1, high=60_000, default=defaults.latency_budget_ms
        ),
    )


def parse_stage(raw: Any, path: str) -> StageConfig:
    obj = JsonObject(raw, path, STAGE_KEYS)
    name = obj.string(
        "name",
        pattern=_STAGE_NAME,
        expected='lowercase letters, digits and single hyphens (e.g. "staging")',
    )
    if len(name) > _STAGE_NAME_MAX:
        raise ConfigError(obj.at("name"), f"expected at most {_STAGE_NAME_MAX} characters")
    endpoint = obj.string(
        "endpointName",
        pattern=_ENDPOINT_NAME,
        expected=f"lowercase letters, digits and hyphens, at most {ENDPOINT_NAME_MAX} characters",
    )
    instance_type = obj.string(
        "instanceType",
        pattern=_INSTANCE_TYPE,
        expected="a SageMaker instance type like ml.m5.large",
    )
    count = obj.integer("instanceCount", low=1, high=None)
    return StageConfig(
        name=name,
        endpoint_name=endpoint,
        instance_type=instance_type,
        instance_count=count,
        rollout=_rollout(obj.get("rollout"), obj.at("rollout"), instance_count=count),
        alarms=_alarms(obj.get("alarms"), obj.at("alarms")),
        bake_minutes=obj.integer("bakeMinutes", low=0, high=120),
        smoke_test=_smoke_test(obj.get("smokeTest"), obj.at("smokeTest")),
        manual_approval_before=obj.boolean("manualApprovalBefore", False),
        account=read_account(obj, "account"),
        region=read_region(obj, "region"),
    )
