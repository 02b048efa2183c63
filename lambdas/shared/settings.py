"""What the shared trigger and recorder know about a model package group, read in one place.

They serve every group: where to record and notify (the ledger table and the topic) is
their own environment, read when the execution environment starts; the group's pipeline,
stages and gates are the group's registry entry (``shared.group_registry``), read the
first time an event of that group arrives. A missing variable is refused with its name
(:class:`~shared.environment.ConfigError`), a bad entry with its parameter's
(:class:`~shared.group_registry.RegistryError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Self

from shared import contract
from shared.environment import required
from shared.gates import Gates
from shared.group_registry import GroupEntry, RegistryError


@dataclass(frozen=True, kw_only=True)
class GroupSettings:
    """What a shared function knows of one group: where to record and notify, and the
    group's pipeline and deployment stages."""

    ledger_table: str
    topic_arn: str
    group: str
    pipeline_name: str
    stages: tuple[str, ...]

    @classmethod
    def for_group(cls, environ: Mapping[str, str], entry: GroupEntry) -> Self:
        """The ledger and topic from the function's environment, the rest from the
        group's registry entry."""
        return cls(
            ledger_table=required(environ, contract.ENV_LEDGER_TABLE),
            topic_arn=required(environ, contract.ENV_TOPIC_ARN),
            group=entry.group,
            pipeline_name=entry.pipeline_name,
            stages=entry.stages,
        )


@dataclass(frozen=True, kw_only=True)
class RecorderConfig(GroupSettings):
    """The recorder's settings: the group's, nothing more."""


@dataclass(frozen=True, kw_only=True)
class TriggerConfig(GroupSettings):
    """The approval trigger's settings: the group's, and its governance gates."""

    gates: Gates = field(default_factory=Gates)

    @classmethod
    def for_group(cls, environ: Mapping[str, str], entry: GroupEntry) -> Self:
        return replace(super().for_group(environ, entry), gates=gates_of(entry))


def gates_of(entry: GroupEntry) -> Gates:
    """The group's governance gates (the ``gates`` object of its entry, as
    :meth:`Gates.to_mapping` writes it); refused with the entry's parameter named."""
    try:
        return Gates.from_mapping(dict(entry.gates))
    except ValueError as error:
        problem = str(error)
        if not problem.startswith("gates."):
            problem = f"gates: {problem}"
        raise RegistryError(contract.group_registry_parameter(entry.group), problem) from None
