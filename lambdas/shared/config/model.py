"""The configuration model: frozen dataclasses built once from the ``greenlight`` context."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import contract
from shared.gates import Gates
from shared.parameters import Rollout, RolloutType, SmokeTestSpec
from shared.stage_access import StageTarget


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
    #: Where the stage's endpoint lives; None: the tooling account (and region).
    account: str | None = None
    region: str | None = None


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

    @property
    def reader_accounts(self) -> tuple[str, ...]:
        """The accounts the group's resource policy lets read its versions and build
        models from them: ``shareWithAccounts`` and every account a stage names."""
        named = (stage.account for stage in self.stages if stage.account is not None)
        return tuple(dict.fromkeys((*self.share_with_accounts, *named)))


@dataclass(frozen=True, kw_only=True)
class GreenlightConfig:
    model_groups: tuple[ModelGroupConfig, ...]
    notification_emails: tuple[str, ...] = ()
    #: Where the Greenlight stacks deploy; required once a stage names an account.
    tooling_account: str | None = None
    tooling_region: str | None = None

    def placement(self, stage: StageConfig) -> tuple[str, str] | None:
        """(account, region) of a stage that runs outside the tooling account and
        region; None for a stage that runs in it."""
        account = stage.account or self.tooling_account
        region = stage.region or self.tooling_region
        if (account, region) == (self.tooling_account, self.tooling_region):
            return None
        return str(account), str(region)

    def stage_target(self, stage: StageConfig, *, reader: bool = False) -> StageTarget:
        """How a function (or, with ``reader``, ``greenlight status``) reaches the stage:
        the target stack's role there; nothing for a stage in the tooling account."""
        placed = self.placement(stage)
        if placed is None:
            return StageTarget()
        account, region = placed
        name = contract.status_reader_role_name if reader else contract.deployment_role_name
        return StageTarget(
            role_arn=contract.role_arn(account, name(region)),
            region="" if region == self.tooling_region else region,
        )

    def remote_execution_role_arn(self, group: ModelGroupConfig, stage: StageConfig) -> str | None:
        """The SageMaker execution role the target stack creates for ``group`` where
        ``stage`` runs; None for a stage in the tooling account (the group's own role)."""
        placed = self.placement(stage)
        if placed is None:
            return None
        account, region = placed
        name = contract.model_execution_role_name(group.name, region)
        return contract.role_arn(account, f"{contract.EXECUTION_ROLE_PATH.strip('/')}/{name}")

    @property
    def target_accounts(self) -> tuple[tuple[str, str], ...]:
        """Every (account, region) some stage runs in, other than the tooling one's."""
        placed = (self.placement(s) for g in self.model_groups for s in g.stages)
        return tuple(dict.fromkeys(p for p in placed if p is not None))

    def group(self, name: str) -> ModelGroupConfig:
        for group in self.model_groups:
            if group.name == name:
                return group
        raise KeyError(name)
