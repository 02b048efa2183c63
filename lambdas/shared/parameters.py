"""The ``UserParameters`` each pipeline action receives, as typed values.

The stacks build these from the configuration and serialise them with ``to_json``; the
handlers parse them back with ``from_json``. ``#{variables.ModelPackageArn}`` stays a
literal in the template and CodePipeline resolves it before the action runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from shared import contract

RolloutType = Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]


class InvalidParameters(ValueError):
    """The action's UserParameters are missing a field or hold a bad value."""

    def __init__(self, action: str, field_name: str, problem: str) -> None:
        super().__init__(f"{action} UserParameters.{field_name}: {problem}")
        self.action = action
        self.field_name = field_name


@dataclass(frozen=True, kw_only=True)
class Rollout:
    type: RolloutType
    #: CANARY: percent of the variant's capacity; LINEAR: percent per step.
    percent: int = 0
    wait_seconds: int = 0
    termination_wait_seconds: int = 0
    max_execution_timeout_seconds: int = 3600


@dataclass(frozen=True, kw_only=True)
class ActionTarget:
    """What every stage action acts on: the group's endpoint in one stage and the package
    version the execution carries."""

    group: str
    stage: str
    endpoint_name: str
    model_package_arn: str

    @property
    def has_model_version(self) -> bool:
        return contract.is_model_version(self.model_package_arn)

    def to_json(self) -> str:
        return _dumps(self)


def _target(raw: dict[str, Any], action: str) -> dict[str, Any]:
    """The :class:`ActionTarget` fields of one action's UserParameters."""
    return {
        "group": _require(raw, action, "group", str),
        "stage": _require(raw, action, "stage", str),
        "endpoint_name": _require(raw, action, "endpointName", str),
        "model_package_arn": _require_arn(raw, action),
    }


@dataclass(frozen=True, kw_only=True)
class DeployParameters(ActionTarget):
    instance_type: str
    instance_count: int
    rollout: Rollout
    alarm_names: tuple[str, ...]
    execution_role_arn: str
    keep_configs: int = 3
    variant_name: str = "AllTraffic"

    @classmethod
    def from_json(cls, text: str) -> DeployParameters:
        raw = _loads("Deploy", text)
        rollout = _require(raw, "Deploy", "rollout", dict)
        return cls(
            **_target(raw, "Deploy"),
            instance_type=_require(raw, "Deploy", "instanceType", str),
            instance_count=_require(raw, "Deploy", "instanceCount", int),
            rollout=Rollout(
                type=_require(rollout, "Deploy", "rollout.type", str),
                percent=rollout.get("percent", 0),
                wait_seconds=rollout.get("waitSeconds", 0),
                termination_wait_seconds=rollout.get("terminationWaitSeconds", 0),
                max_execution_timeout_seconds=rollout.get("maxExecutionTimeoutSeconds", 3600),
            ),
            alarm_names=tuple(_require(raw, "Deploy", "alarmNames", list)),
            execution_role_arn=_require(raw, "Deploy", "executionRoleArn", str),
            keep_configs=raw.get("keepConfigs", 3),
            variant_name=raw.get("variantName", "AllTraffic"),
        )


@dataclass(frozen=True, kw_only=True)
class SmokeTestParameters(ActionTarget):
    @classmethod
    def from_json(cls, text: str) -> SmokeTestParameters:
        raw = _loads("SmokeTest", text)
        return cls(
            **_target(raw, "SmokeTest"),
        )


@dataclass(frozen=True, kw_only=True)
class BakeParameters(ActionTarget):
    alarm_names: tuple[str, ...]
    bake_minutes: int

    @classmethod
    def from_json(cls, text: str) -> BakeParameters:
        raw = _loads("Bake", text)
        return cls(
            **_target(raw, "Bake"),
            alarm_names=tuple(_require(raw, "Bake", "alarmNames", list)),
            bake_minutes=_require(raw, "Bake", "bakeMinutes", int),
        )


@dataclass(frozen=True, kw_only=True)
class SmokeTestSpec:
    """One stage's smoke test, as it travels in the source bundle."""

    payload: str
    content_type: str = "text/csv"
    accept: str = "text/csv"
    expected_content_type: str = "text/csv"
    #: A regular expression the whole response body must match.
    expected_pattern: str = r"^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$"
    latency_budget_ms: int = 1000
    extra: dict[str, Any] = field(default_factory=dict)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camelise(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camelise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camelise(v) for v in value]
    return value


def _dumps(params: Any) -> str:
    return json.dumps(_camelise(asdict(params)), separators=(",", ":"), sort_keys=True)


def _loads(action: str, text: str) -> dict[str, Any]:
    try:
        raw = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise InvalidParameters(action, "<root>", f"not JSON ({error})") from None
    if not isinstance(raw, dict):
        raise InvalidParameters(action, "<root>", "expected a JSON object")
    return raw


def _require(raw: dict[str, Any], action: str, key: str, kind: type) -> Any:
    leaf = key.rsplit(".", 1)[-1]
    if leaf not in raw:
        raise InvalidParameters(action, key, "missing")
    value = raw[leaf]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidParameters(action, key, f"expected {kind.__name__}, got {value!r}")
    return value


def _require_arn(raw: dict[str, Any], action: str) -> str:
    """A model package ARN, or :data:`~shared.contract.NO_MODEL_VERSION` for an execution
    that carries none (the action then deploys nothing)."""
    arn: str = _require(raw, action, "modelPackageArn", str)
    if arn != contract.NO_MODEL_VERSION and not contract.is_model_version(arn):
        raise InvalidParameters(
            action, "modelPackageArn", f"expected a model package ARN, got {arn!r}"
        )
    return arn
