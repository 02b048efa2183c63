"""The ``greenlight`` context of ``cdk.json``, parsed once into frozen dataclasses.

Every bad value is refused with a :class:`ConfigError` whose message names the key path
and what was expected, e.g.
``greenlight.modelGroups[0].stages[1].rollout.canaryPercent: expected 1..50, got 80``.

This module must not import ``aws_cdk``: the ``greenlight`` CLI reads the same file.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from shared.parameters import Rollout, RolloutType, SmokeTestSpec

CONTEXT_KEY: Final = "greenlight"

REPORTS: Final = ("ModelQuality", "ModelDataQuality", "Bias", "Explainability")
ROLLOUT_TYPES: Final = ("ALL_AT_ONCE", "CANARY", "LINEAR")

# SageMaker's own limits (API_TrafficRoutingConfig, API_BlueGreenUpdatePolicy,
# API_AutoRollbackConfig): refused here so that a typo fails at synth, not mid-rollout.
WAIT_MAX_SECONDS: Final = 3600
EXECUTION_TIMEOUT_RANGE: Final = (600, 28800)
CANARY_PERCENT_RANGE: Final = (1, 50)  # "less than or equal to 50% of the variant"
LINEAR_STEP_PERCENT_RANGE: Final = (10, 50)  # "must be 10-50% of the variant"
MAX_ROLLBACK_ALARMS: Final = 10

# SageMaker's name pattern, with its separate 63-character limit (hyphens count too).
_GROUP_NAME = re.compile(r"^(?=.{1,63}$)[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_STAGE_NAME = re.compile(r"^[a-z0-9](-?[a-z0-9])*$")
# Deploy names an endpoint's models and configs "<endpointName>-v<version>-<6 hex>",
# which must fit SageMaker's 63 characters for versions up to 99999: 63 - 14 = 49.
ENDPOINT_NAME_MAX = 49
_ENDPOINT_NAME = re.compile(rf"^(?=.{{1,{ENDPOINT_NAME_MAX}}}$)[a-z0-9](-*[a-z0-9])*$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# A key ARN, not an alias: an IAM policy that names an alias does not grant use of its key.
_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Endpoint configs and models are named "<endpoint>-<suffix>"; CodePipeline stage names
# are "approve-<stage>", both within the services' 63/100 character limits.
_STAGE_NAME_MAX = 90


class ConfigError(ValueError):
    """A value in the ``greenlight`` context that Greenlight refuses, with its key path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


# The keys each object of the context accepts, in the order the reference lists them.
TOP_KEYS: Final = (
    "notificationEmails",
    "modelGroups",
)
GROUP_KEYS: Final = (
    "name",
    "description",
    "adoptExistingGroup",
    "shareWithAccounts",
    "modelExecutionRoleArn",
    "modelDataBuckets",
    "modelDataKmsKeyArns",
    "retainEndpointsOnDestroy",
    "keepEndpointConfigs",
    "gates",
    "stages",
)
GATES_KEYS: Final = (
    "requiredReports",
    "separationOfDuties",
)
STAGE_KEYS: Final = (
    "name",
    "endpointName",
    "instanceType",
    "instanceCount",
    "rollout",
    "alarms",
    "bakeMinutes",
    "smokeTest",
    "manualApprovalBefore",
)
ROLLOUT_KEYS: Final = (
    "type",
    "canaryPercent",
    "linearStepPercent",
    "waitSeconds",
    "terminationWaitSeconds",
    "maximumExecutionTimeoutSeconds",
)
ALARMS_KEYS: Final = (
    "errorRate5xx",
    "modelLatencyMs",
    "errorRate4xx",
    "evaluationPeriods",
    "datapointsToAlarm",
)
SMOKE_TEST_KEYS: Final = (
    "payload",
    "contentType",
    "accept",
    "expectedContentType",
    "expectedPattern",
    "latencyBudgetMs",
)
#: Where each nested object sits: (parent keys, key in the parent, "[]" if a list of them).
_NESTED: Final = (
    (TOP_KEYS, "modelGroups", "[]", GROUP_KEYS),
    (GROUP_KEYS, "gates", "", GATES_KEYS),
    (GROUP_KEYS, "stages", "[]", STAGE_KEYS),
    (STAGE_KEYS, "rollout", "", ROLLOUT_KEYS),
    (STAGE_KEYS, "alarms", "", ALARMS_KEYS),
    (STAGE_KEYS, "smokeTest", "", SMOKE_TEST_KEYS),
)


