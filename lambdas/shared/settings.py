"""What each function of a model package group is told at cold start, read in one place.

A function reads its settings once, when its execution environment starts, and gets
plain values; a missing or bad setting is refused with the variable named
(:class:`~shared.environment.ConfigError`), so the function fails at once instead of on
the first event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from shared import contract
from shared.environment import ConfigError, required, stage_names
from shared.gates import Gates


@dataclass(frozen=True, kw_only=True)
class GroupSettings:
    """What every function of a group is told: where to record and notify, and the
    group's pipeline and deployment stages."""

    ledger_table: str
    topic_arn: str
    group: str
    pipeline_name: str
    stages: tuple[str, ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls(**_group_values(environ))


@dataclass(frozen=True, kw_only=True)
class RecorderConfig(GroupSettings):
    """The recorder's settings: the group's, nothing more."""


@dataclass(frozen=True, kw_only=True)
class TriggerConfig(GroupSettings):
    """The approval trigger's settings: the group's, and its governance gates."""

    gates: Gates = field(default_factory=Gates)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls(**_group_values(environ), gates=gates_from_env(environ))


def _group_values(environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ledger_table": required(environ, contract.ENV_LEDGER_TABLE),
        "topic_arn": required(environ, contract.ENV_TOPIC_ARN),
        "group": required(environ, contract.ENV_GROUP_NAME),
        "pipeline_name": required(environ, contract.ENV_PIPELINE_NAME),
        "stages": stage_names(environ),
    }


def gates_from_env(environ: Mapping[str, str]) -> Gates:
    """The group's governance gates (``GREENLIGHT_GATES``; none when it is unset)."""
    try:
        return Gates.from_json(environ.get(contract.ENV_GATES) or "{}")
    except ValueError as error:
        raise ConfigError(contract.ENV_GATES, str(error)) from None
