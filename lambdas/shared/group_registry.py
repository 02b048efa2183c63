"""The group registry: what the shared trigger and recorder know about each group.

Every group's stack writes one SSM parameter, ``/greenlight/groups/<group>``
(``contract.group_registry_parameter``), holding a :class:`GroupEntry` as JSON. The
functions are shared by all groups, so they read the entry of the group an event is
about, and keep it for at most :data:`MAX_AGE`: updating a group's stack does not
replace the shared functions' warm containers, so a changed entry (new gates, a new
stage) must reach them by being read again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar

from shared import clients, contract
from shared.clock import Clock, current_clock

T = TypeVar("T")

#: How long a warm container trusts an entry it read: a group's changed settings act on
#: the events that arrive this long after its stack update, at the latest.
MAX_AGE: Final = timedelta(seconds=60)


class RegistryError(ValueError):
    """A registry entry that is not what a group's stack writes; names the parameter."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"group registry {parameter}: {problem}")
        self.parameter = parameter


class UnknownGroup(RegistryError):
    """An event of a group the registry does not hold: its stack is not deployed (or is
    being deleted). The event fails, and waits in the dead-letter queue for a replay."""

    def __init__(self, group: str) -> None:
        super().__init__(
            contract.group_registry_parameter(group),
            f"no such parameter: the group {group!r} has no Greenlight stack deployed",
        )
        self.group = group


@dataclass(frozen=True, kw_only=True)
class GroupEntry:
    """One group's settings: its pipeline, its stages in order, and its gates (as the
    ``gates`` object of ``cdk.json``)."""

    group: str
    pipeline_name: str
    stages: tuple[str, ...]
    gates: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "group": self.group,
                "pipelineName": self.pipeline_name,
                "stages": list(self.stages),
                "gates": dict(self.gates),
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, parameter: str, text: str) -> GroupEntry:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise RegistryError(parameter, f"expected JSON ({error})") from None
        if not isinstance(raw, dict):
            raise RegistryError(parameter, f"expected a JSON object, got {raw!r}")
        stages = raw.get("stages")
        if (
            not isinstance(stages, list)
            or not stages
            or not all(isinstance(s, str) for s in stages)
        ):
            raise RegistryError(
                parameter, f"stages: expected a non-empty list of names, got {stages!r}"
            )
        gates = raw.get("gates", {})
        if not isinstance(gates, dict):
            raise RegistryError(parameter, f"gates: expected an object, got {gates!r}")
        return cls(
            group=_text(raw, "group", parameter),
            pipeline_name=_text(raw, "pipelineName", parameter),
            stages=tuple(stages),
            gates=gates,
        )


def _text(raw: Mapping[str, Any], key: str, parameter: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise RegistryError(parameter, f"{key}: expected a non-empty string, got {value!r}")
    return value


class GroupRegistry:
    """Reads entries with ``ssm:GetParameter`` and keeps each for :data:`MAX_AGE`.

    A group with no entry is not a Greenlight group: :meth:`entry` answers None, and
    remembers that only for this call (the group's stack may be deploying right now).
    """

    def __init__(self, *, ssm: Any = None, clock: Clock | None = None) -> None:
        #: An SSM client (typed Any: the project pins no SSM stubs).
        self._ssm = ssm
        self._clock = clock or current_clock()
        self._entries: dict[str, tuple[GroupEntry, datetime]] = {}

    @property
    def ssm(self) -> Any:
        if self._ssm is None:
            self._ssm = clients.client("ssm")
        return self._ssm

    def entry(self, group: str) -> GroupEntry | None:
        now = self._clock.now()
        cached = self._entries.get(group)
        if cached is not None and now - cached[1] < MAX_AGE:
            return cached[0]
        parameter = contract.group_registry_parameter(group)
        try:
            value = self.ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return None
        entry = GroupEntry.from_json(parameter, value)
        if entry.group != group:
            raise RegistryError(parameter, f"group: expected {group!r}, got {entry.group!r}")
        self._entries[group] = (entry, now)
        return entry

    def require(self, group: str) -> GroupEntry:
        """The group's entry; :class:`UnknownGroup` when it has none."""
        entry = self.entry(group)
        if entry is None:
            raise UnknownGroup(group)
        return entry


class PerGroup(Generic[T]):
    """One ``T`` per group (a trigger or a recorder with its clients), built from the
    group's registry entry by ``build`` the first time an event of that group arrives,
    and built again when the entry read afresh has changed."""

    def __init__(
        self, build: Callable[[GroupEntry], T], *, registry: GroupRegistry | None = None
    ) -> None:
        self._build = build
        self._registry = registry or GroupRegistry()
        self._built: dict[str, tuple[GroupEntry, T]] = {}

    def __call__(self, group: str) -> T:
        entry = self._registry.require(group)
        built = self._built.get(group)
        if built is None or built[0] != entry:
            built = (entry, self._build(entry))
            self._built[group] = built
        return built[1]