def context_keys() -> tuple[str, ...]:
    """Every key the ``greenlight`` context accepts, as a path such as
    ``modelGroups[].stages[].rollout.canaryPercent`` (the configuration reference's rows)."""
    prefixes: dict[tuple[str, ...], str] = {TOP_KEYS: ""}
    for parent, key, suffix, child in _NESTED:
        prefixes[child] = f"{prefixes[parent]}{key}{suffix}."
    return tuple(prefix + key for keys, prefix in prefixes.items() for key in keys)


# --- the model ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Gates:
    required_reports: tuple[str, ...] = ()
    separation_of_duties: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "requiredReports": list(self.required_reports),
                "separationOfDuties": self.separation_of_duties,
            },
            separators=(",", ":"),
            sort_keys=True,
        )


@dataclass(frozen=True, kw_only=True)
class RolloutConfig:
    type: RolloutType
    canary_percent: int | None = None
    linear_step_percent: int | None = None
    wait_seconds: int = 0
    termination_wait_seconds: int = 0
    maximum_execution_timeout_seconds: int = 3600

    def to_parameters(self) -> Rollout:
        """The rollout as the Deploy action's UserParameters carry it."""
        percent = self.canary_percent or self.linear_step_percent or 0
        return Rollout(
            type=self.type,
            percent=percent,
            wait_seconds=self.wait_seconds,
            termination_wait_seconds=self.termination_wait_seconds,
            max_execution_timeout_seconds=self.maximum_execution_timeout_seconds,
        )


@dataclass(frozen=True, kw_only=True)
class AlarmsConfig:
    #: Invocation5XXErrors Average over one minute (a rate, 0 < x <= 1).
    error_rate_5xx: float
    #: ModelLatency threshold in milliseconds (the metric itself is in microseconds).
    model_latency_ms: float
    error_rate_4xx: float | None = None
    evaluation_periods: int = 2
    datapoints_to_alarm: int = 2


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    name: str
    endpoint_name: str
    instance_type: str
    instance_count: int
    rollout: RolloutConfig
    alarms: AlarmsConfig
    bake_minutes: int
    smoke_test: SmokeTestSpec
    manual_approval_before: bool = False


@dataclass(frozen=True, kw_only=True)
class ModelGroupConfig:
    name: str
    description: str
    stages: tuple[StageConfig, ...]
    gates: Gates = field(default_factory=Gates)
    share_with_accounts: tuple[str, ...] = ()
    model_execution_role_arn: str | None = None
    #: What the execution role the stack creates may read (``s3:GetObject``) and decrypt
    #: (``kms:Decrypt``); empty when ``model_execution_role_arn`` names the role.
    model_data_buckets: tuple[str, ...] = ()
    model_data_kms_key_arns: tuple[str, ...] = ()
    retain_endpoints_on_destroy: bool = False
    keep_endpoint_configs: int = 3
    #: The group exists already (made by data scientists, or kept by an earlier stack):
    #: the stack uses it by name instead of creating it.
    adopt_existing_group: bool = False

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    @property
    def endpoint_names(self) -> tuple[str, ...]:
        return tuple(stage.endpoint_name for stage in self.stages)


@dataclass(frozen=True, kw_only=True)
class GreenlightConfig:
    model_groups: tuple[ModelGroupConfig, ...]
    notification_emails: tuple[str, ...] = ()

    def group(self, name: str) -> ModelGroupConfig:
        for group in self.model_groups:
            if group.name == name:
                return group
        raise KeyError(name)


# --- parsing ------------------------------------------------------------------------

T = TypeVar("T")
_MISSING: Final = object()


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Object:
    """One JSON object being read: tracks its path and which keys were consumed."""

    def __init__(self, raw: Any, path: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(path, f"expected an object, got {_describe(raw)}")
        self.raw: dict[str, Any] = raw
        self.path = path
        unknown = [key for key in raw if key not in allowed]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(allowed)
            raise ConfigError(f"{path}.{key}", f"unknown key (known keys: {known}){hint}")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def get(self, key: str, default: Any = _MISSING) -> Any:
        if key not in self.raw:
            if default is _MISSING:
                raise ConfigError(self.at(key), "required, but missing")
            return default
        return self.raw[key]

    def string(
        self,
        key: str,
        *,
        default: Any = _MISSING,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a string",
    ) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        return _string(value, self.at(key), pattern=pattern, expected=expected)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.at(key), f"expected true or false, got {_describe(value)}")
        return value

    def integer(self, key: str, *, low: int, high: int | None, default: Any = _MISSING) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        return _integer(value, self.at(key), low=low, high=high)

    def number(
        self,
        key: str,
        *,
        low: float,
        high: float | None,
        low_inclusive: bool,
        default: Any = _MISSING,
    ) -> Any:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return value
        path = self.at(key)
        bounds = _bounds_text(low, high, low_inclusive=low_inclusive)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected a number {bounds}, got {_describe(value)}")
        too_low = value < low if low_inclusive else value <= low
        if too_low or (high is not None and value > high) or math.isnan(value):
            raise ConfigError(path, f"expected a number {bounds}, got {value!r}")
        return float(value)

    def items(
        self,
        key: str,
        read: Callable[[Any, str], T],
        *,
        default: Any = _MISSING,
        non_empty: bool = False,
    ) -> tuple[T, ...]:
        value = self.get(key, default)
        if value is default and key not in self.raw:
            return tuple(value)
        path = self.at(key)
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {_describe(value)}")
        if non_empty and not value:
            raise ConfigError(path, "expected at least one entry, got an empty list")
        return tuple(read(item, f"{path}[{index}]") for index, item in enumerate(value))


def _bounds_text(low: float, high: float | None, *, low_inclusive: bool) -> str:
    if high is None:
        return f">= {low}" if low_inclusive else f"> {low}"
    if low_inclusive:
        return f"in {low}..{high}"
    return f"with {low} < x <= {high}"


def _string(
    value: Any, path: str, *, pattern: re.Pattern[str] | None = None, expected: str = "a string"
) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, f"expected {expected}, got {_describe(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ConfigError(path, f"expected {expected}, got {json.dumps(value)}")
    if pattern is None and not value.strip():
        raise ConfigError(path, f"expected {expected}, got an empty string")
    return value


def _integer(value: Any, path: str, *, low: int, high: int | None) -> int:
    bounds = f"{low}..{high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, f"expected {bounds}, got {_describe(value)}")
    if value < low or (high is not None and value > high):
        raise ConfigError(path, f"expected {bounds}, got {value}")
    return value


def _rollout(raw: Any, path: str, *, instance_count: int) -> RolloutConfig:
    obj = _Object(raw, path, ROLLOUT_KEYS)
    kind = obj.get("type")
    if kind not in ROLLOUT_TYPES:
        raise ConfigError(
            obj.at("type"), f"expected one of {', '.join(ROLLOUT_TYPES)}, got {_describe(kind)}"
        )
    canary: int | None = None
    step: int | None = None
    if kind == "CANARY":
        canary = obj.integer(
            "canaryPercent", low=CANARY_PERCENT_RANGE[0], high=CANARY_PERCENT_RANGE[1]
        )
    elif "canaryPercent" in obj.raw:
        raise ConfigError(obj.at("canaryPercent"), f"only valid with type CANARY, not {kind}")
    if kind == "LINEAR":
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
    if kind in ("CANARY", "LINEAR") and instance_count < 2:
        # A canary or a linear step must leave the rest of the fleet on the old version:
        # at most 50 % of the variant, so the variant needs at least two instances.
        raise ConfigError(
            obj.at("type"),
            f"{kind} shifts at most 50 % of the variant's instances at a time and needs "
            f"instanceCount >= 2, got {instance_count}",
        )
    steps = 1
    if kind == "CANARY":
        steps = 2
    elif kind == "LINEAR" and step is not None:
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
    obj = _Object(raw, path, ALARMS_KEYS)
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
    obj = _Object(raw, path, SMOKE_TEST_KEYS)
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


def _stage(raw: Any, path: str) -> StageConfig:
    obj = _Object(raw, path, STAGE_KEYS)
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
    )


def _gates(raw: Any, path: str) -> Gates:
    obj = _Object(raw, path, GATES_KEYS)

    def report(value: Any, at: str) -> str:
        if value not in REPORTS:
            raise ConfigError(at, f"expected one of {', '.join(REPORTS)}, got {_describe(value)}")
        return str(value)

    reports = obj.items("requiredReports", report, default=())
    if len(set(reports)) != len(reports):
        raise ConfigError(obj.at("requiredReports"), f"expected no duplicates, got {reports}")
    return Gates(
        required_reports=reports,
        separation_of_duties=obj.boolean("separationOfDuties", False),
    )


def _unique(values: tuple[str, ...], path: str) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise ConfigError(path, f"expected no duplicates, got {value!r} twice")
    return values


def _model_data_access(
    obj: _Object, role_arn: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The buckets and KMS keys the created execution role may read, or none with a
    configured role, which must hold that access itself (SageMaker reads the artifacts and
    pulls the image with the role CreateModel names)."""
    buckets_key, keys_key = "modelDataBuckets", "modelDataKmsKeyArns"
    if role_arn is not None:
        for key in (buckets_key, keys_key):
            if key in obj.raw:
                raise ConfigError(
                    obj.at(key),
                    "cannot be set together with modelExecutionRoleArn: the stack grants "
                    "nothing to a role it does not create; give that role read access to "
                    f"the model data itself and remove {key}",
                )
        return (), ()
    if obj.raw.get(buckets_key, []) == []:
        problem = (
            "required when modelExecutionRoleArn is not set: expected at least one S3 bucket "
            "name, got an empty list"
            if buckets_key in obj.raw
            else "required when modelExecutionRoleArn is not set, but missing"
        )
        raise ConfigError(
            obj.at(buckets_key),
            f"{problem}. Name the buckets that hold this group's model artifacts, so that the "
            "execution role the stack creates may read them (and list their customer managed "
            "KMS keys in modelDataKmsKeyArns if they are encrypted with one), or set "
            "modelExecutionRoleArn to a role that can read them",
        )
    buckets = obj.items(
        buckets_key,
        lambda v, at: _string(v, at, pattern=_BUCKET_NAME, expected="an S3 bucket name"),
    )
    keys = obj.items(
        keys_key,
        lambda v, at: _string(
            v,
            at,
            pattern=_KMS_KEY_ARN,
            expected="a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)",
        ),
        default=(),
    )
    return _unique(buckets, obj.at(buckets_key)), _unique(keys, obj.at(keys_key))


def _group(raw: Any, path: str) -> ModelGroupConfig:
    obj = _Object(raw, path, GROUP_KEYS)
    name = obj.string(
        "name",
        pattern=_GROUP_NAME,
        expected="a model package group name (letters, digits, hyphens; 1-63 characters)",
    )
    role_arn = obj.get("modelExecutionRoleArn", None)
    if role_arn is not None:
        role_arn = _string(
            role_arn,
            obj.at("modelExecutionRoleArn"),
            pattern=_ROLE_ARN,
            expected="an IAM role ARN or null",
        )
    accounts = obj.items(
        "shareWithAccounts",
        lambda v, at: _string(v, at, pattern=_ACCOUNT_ID, expected="a 12-digit account id"),
        default=(),
    )
    buckets, kms_keys = _model_data_access(obj, role_arn)
    adopt = obj.boolean("adoptExistingGroup", False)
    if adopt and accounts:
        # CloudFormation sets a group's resource policy only on a group it creates.
        raise ConfigError(
            obj.at("adoptExistingGroup"),
            "cannot be true together with shareWithAccounts: the stack cannot set the "
            "resource policy of a group it does not create; put the policy on the existing "
            "group (PutModelPackageGroupPolicy) and remove shareWithAccounts",
        )
    stages = obj.items("stages", _stage, non_empty=True)
    seen: dict[str, int] = {}
    for index, stage in enumerate(stages):
        if stage.name in seen:
            raise ConfigError(
                f"{obj.at('stages')}[{index}].name",
                f"expected a stage name unique in the group, got {stage.name!r} "
                f"(also stages[{seen[stage.name]}])",
            )
        seen[stage.name] = index
    if stages[0].manual_approval_before:
        # Nothing has been deployed before the first stage: the approval in the
        # registry is the gate in front of it.
        raise ConfigError(
            f"{obj.at('stages')}[0].manualApprovalBefore",
            "expected false on the first stage (the registry approval already gates it)",
        )
    return ModelGroupConfig(
        name=name,
        description=obj.string("description"),
        stages=stages,
        gates=_gates(obj.get("gates", {}), obj.at("gates")),
        share_with_accounts=accounts,
        model_execution_role_arn=role_arn,
        model_data_buckets=buckets,
        model_data_kms_key_arns=kms_keys,
        retain_endpoints_on_destroy=obj.boolean("retainEndpointsOnDestroy", False),
        keep_endpoint_configs=obj.integer("keepEndpointConfigs", low=1, high=20, default=3),
        adopt_existing_group=adopt,
    )


def parse_config(raw: Any, path: str = CONTEXT_KEY) -> GreenlightConfig:
    """Parse the ``greenlight`` context value; raise :class:`ConfigError` on any bad value."""
    obj = _Object(raw, path, TOP_KEYS)
    emails = obj.items(
        "notificationEmails",
        lambda v, at: _string(v, at, pattern=_EMAIL, expected="an email address"),
        default=(),
    )
    groups = obj.items("modelGroups", _group, non_empty=True)
    group_seen: dict[str, int] = {}
    endpoint_seen: dict[str, str] = {}
    for g_index, group in enumerate(groups):
        if group.name in group_seen:
            raise ConfigError(
                f"{obj.at('modelGroups')}[{g_index}].name",
                f"expected a unique group name, got {group.name!r} "
                f"(also modelGroups[{group_seen[group.name]}])",
            )
        group_seen[group.name] = g_index
        for s_index, stage in enumerate(group.stages):
            here = f"modelGroups[{g_index}].stages[{s_index}]"
            if stage.endpoint_name in endpoint_seen:
                raise ConfigError(
                    f"{path}.{here}.endpointName",
                    f"expected an endpoint name unique across all groups, got "
                    f"{stage.endpoint_name!r} (also {endpoint_seen[stage.endpoint_name]})",
                )
            endpoint_seen[stage.endpoint_name] = here
    return GreenlightConfig(model_groups=groups, notification_emails=emails)


def config_from_context(context: Mapping[str, Any]) -> GreenlightConfig:
    """Parse the ``greenlight`` entry of a CDK context mapping."""
    if CONTEXT_KEY not in context:
        raise ConfigError(CONTEXT_KEY, "required context key, but missing from cdk.json")
    return parse_config(context[CONTEXT_KEY])


def load_config(cdk_json: Path) -> GreenlightConfig:
    """Read ``cdk.json`` and parse its ``greenlight`` context."""
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(str(cdk_json), f"expected a readable JSON file ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(str(cdk_json), "expected a JSON object")
    context = document.get("context", {})
    if not isinstance(context, dict):
        raise ConfigError(f"{cdk_json}.context", "expected an object")
    return config_from_context(context)


__all__ = [
    "AlarmsConfig",
    "ConfigError",
    "Gates",
    "GreenlightConfig",
    "ModelGroupConfig",
    "RolloutConfig",
    "StageConfig",
    "config_from_context",
    "context_keys",
    "load_config",
    "parse_config",
]
